package cli

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
)

// troubleshootingDoc is the page that documents every error fraise prints.
const troubleshootingDoc = "../../docs/troubleshooting.md"

// documentedSQLStates are the SQLSTATEs adviceFor gives advice for, each
// with a server message that gets it. docs/troubleshooting.md must have a
// heading naming each one. The codes are also read from sqlStateAdvices, so
// that one added there without documentation fails this test.
var documentedSQLStates = []struct{ code, message string }{
	{"42P01", `relation "v_users" does not exist`},
	{"42703", `column "data" does not exist`},
	{"42501", "permission denied for view v_secret"},
	{"25006", "cannot execute INSERT in a read-only transaction"},
	{"42601", "cannot insert multiple commands into a prepared statement"},
	{"28P01", `password authentication failed for user "reporter"`},
	{"28000", `role "batch" is not permitted to log in`},
	{"3D000", `database "ap" does not exist`},
	{"57014", "canceling statement due to statement timeout"},
	{"57014", "canceling statement due to user request"},
	{"57P01", "terminating connection due to administrator command"},
	{"57P02", "terminating connection because of crash of another server process"},
	{"57P03", "the database system is starting up"},
	{"57P05", "terminating connection due to idle-session timeout"},
	{"53300", "sorry, too many clients already"},
	{"40001", "canceling statement due to conflict with recovery"},
	{"22023", `invalid snapshot identifier: "00000003-0000001B-1"`},
	{"42704", `snapshot "0000003A-00000012-1" does not exist`},
}

// documentedExitCodes are the exit codes a heading must name ("## Exit 3: …").
var documentedExitCodes = []int{ExitOK, ExitInternal, ExitUsage, ExitConnection, ExitQuery, ExitFilter, ExitOutput, ExitSIGHUP, ExitSIGINT, ExitSIGTERM}

type docSection struct {
	heading string // the heading line's text, without the #s
	level   int
	body    string // the text up to the next heading of any level
}

func readTroubleshooting(t *testing.T) (string, []docSection) {
	t.Helper()
	b, err := os.ReadFile(troubleshootingDoc)
	if err != nil {
		t.Fatalf("the troubleshooting page: %v", err)
	}
	doc := string(b)
	var sections []docSection
	inCode := false
	for line := range strings.Lines(doc) {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if !inCode && strings.HasPrefix(line, "#") {
			level := len(line) - len(strings.TrimLeft(line, "#"))
			if level <= 6 && strings.HasPrefix(line[level:], " ") {
				sections = append(sections, docSection{heading: strings.TrimSpace(line[level:]), level: level})
				continue
			}
		}
		if len(sections) > 0 {
			sections[len(sections)-1].body += line
		}
	}
	if len(sections) == 0 {
		t.Fatalf("%s has no headings", troubleshootingDoc)
	}
	return doc, sections
}

// adviceSQLStates returns the SQLSTATEs sqlStateAdvices advises on.
func adviceSQLStates(t *testing.T) []string {
	t.Helper()
	codes := slices.Sorted(maps.Keys(sqlStateAdvices))
	if len(codes) == 0 {
		t.Fatal("sqlStateAdvices advises on no SQLSTATE")
	}
	return codes
}

func TestTroubleshootingSQLStates(t *testing.T) {
	_, sections := readTroubleshooting(t)
	codes := adviceSQLStates(t)
	var table []string
	for _, s := range documentedSQLStates {
		table = append(table, s.code)
		pe := &wire.PgError{Severity: "ERROR", SeverityNonLocal: "ERROR", Code: s.code, Message: s.message}
		if adviceFor(&wire.QueryError{Step: "execute", Err: pe}) == "" {
			t.Errorf("adviceFor gives no advice for SQLSTATE %s (%q): if that is meant, remove it from documentedSQLStates and from %s", s.code, s.message, troubleshootingDoc)
		}
	}
	for _, c := range codes {
		if !slices.Contains(table, c) {
			t.Errorf("sqlStateAdvices advises on SQLSTATE %s, which documentedSQLStates lacks: add it there, and a section to %s", c, troubleshootingDoc)
		}
	}
	all := slices.Compact(slices.Sorted(slices.Values(append(table, codes...))))
	for _, c := range all {
		var found *docSection
		for i := range sections {
			if strings.Contains(sections[i].heading, c) {
				found = &sections[i]
				break
			}
		}
		if found == nil {
			t.Errorf("%s has no heading naming SQLSTATE %s", troubleshootingDoc, c)
			continue
		}
		if !strings.Contains(found.body, "(SQLSTATE ") {
			t.Errorf("%s: section %q has no sample error (no \"(SQLSTATE …)\" in it)", troubleshootingDoc, found.heading)
		}
	}
}

func TestTroubleshootingExitCodes(t *testing.T) {
	_, sections := readTroubleshooting(t)
	want := []int{0, 1, 2, 3, 4, 5, 6, 129, 130, 143}
	if !slices.Equal(documentedExitCodes, want) {
		t.Fatalf("exit codes %v, the page documents %v: update the page and this test", documentedExitCodes, want)
	}
	for _, code := range documentedExitCodes {
		re := regexp.MustCompile(fmt.Sprintf(`(?i)\bexit %d\b`, code))
		if !slices.ContainsFunc(sections, func(s docSection) bool { return s.level == 2 && re.MatchString(s.heading) }) {
			t.Errorf("%s has no \"## Exit %d…\" heading", troubleshootingDoc, code)
		}
	}
}

// TestTroubleshootingAdvice checks that the page shows fraise's advice as
// fraise prints it, for every advice that does not depend on the error's
// details: a changed wording must be changed in the samples too.
func TestTroubleshootingAdvice(t *testing.T) {
	doc, _ := readTroubleshooting(t)
	pg := func(code, msg string) error {
		return &wire.QueryError{Step: "execute", Err: &wire.PgError{Severity: "ERROR", Code: code, Message: msg}}
	}
	conn := func(step wire.Step) error {
		return &wire.ConnectError{Host: "db:5432", User: "u", Step: step, Err: errors.New("x")}
	}
	errs := map[string]error{
		"row too large":     &wire.QueryError{Err: &wire.RowTooLargeError{Row: 1, Size: 2, Limit: 1}},
		"idle timeout":      &wire.QueryError{Err: &wire.IdleTimeoutError{After: time.Second}},
		"jq row error":      &filter.RowError{Row: 1, Err: errors.New("x")},
		"jq row too deep":   &filter.RowError{Row: 1, Err: &filter.DepthError{Offset: 1, Limit: 1}},
		"jq compile error":  &filter.CompileError{Expr: ".", Offset: -1, Err: errors.New("x")},
		"column type":       &wire.QueryError{Err: &wire.ColumnError{Columns: []string{`"data" of type integer`}}},
		"stdout write":      &output.WriteError{Err: errors.New("x")},
		"connection lost":   &wire.ConnLostError{Err: errors.New("unexpected EOF")},
		"dial":              conn(wire.StepDial),
		"TLS":               conn(wire.StepTLS),
		"certificate":       conn(wire.StepVerify),
		"session check":     conn(wire.StepCheck),
		"multiple commands": pg("42601", "cannot insert multiple commands into a prepared statement"),
		"parallel, no room": &parallelError{connection: true, msg: "the server has room for 2 more connections (max_connections), and --parallel 4 needs 4 besides this one",
			hint: parallelRoomHint(2)},
		"parallel, no export":   &parallelError{msg: "the server could not export a snapshot for the other connections", err: pg("0A000", "x"), hint: exportHint},
		"resume key":            &wire.QueryError{Err: &resumeKeyError{row: 2, key: []string{"18"}}},
		"parallel, connections": &parallelError{msg: "1 of the 4 connections of --parallel could not be opened", err: conn(wire.StepStartup), hint: connectionsHint},
		"password refused": &wire.ConnectError{Host: "db:5432", User: "u", Step: wire.StepAuth,
			Err: &wire.PasswordRefusedError{Err: &wire.PgError{Severity: "FATAL", Code: "28P01", Message: "x"}, From: "PGPASSWORD"}},
	}
	for _, s := range documentedSQLStates {
		errs[s.code+" "+s.message] = pg(s.code, s.message)
	}
	for what, err := range errs {
		advice := adviceFor(err)
		if advice == "" {
			t.Errorf("%s: adviceFor gives no advice; update this test", what)
			continue
		}
		if !strings.Contains(doc, "hint: "+advice+"\n") {
			t.Errorf("%s: %s has no sample ending in fraise's advice:\n\thint: %s", what, troubleshootingDoc, advice)
		}
	}
}

// TestTroubleshootingLinks checks that every link to a heading of the page
// (the table at the top, the cross references) leads to one.
func TestTroubleshootingLinks(t *testing.T) {
	doc, sections := readTroubleshooting(t)
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, s := range sections {
		a := githubAnchor(s.heading)
		if n := seen[a]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	links := regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(doc, -1)
	if len(links) == 0 {
		t.Fatalf("%s links to none of its sections; the table at the top should", troubleshootingDoc)
	}
	for _, l := range links {
		if !anchors[l[1]] {
			t.Errorf("%s: link #%s leads to no heading", troubleshootingDoc, l[1])
		}
	}
	for _, code := range documentedExitCodes {
		// A row may list several codes: "| 129, 130, 143 | …".
		re := regexp.MustCompile(fmt.Sprintf(`(?m)^\| (\d+, )*%d\b.*\]\(#exit-`, code))
		if !re.MatchString(doc) {
			t.Errorf("%s: the table at the top has no row linking exit code %d to its section", troubleshootingDoc, code)
		}
	}
}

// githubAnchor returns the fragment GitHub gives a heading: lower case,
// punctuation but - and _ dropped, spaces turned into hyphens.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
