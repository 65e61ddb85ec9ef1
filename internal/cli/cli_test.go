package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

func TestMain(m *testing.M) {
	// Re-executed by TestSignals as the fraise command itself.
	if os.Getenv("FRAISE_TEST_AS_MAIN") == "1" {
		if rows, err := strconv.ParseInt(os.Getenv("FRAISE_TEST_SEGMENT_ROWS"), 10, 64); err == nil {
			cli.SetSegmentBounds(nil, rows, 1<<40)
		}
		os.Exit(cli.Main())
	}
	os.Exit(pgtest.RunMain(m))
}

// run runs fraise in-process with a clean libpq environment.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	// Unset, not empty: libpq reads PGSERVICE="" as a service named "".
	keys := []string{"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE", "PGSSLMODE", "PGOPTIONS", "FRAISE_DSN", "FRAISE_WHERE", "FRAISE_LIMIT"}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		t.Setenv(k, "") // restored at the end of the test
		_ = os.Unsetenv(k)
	}
	t.Setenv("PGPASSFILE", "/nonexistent/pgpass")
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestStreamMatchesPsqlByteForByte(t *testing.T) {
	srv := pgtest.Require(t)
	const order = "data->>'name'"
	code, got, stderr := run(t, "stream", "v_seq", "--order-by", order, "-d", srv.ConnString(pgtest.RoleTrust, false))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	cmd := srv.PsqlCommand(context.Background(), "-At", "-c", "SELECT data FROM v_seq ORDER BY "+order)
	want, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(got, "\n") != 100000 {
		t.Fatalf("%d lines, want 100000", strings.Count(got, "\n"))
	}
	if got != string(want) {
		t.Fatal("fraise's output differs from psql -At for the same statement")
	}
}

func TestExitCodes(t *testing.T) {
	srv := pgtest.Require(t)
	trust := srv.ConnString(pgtest.RoleTrust, false)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown relation", []string{"stream", "no_such_view", "-d", trust}, 4, `relation "no_such_view" does not exist (SQLSTATE 42P01)`},
		{"two columns, none named data", []string{"stream", "v_two_cols", "-d", trust}, 4, `column "data" does not exist (SQLSTATE 42703)`},
		{"int column", []string{"stream", "v_int", "-d", trust}, 4, `column "data" of type integer is not json or jsonb`},
		{"jsonb[] column", []string{"stream", "v_jsonb_array", "-d", trust}, 4, `of type jsonb[] is not json or jsonb`},
		{"text column", []string{"stream", "v_text", "-d", trust}, 4, `of type text is not json or jsonb`},
		{"other column chosen", []string{"stream", "v_two_cols", "--column", "payload", "--limit", "1", "-d", trust}, 0, ""},
		{"unknown database", []string{"stream", "v_user", "-d", trust + " dbname=nope"}, 3, `database "nope" does not exist`},
		{"unreachable", []string{"stream", "v_user", "-d", "host=/nonexistent port=1"}, 3, "failed at connect"},
		{"bad relation name", []string{"stream", "v;x", "-d", trust}, 2, "invalid relation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderr)
			}
			if tt.code != 0 && stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if tt.code != 0 && (!strings.HasPrefix(stderr, "fraise: ") || strings.Count(stderr, "fraise: ") != 1) {
				t.Errorf("stderr should carry one error prefixed fraise:, got %q", stderr)
			}
		})
	}
}

// TestWrongPasswordExit3WithoutThePassword: a refused password is exit 3
// with the advice to check it, whether PostgreSQL refuses it (28P01) or
// PgBouncer, which checks passwords itself and refuses with 08P01 ("SASL
// authentication failed" after SCRAM, "password authentication failed"
// after md5).
func TestWrongPasswordExit3WithoutThePassword(t *testing.T) {
	srv := pgtest.Require(t)
	const secret = "Wr0ng-s3cret"
	for _, tc := range []struct{ dsn, pooled string }{
		{strings.Replace(srv.URL(pgtest.RoleSCRAM, false), "fraise_scram@", "fraise_scram:"+secret+"@", 1), "SASL authentication failed (SQLSTATE 08P01)"},
		{srv.ConnString(pgtest.RoleMD5, true) + " password=" + secret, "password authentication failed (SQLSTATE 08P01)"},
	} {
		code, stdout, stderr := run(t, "stream", "v_user", "-d", tc.dsn)
		if code != 3 {
			t.Errorf("exit %d, want 3; stderr %s", code, stderr)
		}
		want := "password authentication failed for user"
		if srv.Pooler != nil {
			want = tc.pooled
		} else if !strings.Contains(stderr, "28P01") {
			t.Errorf("stderr %q lacks the SQLSTATE", stderr)
		}
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
		if !strings.Contains(stderr, "\nhint: check the password") {
			t.Errorf("stderr %q lacks the advice to check the password", stderr)
		}
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("the password appears in the output: %q", stderr)
		}
	}
}

// epipe is a stdout whose reader has gone.
type epipe struct{ n int }

func (e *epipe) Write(p []byte) (int, error) {
	e.n++
	return 0, fmt.Errorf("write /dev/stdout: %w", syscall.EPIPE)
}

func TestBrokenPipeExitsQuietly(t *testing.T) {
	srv := pgtest.Require(t)
	var errb bytes.Buffer
	w := &epipe{}
	code := cli.Run(context.Background(), []string{"stream", "v_seq", "-d", srv.ConnString(pgtest.RoleTrust, false)}, w, &errb)
	if code != 0 || errb.Len() != 0 {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, errb.String())
	}
	if w.n != 1 {
		t.Errorf("%d writes after EPIPE, want 1", w.n)
	}
}

// signalCases are the signals that stop a run, with their exit codes.
var signalCases = []struct {
	sig  syscall.Signal
	code int
	name string
}{{syscall.SIGINT, 130, "SIGINT"}, {syscall.SIGTERM, 143, "SIGTERM"}, {syscall.SIGHUP, 129, "SIGHUP"}}

// TestSignals interrupts fraise while the server is computing: the query is
// cancelled and the exit code says which signal ended the run.
func TestSignals(t *testing.T) {
	srv := pgtest.Require(t)
	for _, tc := range signalCases {
		t.Run(tc.name, func(t *testing.T) {
			app := "fraise-test-" + strings.ToLower(tc.name)
			cmd := exec.Command(os.Args[0], "stream", "v_user", "--where", "pg_sleep(60) IS NOT NULL",
				"-d", srv.ConnString(pgtest.RoleTrust, false)+" application_name="+app)
			cmd.Env = append(os.Environ(), "FRAISE_TEST_AS_MAIN=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			active := "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'"
			awaitCount(t, srv, active+" AND state = 'active'", "1")
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Errorf("exit = %v, want code %d", err, tc.code)
			}
			if want := "fraise: interrupted by " + tc.name + "; the query was cancelled\n"; stderr.String() != want {
				t.Errorf("stderr = %q, want %q", stderr.String(), want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			awaitLeftNothing(t, srv, app)
		})
	}
}

// awaitCount waits until a count query prints want, for at most 30 s.
func awaitCount(t *testing.T, srv *pgtest.Server, sql, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Await(ctx, sql, want); err != nil {
		t.Fatal(err)
	}
}

// leftOf counts what is left on the server of the run whose
// application_name is app. Directly, its backends: once fraise has closed
// its connection, none. Behind a pooler, the server connection may stay
// in the pool for the next client (PgBouncer keeps it when the client
// leaves between transactions), so those that are not idle: a query still
// running, or a transaction still open (as the scripts' pg-gone).
func leftOf(srv *pgtest.Server, app string) string {
	sql := "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + strings.ReplaceAll(app, "'", "''") + "'"
	if srv.Pooler != nil {
		sql += " AND state <> 'idle'"
	}
	return sql
}

// awaitLeftNothing waits, for at most 30 s, until nothing of the run whose
// application_name is app is left on the server (leftOf).
func awaitLeftNothing(t *testing.T, srv *pgtest.Server, app string) {
	t.Helper()
	awaitCount(t, srv, leftOf(srv, app), "0")
}
