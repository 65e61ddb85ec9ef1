package testscripts_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite cmp golden files in the scripts")

// pgMain stops the shared server once the scripts have run.
type pgMain struct{ m *testing.M }

func (p pgMain) Run() int { return pgtest.RunMain(p.m) }

func TestMain(m *testing.M) {
	testscript.Main(pgMain{m}, map[string]func(){
		"fraise": func() { os.Exit(cli.Main()) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Condition:           condition,
		Setup:               setup,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"psql":          cmdPsql,
			"stdout-rows":   cmdStdoutRows,
			"fails":         cmdFails,
			"pg-await":      cmdPgAwait,
			"pg-gone":       cmdPgGone,
			"decompress":    cmdDecompress,
			"array-lines":   cmdArrayLines,
			"no-temp-files": cmdNoTempFiles,
			"json":          cmdJSON,
			"psql-db":       cmdPsqlDB,
			"pg-tls":        cmdPgTLS,
		},
	})
}

// server returns the shared server, or why there is none.
func server() (*pgtest.Server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return pgtest.Shared(ctx)
}

// condition answers [pg]: whether a PostgreSQL server is running for the
// scripts (with CI=true a missing server is an error, not a skip), and
// [pooler]: whether the scripts connect through a pooler (pgtest.PoolerEnv),
// for what a pooler says differently.
func condition(cond string) (bool, error) {
	switch cond {
	case "pooler":
		srv, err := server()
		return err == nil && srv.Pooler != nil, nil
	case "pg":
	default:
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	_, err := server()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, pgtest.ErrNoPostgres) && os.Getenv("CI") != "true":
		fmt.Fprintf(os.Stderr, "skipping [pg] scripts: %v\n", err)
		return false, nil
	}
	return false, err
}

// setup points the scripts' libpq environment at the shared server, when
// there is one: PGHOST, PGPORT, PGDATABASE and PGUSER (the trust role).
func setup(env *testscript.Env) error {
	srv, err := server()
	if err != nil {
		return nil // scripts needing it carry [pg], which reports the error
	}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env.Setenv(k, v)
	}
	env.Setenv("PGUSER", pgtest.RoleTrust)
	env.Setenv("PGTEST_PORT", fmt.Sprint(srv.ClientPort()))
	env.Setenv("PGTEST_SOCKET", srv.ClientSocketDir())
	env.Setenv("PGTEST_SCRAM_URL", srv.URL(pgtest.RoleSCRAM, true))
	env.Setenv("PGTEST_SCRAM_URL_NOPW", srv.URL(pgtest.RoleSCRAM, false))
	return nil
}

// cmdPsql runs SQL as the superuser: psql 'SQL'. Its output becomes stdout.
func cmdPsql(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: psql 'SQL'")
	}
	srv, err := server()
	if err != nil {
		ts.Fatalf("no server: %v", err)
	}
	out, err := srv.Psql(context.Background(), args[0])
	if (err != nil) != neg {
		ts.Fatalf("psql %q: %v", args[0], err)
	}
	_, _ = ts.Stdout().Write([]byte(out))
}

// cmdStdoutRows checks that stdout holds N lines: stdout-rows N.
func cmdStdoutRows(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: stdout-rows N")
	}
	out := ts.ReadFile("stdout")
	n := strings.Count(out, "\n")
	if out != "" && !strings.HasSuffix(out, "\n") {
		ts.Fatalf("stdout ends with a partial line: %q", out[strings.LastIndex(out, "\n")+1:])
	}
	if (fmt.Sprint(n) == args[0]) == neg {
		ts.Fatalf("stdout has %d lines, want %s%s", n, map[bool]string{true: "not "}[neg], args[0])
	}
}

// cmdFails runs a command that must exit with a given code, keeping its
// stdout and stderr for later checks: fails CODE command [args...].
func cmdFails(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: fails CODE command [args...]")
	}
	err := ts.Exec(args[1], args[2:]...)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		ts.Fatalf("%s: want exit code %s, got %v", args[1], args[0], err)
	}
	if fmt.Sprint(ee.ExitCode()) != args[0] {
		ts.Fatalf("%s: exit code %d, want %s", args[1], ee.ExitCode(), args[0])
	}
}

// cmdPgAwait waits, for at most 30 seconds, until a query run as the
// superuser prints the expected text: pg-await 'SQL' 'want'.
// cmdPgGone waits until no query of a client (by application_name) runs
// on the server any more: pg-gone NAME. Directly, its backend is gone;
// behind a pooler, the server connection may stay in the pool for the
// next client, but idle: nothing of the run is left running.
func cmdPgGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pg-gone APPLICATION_NAME")
	}
	srv, err := server()
	if err != nil {
		ts.Fatalf("no server: %v", err)
	}
	sql := "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + strings.ReplaceAll(args[0], "'", "''") + "'"
	if srv.Pooler != nil {
		sql += " AND state <> 'idle'"
	}
	cmdPgAwait(ts, false, []string{sql, "0"})
}

func cmdPgAwait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: pg-await 'SQL' 'want'")
	}
	srv, err := server()
	if err != nil {
		ts.Fatalf("no server: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Await(ctx, args[0], args[1]); err != nil {
		ts.Fatalf("%v", err)
	}
}
