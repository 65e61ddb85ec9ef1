package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// eachFlag calls fn with every command of fraise and each flag it
// declares (the root's persistent ones with the root).
func eachFlag(fn func(cmd *cobra.Command, f *pflag.Flag)) {
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		cmd.NonInheritedFlags().VisitAll(func(f *pflag.Flag) { fn(cmd, f) })
		for _, c := range cmd.Commands() {
			walk(c)
		}
	}
	walk(newRootCmd(&app{stdout: io.Discard, stderr: io.Discard}))
}

// TestEveryFlagCompletes: every flag's value completes, through cobra's
// machinery, but those that name a file, which the shell completes: a
// flag added later does not fall back to file names unseen.
func TestEveryFlagCompletes(t *testing.T) {
	n := 0
	eachFlag(func(cmd *cobra.Command, f *pflag.Flag) {
		n++
		_, has := cmd.GetFlagCompletionFunc(f.Name)
		if file := slices.Contains(fileFlags, f.Name); has == file {
			t.Errorf("%s --%s: completion function %t, names a file %t", cmd.Name(), f.Name, has, file)
		}
	})
	if n < 40 {
		t.Fatalf("saw %d flags; the walk missed commands", n)
	}
}

// TestChoicesInHelp: each value a flag offers is named in its help, with
// a description; each flag with values exists.
func TestChoicesInHelp(t *testing.T) {
	seen := map[string]bool{}
	eachFlag(func(cmd *cobra.Command, f *pflag.Flag) {
		for _, c := range choicesOf(f.Name) {
			seen[f.Name] = true
			// --resume's help shows --resume[=continue].
			if !regexp.MustCompile(`\b`+c.value+`\b`).MatchString(f.Usage) && c.value != f.NoOptDefVal {
				t.Errorf("%s --%s: %q is not in the help %q", cmd.Name(), f.Name, c.value, f.Usage)
			}
			if c.desc == "" {
				t.Errorf("--%s %s has no description", f.Name, c.value)
			}
		}
	})
	for flag := range fixedChoices {
		if !seen[flag] {
			t.Errorf("fixedChoices has %q, which is no flag", flag)
		}
	}
	if !seen["compress"] {
		t.Error("--compress offers no values")
	}
}

// TestChoicesAccepted: each value completion offers is one a run takes,
// and one it does not take is a usage error listing them: the check and
// the completion read the one list.
func TestChoicesAccepted(t *testing.T) {
	clearPGEnv(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	read := map[string]func(s *settings) error{
		"format":      func(s *settings) error { _, err := parseOutput(s, false); return err },
		"compress":    func(s *settings) error { _, err := parseOutput(s, false); return err },
		"progress":    func(s *settings) error { _, err := parseObserve(s, false, io.Discard, io.Discard); return err },
		"log-format":  func(s *settings) error { _, err := parseObserve(s, false, io.Discard, io.Discard); return err },
		"on-jq-error": func(s *settings) error { _, err := compileJQ(s, io.Discard); return err },
		"resume": func(s *settings) error {
			o := &streamOptions{out: outputSettings{path: "out.ndjson"}, conn: &wire.Config{}}
			o.spec.OrderBy, o.spec.Limit = "id", -1
			_, err := parseResume(s, o)
			return err
		},
	}
	stream := newStreamCmd(&app{stdout: io.Discard, stderr: io.Discard})
	for flag, readFn := range read {
		values := append([]string{"bogus"}, choiceValues(flag)...)
		for i, v := range values {
			s, err := resolveSettings(stream, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.vals["jq"] = setting{value: ".", from: fromFlag}
			s.vals[flag] = setting{value: v, from: fromFlag}
			err = readFn(s)
			if ok := i > 0; (err == nil) != ok {
				t.Errorf("--%s %s: error %v", flag, v, err)
			}
		}
	}
	for flag := range fixedChoices {
		if read[flag] == nil {
			t.Errorf("--%s: no check of its values here", flag)
		}
	}
}

func choiceValues(flag string) []string {
	var vals []string
	for _, c := range choicesOf(flag) {
		vals = append(vals, c.value)
	}
	return vals
}

func TestColumnOffers(t *testing.T) {
	cols := []columnInfo{
		{name: "id", sql: "id", typ: "integer"},
		{name: "data", sql: "data", typ: "jsonb", json: "jsonb"},
		{name: "doc", sql: "doc", typ: "jdoc", json: "jsonb"},
		{name: "Odd", sql: `"Odd"`, typ: "json", json: "json"},
		{name: "order", sql: `"order"`, typ: "text"},
	}
	tests := []struct {
		name  string
		offer func(columnInfo, string) string
		typed string
		want  []string
	}{
		{"column", offerJSONColumn, "", []string{"data", "doc", `"Odd"`}},
		{"column d", offerJSONColumn, "d", []string{"data", "doc"}},
		{"column quote", offerJSONColumn, `"`, []string{`"Odd"`}},
		{"column none", offerJSONColumn, "i", nil},
		{"split-by", offerColumn, "", []string{"id", "data", "doc", `"Odd"`, `"order"`}},
		{"split-by quote", offerColumn, `"o`, []string{`"order"`}},
		{"order-by", offerOrderItem, "d", []string{"data", "doc"}},
		{"order-by list", offerOrderItem, "id DESC, d", []string{"id DESC, data", "id DESC, doc"}},
		{"order-by comma", offerOrderItem, "id,", []string{"id,id", "id,data", "id,doc", `id,"Odd"`, `id,"order"`}},
		{"order-by in a call", offerOrderItem, "lower(d", nil},
		{"order-by after a tab", offerOrderItem, "id,\td", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range cols {
				if v := tt.offer(c, tt.typed); v != "" {
					got = append(got, v)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("offered %q for %q, want %q", got, tt.typed, tt.want)
			}
		})
	}
	if d := cols[2].describe(); d != "jsonb (domain jdoc)" {
		t.Errorf("a domain's description is %q", d)
	}
}

// TestCompletionGivesUp: a server that accepts the connection and then
// says nothing is given up on, for RELATION and for the flags that ask
// the server: the shell gets no completions and no message. (Without the
// limit the completion would wait for ever, and the test with it.)
func TestCompletionGivesUp(t *testing.T) {
	clearPGEnv(t)
	old := completionTimeout
	completionTimeout = 300 * time.Millisecond
	t.Cleanup(func() { completionTimeout = old })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c // held open, never answered
		}
	}()
	dsn := "host=127.0.0.1 port=" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + " sslmode=disable"
	for i, words := range [][]string{{"v_"}, {"t", "--column", ""}, {"t", "--order-by", ""}, {"t", "--split-by", ""}} {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), append([]string{"__complete", "stream", "-d", dsn}, words...), &stdout, &stderr)
		if code != 0 || stdout.String() != ":4\n" || stderr.String() != "Completion ended with directive: ShellCompDirectiveNoFileComp\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0, only the directive", words, code, stdout.String(), stderr.String())
		}
		if i == 0 {
			select {
			case c := <-accepted:
				defer c.Close()
			case <-time.After(10 * time.Second):
				t.Fatal("the completion never connected")
			}
		}
	}
}
