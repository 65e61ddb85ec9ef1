package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

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

// TestParallelLeaderGone: when the connection holding the shared snapshot
// ends while ranges are still to start, the next range cannot import it
// and the run fails (exit 4, saying so) rather than read another snapshot.
// A lock the test holds stops both workers at the first row of their
// first range (the where clause takes it only in the ranges' queries, which
// select "data" first), so that six of the eight ranges are still to start
// when the leader is ended.
func TestParallelLeaderGone(t *testing.T) {
	srv := parallelServer(t)
	const app = "fraise-test-parallel-leader-gone"
	dsn := srv.ConnString(pgtest.RoleTrust, false) + " application_name=" + app
	gate := pgQuote(app)
	release := holdLock(t, srv, app)
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		var stdout bytes.Buffer
		code, stderr := runGuarded(t, &stdout, "stream", "v_par_items", "-d", dsn, "--parallel", "2", "--order-by", "id",
			"--where", "id <= 4000 AND (current_query() NOT LIKE 'SELECT \"data\"%' OR "+
				"(SELECT true FROM (SELECT pg_advisory_xact_lock_shared(hashtext("+gate+"))) l))")
		done <- result{code, stdout.String(), stderr}
	}()
	// The leader: idle in its transaction, its last statement not a
	// range's (those select "data"), nor BEGIN or ROLLBACK.
	leader := "SELECT pid FROM pg_stat_activity WHERE application_name = '" + app + "' AND state = 'idle in transaction'" +
		` AND query NOT LIKE 'SELECT "data"%' AND query NOT LIKE 'BEGIN%' AND query <> 'ROLLBACK'`
	awaitCount(t, srv, "SELECT count(*) FROM ("+leader+") l", "1")
	awaitCount(t, srv, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"+app+"' AND wait_event = 'advisory'", "2")
	if _, err := srv.Psql(context.Background(), "SELECT pg_terminate_backend(pid) FROM ("+leader+") l"); err != nil {
		t.Fatal(err)
	}
	awaitCount(t, srv, "SELECT count(*) FROM ("+leader+") l", "0")
	release()
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
// its first row in the whole output, with that row's values, the
// twentieth kind's notice, and the counts.
func TestParallelJQSkips(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, tc := range []struct{ jq, want string }{
		{`if .id % 7 == 0 then error("seven") elif .id % 11 == 0 then error("eleven \(.id % 3)") else .id end`, "skipped 4416 of 20000 rows"},
		{`if .id % 5 == 0 then error("kind \(.id % 150)") else .id end`, "20 kinds of jq error so far"}, // 30 kinds: past the 20 shown
		// gojq's messages, a different value on each row: two kinds.
		{`if .id % 7 == 0 then .id + "x" elif .id % 11 == 0 then .name | tonumber else .id end`,
			"\n  2857 × cannot add: number (…) and string (…) — first on row 7: 7, \"x\"\n" +
				"  1559 × tonumber cannot be applied to \"…\": invalid number — first on row 11: \"Zoë 11\"\n"},
	} {
		args := []string{"stream", "v_par_items", "-d", dsn, "--order-by", "id", "--jq", tc.jq, "--on-jq-error", "skip"}
		code, want, wantErr := run(t, args...)
		if code != 0 || !strings.Contains(wantErr, tc.want) {
			t.Fatalf("one connection: exit %d, stderr %q, want %q in it", code, wantErr, tc.want)
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
