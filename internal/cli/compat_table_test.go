package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// compatDoc is the compatibility table this test keeps true.
const compatDoc = "../../docs/compatibility.md"

// compatColumns are the table's checked columns, each probed against the
// server (or pooler) the tests run on.
var compatColumns = []struct {
	header string
	probe  func(t *testing.T, srv, tlsSrv *pgtest.Server) string
}{
	{"killed client's query stops", probeClientCheck},
	{"direct TLS", probeDirectTLS},
	{"SCRAM channel binding", probeChannelBinding},
	{"wrong password", probeWrongPassword},
	{"large-object writes in --where", probeLargeObjects},
}

// TestCompatibilityTable checks docs/compatibility.md's row for the server
// the tests run against — "PostgreSQL <major>", or "PgBouncer <mode>" when
// they run through a pooler (make compat runs every major and pooler) —
// against what fraise meets there, so that the table cannot drift.
func TestCompatibilityTable(t *testing.T) {
	srv := pgtest.Require(t)
	tlsSrv := pgtest.RequireTLS(t)
	headers, rows, err := readCompatTable(compatDoc)
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("PostgreSQL %d", srv.Major)
	if srv.Pooler != nil {
		key = "PgBouncer " + srv.Pooler.Mode
	}
	row, ok := rows[key]
	if !ok {
		t.Fatalf("%s has no row %q: add one (make compat checks it)", compatDoc, key)
	}
	for _, col := range compatColumns {
		i := indexOf(headers, col.header)
		if i < 0 {
			t.Fatalf("%s has no column %q", compatDoc, col.header)
		}
		if got, want := col.probe(t, srv, tlsSrv), row[i]; !strings.HasPrefix(want, got) {
			t.Errorf("%s, %q: fraise meets %q, the table says %q", key, col.header, got, want)
		}
	}
}

// readCompatTable reads the first table of path: its headers, and its rows
// by their first cell.
func readCompatTable(path string) ([]string, map[string][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var headers []string
	rows := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "|") {
			if headers != nil {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case headers == nil:
			headers = cells
		case strings.HasPrefix(cells[0], "---"):
		default:
			rows[strings.Trim(cells[0], "*")] = cells
		}
	}
	if headers == nil {
		return nil, nil, fmt.Errorf("%s: no table", path)
	}
	return headers, rows, nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// probeClientCheck: whether fraise's transaction runs with
// client_connection_check_interval (PostgreSQL 14+), which stops a
// killed client's query.
func probeClientCheck(t *testing.T, srv, _ *pgtest.Server) string {
	code, out, stderr := run(t, "stream", "v_user", "--limit", "1", "-d", srv.ConnString(pgtest.RoleTrust, false),
		"--where", "current_setting('client_connection_check_interval', true) = '1s'")
	if code != 0 {
		t.Fatalf("probing client_connection_check_interval: exit %d: %s", code, stderr)
	}
	return map[bool]string{true: "yes", false: "no"}[out != ""]
}

// probeDirectTLS: whether the server takes TLS without the SSLRequest
// (sslnegotiation=direct, PostgreSQL 17+).
func probeDirectTLS(t *testing.T, _, tlsSrv *pgtest.Server) string {
	dsn := tlsSrv.ConnString(pgtest.RoleTrust, true) + " sslmode=require sslnegotiation=direct"
	code, _, stderr := run(t, "ping", "--count", "1", "-d", dsn)
	if code != 0 && code != 3 {
		t.Fatalf("ping with direct TLS: exit %d: %s", code, stderr)
	}
	return map[bool]string{true: "yes", false: "no"}[code == 0]
}

// probeChannelBinding: whether SCRAM over TLS binds to the channel
// (SCRAM-SHA-256-PLUS).
func probeChannelBinding(t *testing.T, _, tlsSrv *pgtest.Server) string {
	dsn := tlsSrv.URL(pgtest.RoleSCRAM, true) + "?sslmode=require"
	code, out, stderr := run(t, "ping", "--count", "1", "--json", "-d", dsn)
	if code != 0 {
		t.Fatalf("ping over TLS with SCRAM: exit %d: %s", code, stderr)
	}
	var r struct {
		ChannelBinding bool `json:"channel_binding"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("ping --json: %v: %s", err, out)
	}
	return map[bool]string{true: "yes", false: "no"}[r.ChannelBinding]
}

// probeWrongPassword: the SQLSTATE a wrong SCRAM password is refused with,
// which must still be exit 3 with the password hint.
func probeWrongPassword(t *testing.T, srv, _ *pgtest.Server) string {
	dsn := strings.Replace(srv.URL(pgtest.RoleSCRAM, false), "fraise_scram@", "fraise_scram:wrong@", 1)
	code, _, stderr := run(t, "ping", "--count", "1", "-d", dsn)
	if code != 3 || !strings.Contains(stderr, "hint: check the password") {
		t.Errorf("wrong password: exit %d, want 3 with the password hint: %s", code, stderr)
	}
	m := regexp.MustCompile(`SQLSTATE (\w{5})`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("wrong password: no SQLSTATE in %q", stderr)
	}
	return m[1]
}

// probeLargeObjects: what becomes of a large-object write in --where in
// fraise's READ ONLY transaction: allowed and undone by its ROLLBACK
// (before 16), or refused by the server (16 and later).
func probeLargeObjects(t *testing.T, srv, _ *pgtest.Server) string {
	code, _, stderr := run(t, "stream", "v_user", "--limit", "1", "-d", srv.ConnString(pgtest.RoleTrust, false),
		"--where", "lo_creat(-1) > 0")
	switch {
	case code == 0:
		return "rolled back"
	case code == 4 && strings.Contains(stderr, "SQLSTATE 25006"):
		return "refused (25006)"
	}
	t.Fatalf("lo_creat in --where: exit %d: %s", code, stderr)
	return ""
}
