package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

// parallelFixtures are the relations the --parallel tests read: keys of
// every kind (indexed integer, skewed with duplicates and NULLs, text,
// timestamp, numeric), a view without an id column, and a json column
// with values spread over lines.
const parallelFixtures = `
DROP VIEW IF EXISTS v_par_items, v_par_nokey, v_par_json, v_par_accounts CASCADE;
DROP TABLE IF EXISTS par_items, par_json, par_accounts, par_big CASCADE;
DROP PROCEDURE IF EXISTS par_transfers(int);
CREATE TABLE par_items (id int PRIMARY KEY, k int, t text, ts timestamptz, n numeric, data jsonb NOT NULL);
INSERT INTO par_items
SELECT g,
       CASE WHEN g % 10 = 0 THEN NULL WHEN g % 3 = 0 THEN 7 ELSE g % 500 END,
       'name-' || lpad((g * 7919 % 20000)::text, 6, '0') || CASE WHEN g % 5 = 0 THEN ' Ä' ELSE '' END,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '13 minutes 7 seconds',
       (g % 997) / 7.0,
       jsonb_build_object('id', g, 'k', g % 500, 'name', 'Zoë ' || g, 'pad', repeat('x', g % 50))
FROM generate_series(1, 20000) g;
CREATE INDEX ON par_items (k);
CREATE INDEX ON par_items (t);
CREATE INDEX ON par_items (ts);
ANALYZE par_items;
CREATE VIEW v_par_items AS SELECT id, k, t, ts, n, data FROM par_items;
CREATE VIEW v_par_nokey AS SELECT data FROM par_items;
CREATE TABLE par_json (id int PRIMARY KEY, data json);
INSERT INTO par_json SELECT g, ('{"id": ' || g || E',\n "s": "a\\tb",\r\n "n": ' || g * 2 || '}')::json FROM generate_series(1, 3000) g;
INSERT INTO par_json VALUES (3001, NULL);
CREATE VIEW v_par_json AS SELECT id, data FROM par_json;
CREATE TABLE par_big (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO par_big SELECT g, jsonb_build_object('id', g, 'pad', repeat(md5(g::text), CASE WHEN g % 8 = 0 THEN 80000 ELSE 6000 END))
FROM generate_series(1, 24) g;
CREATE TABLE par_accounts (id int PRIMARY KEY, balance int NOT NULL);
INSERT INTO par_accounts SELECT g, 1000 FROM generate_series(1, 2000) g;
CREATE VIEW v_par_accounts AS SELECT id, jsonb_build_object('id', id, 'balance', balance) AS data FROM par_accounts;
CREATE PROCEDURE par_transfers(n int) LANGUAGE plpgsql AS $$
DECLARE a int; b int;
BEGIN
  FOR i IN 1..n LOOP
    a := 1 + floor(random() * 2000)::int;
    b := 1 + (a + 999) % 2000;
    UPDATE par_accounts SET balance = balance - 1 WHERE id = a;
    UPDATE par_accounts SET balance = balance + 1 WHERE id = b;
    COMMIT;
  END LOOP;
END $$;
GRANT SELECT ON par_big, par_items, par_json, par_accounts, v_par_items, v_par_nokey, v_par_json, v_par_accounts TO PUBLIC;
`

var parallelOnce sync.Once

// parallelServer is the shared server with the --parallel fixtures.
func parallelServer(t *testing.T) *pgtest.Server {
	t.Helper()
	srv := pgtest.Require(t)
	var err error
	parallelOnce.Do(func() { _, err = srv.Psql(context.Background(), parallelFixtures) })
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestParallelSameBytes: for every shape of key and option, --parallel N
// writes exactly the bytes one connection writes, and really splits.
func TestParallelSameBytes(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"integer key", []string{"v_par_items", "--order-by", "id"}},
		{"integer key, descending", []string{"v_par_items", "--order-by", "id DESC"}},
		{"skewed key with duplicates and NULLs", []string{"v_par_items", "--split-by", "k", "--order-by", "k, id"}},
		{"NULL keys first", []string{"v_par_items", "--split-by", "k", "--order-by", "k NULLS FIRST, id"}},
		{"descending, NULL keys last", []string{"v_par_items", "--split-by", "k", "--order-by", "k DESC NULLS LAST, id"}},
		{"text key, cut at its histogram", []string{"v_par_items", "--order-by", "t"}},
		{"timestamp key", []string{"v_par_items", "--order-by", "ts"}},
		{"numeric key", []string{"v_par_items", "--split-by", "n", "--order-by", "n, id"}},
		{"expression key on a view without a key column", []string{"v_par_nokey", "--order-by", "(data->>'id')::int"}},
		{"--jq", []string{"v_par_items", "--order-by", "id", "--jq", "{id, k}"}},
		{"--jq dropping rows", []string{"v_par_items", "--order-by", "id", "--jq", "select(.id % 3 == 0) | .id"}},
		{"--where and --param", []string{"v_par_items", "--order-by", "id", "--where", "k > $1", "--param", "100"}},
		{"empty ranges", []string{"v_par_items", "--order-by", "id", "--where", "id < 50 OR id > 19950"}},
		{"nothing at all", []string{"v_par_items", "--order-by", "id", "--where", "false"}},
		{"json values over several lines, and NULL", []string{"v_par_json", "--order-by", "id"}},
		{"--format json", []string{"v_par_items", "--order-by", "id", "--format", "json"}},
		{"rows larger than the write buffer and than a range's memory", []string{"par_big", "--order-by", "id"}},
		{"large rows through --jq, as an array", []string{"par_big", "--order-by", "id DESC", "--jq", "{id, n: (.pad | length)}", "--format", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"stream", "-d", dsn}, tc.args...)
			code, want, stderr := run(t, append(args, "--parallel", "1")...)
			if code != 0 {
				t.Fatalf("one connection: exit %d, stderr %q", code, stderr)
			}
			for _, n := range []string{"2", "3", "4"} {
				code, got, stderr := run(t, append(args, "--parallel", n, "--stats")...)
				if code != 0 {
					t.Fatalf("--parallel %s: exit %d, stderr %q", n, code, stderr)
				}
				if got != want {
					t.Fatalf("--parallel %s: %d bytes, %d lines; one connection: %d bytes, %d lines; first difference at byte %d",
						n, len(got), strings.Count(got, "\n"), len(want), strings.Count(want, "\n"), firstDiff(got, want))
				}
				if want != "" {
					checkSplit(t, stderr, n)
				}
			}
		})
	}
}

// checkSplit checks that --stats says the run was split into more ranges
// than connections.
func checkSplit(t *testing.T, stderr, n string) {
	t.Helper()
	var line struct {
		Parallel *struct {
			Connections int    `json:"connections"`
			Ranges      int    `json:"ranges"`
			SplitFrom   string `json:"split_from"`
		} `json:"parallel"`
	}
	if err := json.Unmarshal([]byte(stderr), &line); err != nil || line.Parallel == nil {
		t.Fatalf("--stats %q: no parallel object (%v)", stderr, err)
	}
	if fmt.Sprint(line.Parallel.Connections) != n || line.Parallel.Ranges <= line.Parallel.Connections {
		t.Errorf("--parallel %s: %d connections, %d ranges (%s); want %s connections and more ranges", n,
			line.Parallel.Connections, line.Parallel.Ranges, line.Parallel.SplitFrom, n)
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestParallelWithoutOrder: without --order-by the rows come in some
// order a single connection could give: the same rows, and by default
// split by the id column.
func TestParallelWithoutOrder(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	code, want, stderr := run(t, "stream", "v_par_items", "-d", dsn)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, extra := range [][]string{nil, {"--split-by", "ts"}} {
		code, got, stderr := run(t, append([]string{"stream", "v_par_items", "-d", dsn, "--parallel", "3", "--stats"}, extra...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", extra, code, stderr)
		}
		if !sameLines(got, want) {
			t.Errorf("%v: the rows differ from one connection's", extra)
		}
		checkSplit(t, stderr, "3")
	}
}

func sameLines(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	slices.Sort(la)
	slices.Sort(lb)
	return slices.Equal(la, lb)
}

// TestParallelRefusals: what --parallel cannot do is refused before
// connecting (exit 2), or, for a relation without the default key, once
// connected, saying what to give instead.
func TestParallelRefusals(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"--limit", []string{"v_par_items", "--parallel", "2", "--limit", "5"}, "--limit and --offset cannot be split"},
		{"--offset", []string{"v_par_items", "--parallel", "2", "--offset", "5"}, "--limit and --offset cannot be split"},
		{"--split-by alone", []string{"v_par_items", "--split-by", "id"}, "--split-by applies to a parallel run: give --parallel N"},
		{"--parallel 0", []string{"v_par_items", "--parallel", "0"}, "--parallel must be between 1 and 64"},
		{"--parallel 65", []string{"v_par_items", "--parallel", "65"}, "--parallel must be between 1 and 64"},
		{"several order expressions", []string{"v_par_items", "--parallel", "2", "--order-by", "k, id"}, "give --split-by with its first one"},
		{"key not first in order", []string{"v_par_items", "--parallel", "2", "--order-by", "k, id", "--split-by", "id"}, "must be the first expression of --order-by"},
		{"USING", []string{"v_par_items", "--parallel", "2", "--order-by", "id USING >"}, "sorts with USING"},
		{"no id column", []string{"v_par_nokey", "--parallel", "2"}, "has no column named id: give --split-by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkRefused(t, 2, append([]string{"stream", "-d", dsn}, tc.args...), tc.want)
		})
	}
}

// TestParallelFailureEndsEverySession: a range that fails on the server
// fails the run (exit 4, the server's error), and no session of it is
// left on the server.
func TestParallelFailureEndsEverySession(t *testing.T) {
	srv := parallelServer(t)
	const app = "fraise-test-parallel-failure"
	dsn := srv.ConnString(pgtest.RoleTrust, false) + " application_name=" + app
	var stdout bytes.Buffer
	code, stderr := runGuarded(t, &stdout, "stream", "v_par_items", "-d", dsn, "--parallel", "3", "--order-by", "id",
		"--where", "1 / (id - 15000) IS NOT NULL")
	if code != 4 || !strings.Contains(stderr, "division by zero") {
		t.Errorf("exit %d, stderr %q; want exit 4 and the server's error", code, stderr)
	}
	checkLines(t, stdout.String())
	awaitLeftNothing(t, srv, app)
}

// TestParallelReaderGone: a reader that goes away ends the run at once,
// quietly, and every session with it.
func TestParallelReaderGone(t *testing.T) {
	srv := parallelServer(t)
	const app = "fraise-test-parallel-reader-gone"
	dsn := srv.ConnString(pgtest.RoleTrust, false) + " application_name=" + app
	code, stderr := runGuarded(t, &epipe{}, "stream", "v_par_items", "-d", dsn, "--parallel", "4", "--order-by", "id")
	if code != 0 || stderr != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	awaitLeftNothing(t, srv, app)
}

// TestParallelConsistentUnderWrites: while transfers between accounts
// keep changing the table (each keeping the sum of the balances), every
// --parallel export adds up to that sum: its connections read one
// snapshot. The same export with each connection on a snapshot of its own
// is seen to break the sum, so that the test can fail.
func TestParallelConsistentUnderWrites(t *testing.T) {
	srv := parallelServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writer := srv.PsqlCommand(ctx, "-c", "CALL par_transfers(100000000)")
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = writer.Wait() }()
	awaitCount(t, srv, "SELECT count(*) > 0 FROM par_accounts WHERE balance <> 1000", "t")
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	args := []string{"stream", "v_par_accounts", "-d", dsn, "--parallel", "4", "--order-by", "id", "--jq", ".balance",
		"--where", "pg_sleep(0.0005) IS NOT NULL"}
	const want = 2000 * 1000
	for i := range 3 {
		if sum := balanceSum(t, args); sum != want {
			t.Fatalf("run %d: the balances add up to %d, want %d: the connections did not share a snapshot", i, sum, want)
		}
	}
	t.Run("without a shared snapshot", func(t *testing.T) {
		cli.SetParallelWithoutSnapshot(t)
		for range 10 {
			if balanceSum(t, args) != want {
				return // broken, as it must be
			}
		}
		t.Fatal("10 exports without a shared snapshot all added up: the test cannot tell a shared snapshot from none")
	})
}

// balanceSum runs an export of the balances and adds them up.
func balanceSum(t *testing.T, args []string) int {
	t.Helper()
	code, out, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	sum, lines := 0, strings.Fields(out)
	if len(lines) != 2000 {
		t.Fatalf("%d balances, want 2000", len(lines))
	}
	for _, l := range lines {
		var v int
		if _, err := fmt.Sscan(l, &v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

// TestParallelNoRoom: a server without room for N more connections is
// refused before any is opened (exit 3), saying how many would fit.
func TestParallelNoRoom(t *testing.T) {
	pgtest.Require(t)
	ctx := context.Background()
	srv, err := pgtest.Start(ctx, pgtest.Options{NoFixtures: true, Settings: map[string]string{"max_connections": "6"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.Psql(ctx, "CREATE TABLE t (id int, data jsonb); GRANT SELECT ON t TO PUBLIC"); err != nil {
		t.Fatal(err)
	}
	checkRefused(t, 3, []string{"stream", "t", "-d", srv.ConnString(pgtest.RoleTrust, false), "--parallel", "4"},
		"max_connections", "hint: run with --parallel")
}

// checkRefused runs fraise with args and checks that it exits with code,
// writes nothing on stdout, and says each of wants on stderr.
func checkRefused(t *testing.T, code int, args []string, wants ...string) {
	t.Helper()
	got, out, stderr := run(t, args...)
	t.Log(stderr)
	ok := got == code && out == ""
	for _, w := range wants {
		ok = ok && strings.Contains(stderr, w)
	}
	if !ok {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", got, out, stderr, code, wants)
	}
}

// TestParallelExportRefused: a server that does not let the role export a
// snapshot fails the run before anything is streamed (exit 4), saying
// that --parallel needs it.
func TestParallelExportRefused(t *testing.T) {
	srv := parallelServer(t)
	ctx := context.Background()
	if _, err := srv.Psql(ctx, "REVOKE EXECUTE ON FUNCTION pg_export_snapshot() FROM PUBLIC"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = srv.Psql(ctx, "GRANT EXECUTE ON FUNCTION pg_export_snapshot() TO PUBLIC") }()
	checkRefused(t, 4, []string{"stream", "v_par_items", "-d", srv.ConnString(pgtest.RoleTrust, false), "--parallel", "2"},
		"could not export a snapshot", "permission denied")
}

// TestParallelLeaderGone: when the connection holding the shared snapshot
// ends while ranges are still to start, the next range cannot import it
// and the run fails (exit 4, saying so) rather than read another snapshot.
func TestParallelLeaderGone(t *testing.T) {
	srv := parallelServer(t)
	const app = "fraise-test-parallel-leader-gone"
	dsn := srv.ConnString(pgtest.RoleTrust, false) + " application_name=" + app
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		var stdout bytes.Buffer
		code, stderr := runGuarded(t, &stdout, "stream", "v_par_items", "-d", dsn, "--parallel", "2", "--order-by", "id",
			"--where", "id <= 4000 AND pg_sleep(0.001) IS NOT NULL")
		done <- result{code, stdout.String(), stderr}
	}()
	// The leader: idle in its transaction, its last statement not a
	// range's (those select "data"), nor BEGIN or ROLLBACK.
	leader := "SELECT pid FROM pg_stat_activity WHERE application_name = '" + app + "' AND state = 'idle in transaction'" +
		` AND query NOT LIKE 'SELECT "data"%' AND query NOT LIKE 'BEGIN%' AND query <> 'ROLLBACK'`
	awaitCount(t, srv, "SELECT count(*) FROM ("+leader+") l", "1")
	if _, err := srv.Psql(context.Background(), "SELECT pg_terminate_backend(pid) FROM ("+leader+") l"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	t.Log(r.stderr)
	gone := strings.Contains(r.stderr, "invalid snapshot identifier") || // 18: `snapshot "…" does not exist`
		strings.Contains(r.stderr, "snapshot \"") && strings.Contains(r.stderr, "does not exist")
	if r.code != 4 || !gone || !strings.Contains(r.stderr, "could not import the snapshot they share") {
		t.Errorf("exit %d, stderr %q; want exit 4 and the snapshot gone", r.code, r.stderr)
	}
	checkLines(t, r.stdout)
	awaitLeftNothing(t, srv, app)
}

// TestParallelBehindASmallTransactionPool: behind PgBouncer in
// transaction mode with fewer server connections than --parallel opens,
// the first connection's transaction holds one and the ranges take turns
// on the rest: the same bytes as one connection.
func TestParallelBehindASmallTransactionPool(t *testing.T) {
	srv := parallelServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := srv.StartPgBouncer(ctx, pgtest.PoolerOptions{Mode: "transaction", PoolSize: 2})
	if errors.Is(err, pgtest.ErrNoPooler) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	args := []string{"stream", "v_par_items", "--order-by", "id", "-d", p.ConnString(pgtest.RoleTrust, false)}
	code, want, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("one connection: exit %d, stderr %q", code, stderr)
	}
	code, got, stderr := run(t, append(args, "--parallel", "4", "--stats")...)
	if code != 0 || got != want {
		t.Fatalf("--parallel 4 through a pool of 2: exit %d, stderr %q, same bytes: %v", code, stderr, got == want)
	}
	checkSplit(t, stderr, "4")
}

// TestParallelInterrupt: SIGINT stops every connection of a parallel run
// together: at most one cancel request per connection, exit 130, whole
// lines, and nothing of the run left on the server.
func TestParallelInterrupt(t *testing.T) {
	srv := parallelServer(t)
	const app = "fraise-test-parallel-interrupt"
	var stdout bytes.Buffer
	cmd, br := startFraise(t, &stdout, "stream", "v_par_items", "--parallel", "3", "--order-by", "id", "--verbose",
		"--where", "pg_sleep(0.002) IS NOT NULL", "-d", srv.ConnString(pgtest.RoleTrust, false)+" application_name="+app)
	awaitCount(t, srv, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"+app+"' AND state = 'active'", "3")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	for {
		line, err := br.ReadString('\n')
		log.WriteString(line)
		if err != nil {
			break
		}
	}
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, log.String())
	}
	if n := strings.Count(log.String(), "cancel request delivered"); n < 1 || n > 3 {
		t.Errorf("%d cancel requests delivered, want one per connection streaming (1 to 3)", n)
	}
	checkLines(t, stdout.String())
	awaitLeftNothing(t, srv, app)
}

// TestParallelBrokenConnections: a connection that goes silent (with
// --idle-timeout: exit 4) or is lost (exit 3) ends the whole run, as on one
// connection: whole lines, and nothing of the run left on the server.
func TestParallelBrokenConnections(t *testing.T) {
	srv := parallelServer(t)
	for i, tc := range []struct {
		name  string
		plan  proxyPlan
		flags []string
		code  int
		want  string
	}{
		// Connection 0 is the one that exports the snapshot; 1 streams.
		{"silent", proxyPlan{StallAfter: 256 << 10, Nth: 1}, []string{"--idle-timeout", "500ms"}, 4, "no data from the server for 500ms"},
		{"lost", proxyPlan{StallAfter: 256 << 10, HangUpBurst: 1000, Nth: 1}, nil, 3, "lost the connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t, srv, tc.plan)
			app := fmt.Sprintf("fraise-test-parallel-broken-%d", i)
			var stdout bytes.Buffer
			args := append([]string{"stream", "v_par_items", "--parallel", "2", "--order-by", "id", "-d", p.conninfo(srv, app)}, tc.flags...)
			code, stderr := runGuarded(t, &stdout, args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
			checkLines(t, stdout.String())
			p.awaitClosed(t)
			awaitLeftNothing(t, srv, app)
		})
	}
}

// TestParallelJQEnds: jq's halt and halt_error in one range, and a row the
// expression fails on, end the output where one connection's ends, with
// the same exit code and message (its row counted in the whole output):
// the ranges before it whole, nothing of those after it.
func TestParallelJQEnds(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, tc := range []struct {
		name string
		jq   string
		code int
	}{
		{"halt", "if .id == 12345 then halt else .id end", 0},
		{"halt_error", `if .id == 12345 then "stop\n" | halt_error else .id end`, 5},
		{"a failing row", "if .id == 12345 then error(\"bad row\") else .id end", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"stream", "v_par_items", "-d", dsn, "--order-by", "id", "--jq", tc.jq}
			code, want, stderr := run(t, args...)
			if code != tc.code {
				t.Fatalf("one connection: exit %d, stderr %q", code, stderr)
			}
			for _, n := range []string{"2", "4"} {
				code, got, gotErr := run(t, append(args, "--parallel", n)...)
				if code != tc.code || gotErr != stderr {
					t.Errorf("--parallel %s: exit %d, stderr %q; one connection: exit %d, stderr %q", n, code, gotErr, tc.code, stderr)
				}
				if got != want {
					t.Errorf("--parallel %s: %d lines, one connection %d", n, strings.Count(got, "\n"), strings.Count(want, "\n"))
				}
			}
		})
	}
}

// TestParallelJQSkips: with --on-jq-error skip, the warnings and the
// summary are one connection's, word for word: each kind of failure at
// its first row in the whole output, the twentieth kind's notice, and
// the counts.
func TestParallelJQSkips(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, jq := range []string{
		`if .id % 7 == 0 then error("seven") elif .id % 11 == 0 then error("eleven \(.id % 3)") else .id end`,
		`if .id % 5 == 0 then error("kind \(.id % 30)") else .id end`, // 30 kinds: past the 20 shown
	} {
		args := []string{"stream", "v_par_items", "-d", dsn, "--order-by", "id", "--jq", jq, "--on-jq-error", "skip"}
		code, want, wantErr := run(t, args...)
		if code != 0 || !strings.Contains(wantErr, "skipped") {
			t.Fatalf("one connection: exit %d, stderr %q", code, wantErr)
		}
		for _, n := range []string{"2", "4"} {
			code, got, gotErr := run(t, append(args, "--parallel", n)...)
			if code != 0 || got != want {
				t.Errorf("--parallel %s: exit %d, same output: %v", n, code, got == want)
			}
			if gotErr != wantErr {
				t.Errorf("--parallel %s: stderr\n%s\none connection:\n%s", n, gotErr, wantErr)
			}
		}
	}
}

// TestParallelOverTLS: every connection of a parallel run verifies the
// server and logs in with SCRAM over TLS (the password given once), and
// the bytes are one connection's.
func TestParallelOverTLS(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	dsn := "host=" + pgtest.TLSServerName + " hostaddr=127.0.0.1 port=" + strconv.Itoa(srv.ClientPort()) + " dbname=" + pgtest.Database +
		" user=" + pgtest.RoleSCRAM + " sslmode=verify-full sslrootcert=" + srv.TLS.CACert
	dsn += " password=" + pgtest.Password(pgtest.RoleSCRAM) // run() clears PG*
	args := []string{"stream", "v_seq", "-d", dsn, "--order-by", "(data->>'id')::int"}
	code, want, stderr := run(t, args...)
	if code != 0 {
		t.Fatalf("one connection: exit %d, stderr %q", code, stderr)
	}
	code, got, stderr := run(t, append(args, "--parallel", "3", "--verbose")...)
	if code != 0 || got != want {
		t.Fatalf("--parallel 3: exit %d, same bytes: %v, stderr %.500q", code, got == want, stderr)
	}
	if n := strings.Count(stderr, "tls established"); n != 4 {
		t.Errorf("%d TLS sessions logged, want 4 (the snapshot's connection and three)", n)
	}
}

// TestParallelProgress: the bar counts every connection's rows against
// the planner's estimate and ends full at the real count.
func TestParallelProgress(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	code, screen := runOnTerminal(t, "stream", "v_par_items", "--parallel", "3", "--order-by", "id",
		"--where", "id <= 3000 AND pg_sleep(0.0004) IS NOT NULL", "-d", dsn)
	if code != 0 {
		t.Fatalf("exit %d; terminal: %q", code, screen)
	}
	final := regexp.MustCompile(`v_par_items: [0-9.]+ [KM]iB, [0-9]+ rows/s +100% \|[^|]*\| \(3000/3000\)`)
	if !final.MatchString(screen) || !strings.Contains(screen, "(total estimated)") {
		t.Errorf("no full bar at 3000/3000 after an estimate; the terminal ends with:\n%q", tail(screen))
	}
}
