package cli_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

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

// TestParallelBehindASmallTransactionPool: behind PgBouncer in
// transaction mode with fewer server connections than --parallel opens,
// the first connection's transaction holds one and the ranges take turns
// on the rest: the same bytes as one connection.
func TestParallelBehindASmallTransactionPool(t *testing.T) {
	srv := parallelServer(t)
	p := srv.RequirePgBouncer(t, pgtest.PoolerOptions{Mode: "transaction", PoolSize: 2})
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
	// 127.0.0.1: the server is on this machine, its backends get cores.
	if _, set := os.LookupEnv("GOMAXPROCS"); !set && runtime.NumCPU() > 1 && !strings.Contains(stderr, "leaving cores to its backends") {
		t.Errorf("a server on 127.0.0.1 got no cores left: stderr %.300q", stderr)
	}
	if n := runtime.GOMAXPROCS(0); n != runtime.NumCPU() && os.Getenv("GOMAXPROCS") == "" {
		t.Errorf("GOMAXPROCS %d after the run, want it back at %d", n, runtime.NumCPU())
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
