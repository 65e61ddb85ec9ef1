package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// child is fraise run as a process of its own (this test binary, as
// main), with its stdout on a pipe the test holds the read end of.
type child struct {
	cmd    *exec.Cmd
	out    *os.File // read end of fraise's stdout
	stderr bytes.Buffer
	app    string // application_name of its session
}

// startChild starts fraise stream with args, with application_name app.
func startChild(t *testing.T, srv *pgtest.Server, app string, args ...string) *child {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{out: r, app: app}
	args = append([]string{"stream"}, args...)
	args = append(args, "-d", srv.ConnString(pgtest.RoleTrust, false)+" application_name="+app)
	c.cmd = exec.Command(os.Args[0], args...)
	c.cmd.Env = append(os.Environ(), "FRAISE_TEST_AS_MAIN=1")
	c.cmd.Stdout, c.cmd.Stderr = w, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close() // the child has its own copy
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		_ = c.out.Close()
	})
	return c
}

// wait waits for the child and returns its exit code.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	return exitCodeOf(t, c.cmd.Wait())
}

// exitCodeOf returns the exit code of a finished command, given what its
// Wait or Run returned.
func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", err)
	return -1
}

// sessions counts the child's sessions in pg_stat_activity, with an
// optional extra condition.
func (c *child) sessions(cond string) string {
	sql := "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + c.app + "'"
	if cond != "" {
		sql += " AND " + cond
	}
	return sql
}

// awaitWithin waits until sql prints want, failing the test if that takes
// longer than d.
func awaitWithin(t *testing.T, srv *pgtest.Server, d time.Duration, sql, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := srv.Await(ctx, sql, want); err != nil {
		t.Fatalf("not within %s: %v", d, err)
	}
}

// checkWholeLines checks that out is whole lines of JSON, and returns how
// many.
func checkWholeLines(t *testing.T, out []byte) int {
	t.Helper()
	if len(out) > 0 && out[len(out)-1] != '\n' {
		t.Fatalf("output ends with a partial line: %q", out[bytes.LastIndexByte(out, '\n')+1:])
	}
	n := 0
	for line := range bytes.Lines(out) {
		n++
		if !json.Valid(line) {
			t.Fatalf("line %d is not JSON: %q", n, line)
		}
	}
	return n
}

// TestReaderGone: when the reader of stdout goes away, fraise cancels the
// query and exits 0 in silence, whether the server is still computing the
// first row (nothing was ever written, so no EPIPE: fraise watches the
// pipe) or rows are flowing (`| head -n 1`). The backend is gone within a
// second of the reader leaving.
func TestReaderGone(t *testing.T) {
	srv := pgtest.Require(t)
	for _, tc := range []struct {
		name  string
		args  []string
		ready func(t *testing.T, c *child) // returns once the reader may leave
	}{
		{
			name: "before the first row",
			args: []string{"v_user", "--where", "pg_sleep(60) IS NOT NULL"},
			ready: func(t *testing.T, c *child) {
				awaitCount(t, srv, c.sessions("state = 'active'"), "1")
			},
		},
		{
			name: "after the first line (head -n 1)",
			args: []string{"v_seq"},
			ready: func(t *testing.T, c *child) {
				line, err := bufio.NewReader(c.out).ReadBytes('\n')
				if err != nil || !json.Valid(line) {
					t.Fatalf("first line %q, %v", line, err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := "fraise-reader-gone-" + strings.Fields(tc.name)[0]
			c := startChild(t, srv, app, tc.args...)
			tc.ready(t, c)
			_ = c.out.Close() // the reader leaves
			awaitWithin(t, srv, time.Second, leftOf(srv, c.app), "0")
			if code := c.wait(t); code != 0 || c.stderr.Len() != 0 {
				t.Errorf("exit %d, stderr %q; want 0 and nothing", code, c.stderr.String())
			}
		})
	}
}

// TestSignalsMidStream: SIGINT and SIGTERM while rows flow to a reader
// that keeps reading: exit 130 or 143, the query cancelled, the backend
// gone, and what was written is whole lines.
func TestSignalsMidStream(t *testing.T) {
	srv := pgtest.Require(t)
	for _, tc := range signalCases {
		t.Run(tc.name, func(t *testing.T) {
			// A row every millisecond or so: 100 s in all.
			c := startChild(t, srv, "fraise-mid-"+strings.ToLower(tc.name), "v_seq",
				"--where", "pg_sleep(0.001) IS NOT NULL")
			var out bytes.Buffer
			first := make(chan struct{})
			copied := make(chan error, 1)
			go func() {
				br := bufio.NewReader(c.out)
				line, err := br.ReadBytes('\n')
				out.Write(line)
				close(first)
				if err == nil {
					_, err = io.Copy(&out, br)
				}
				copied <- err
			}()
			<-first
			if err := c.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			code := c.wait(t)
			if err := <-copied; err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if want := "fraise: interrupted by " + tc.name + "; the query was cancelled\n"; c.stderr.String() != want {
				t.Errorf("stderr = %q, want %q", c.stderr.String(), want)
			}
			if n := checkWholeLines(t, out.Bytes()); n == 0 || n >= 100000 {
				t.Errorf("%d lines, want some but not all", n)
			}
			awaitLeftNothing(t, srv, c.app)
		})
	}
}

// TestSignalWhileOutputBlocked: SIGINT while fraise cannot write, its
// reader having stopped reading (and so the server blocked sending to
// fraise): the server still gets its cancel and is drained — the backend
// leaves while the output is still blocked — and once the reader reads
// again it gets whole lines, then the end.
func TestSignalWhileOutputBlocked(t *testing.T) {
	srv := pgtest.Require(t)
	c := startChild(t, srv, "fraise-blocked-sigint", "v_seq")
	awaitCount(t, srv, c.sessions("wait_event = 'ClientWrite'"), "1")
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	awaitLeftNothing(t, srv, c.app) // nothing has been read yet
	out, err := io.ReadAll(c.out)
	if err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t); code != 130 {
		t.Errorf("exit %d, want 130; stderr %q", code, c.stderr.String())
	}
	if n := checkWholeLines(t, out); n == 0 || n >= 100000 {
		t.Errorf("%d lines, want some but not all", n)
	}
}

// TestKilledClientLeavesNoQuery: fraise killed outright (SIGKILL: no
// chance to cancel) while the server computes. The session's
// client_connection_check_interval makes the backend notice and stop long
// before its query would have ended (60 s per row).
func TestKilledClientLeavesNoQuery(t *testing.T) {
	srv := pgtest.Require(t)
	if srv.Major < 14 {
		// Before 14 there is no check to set (fraise sends none there:
		// wire's newTx), and a killed psql's query runs on just the same.
		t.Skipf("needs PostgreSQL 14 or later: client_connection_check_interval came in 14, and PostgreSQL %d keeps a killed client's query running to its end", srv.Major)
	}
	c := startChild(t, srv, "fraise-sigkill", "v_user", "--where", "pg_sleep(60) IS NOT NULL")
	awaitCount(t, srv, c.sessions("state = 'active'"), "1")
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.wait(t)
	awaitWithin(t, srv, 30*time.Second, c.sessions(""), "0")
}

// TestTerminatedMidStream: pg_terminate_backend while rows flow. A backend
// that is computing says why it goes (57P01: exit 4 and the server's
// message); one blocked sending to fraise just goes (exit 3, the
// connection lost). Either way the rows received before are written whole.
func TestTerminatedMidStream(t *testing.T) {
	srv := pgtest.Require(t)
	terminate := func(t *testing.T, c *child) {
		t.Helper()
		if _, err := srv.Psql(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"+c.app+"'"); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("computing", func(t *testing.T) {
		c := startChild(t, srv, "fraise-terminated-computing", "v_seq",
			"--where", "pg_sleep(0.001) IS NOT NULL")
		br := bufio.NewReader(c.out)
		first, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatal(err)
		}
		terminate(t, c)
		rest, err := io.ReadAll(br)
		if err != nil {
			t.Fatal(err)
		}
		if code := c.wait(t); code != 4 {
			t.Errorf("exit %d, want 4", code)
		}
		stderr := c.stderr.String()
		for _, want := range []string{"terminating connection due to administrator command (SQLSTATE 57P01)", "pg_terminate_backend"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr %q lacks %q", stderr, want)
			}
		}
		checkWholeLines(t, append(first, rest...))
	})
	t.Run("blocked sending", func(t *testing.T) {
		c := startChild(t, srv, "fraise-terminated-blocked", "v_seq")
		awaitCount(t, srv, c.sessions("wait_event = 'ClientWrite'"), "1")
		terminate(t, c)
		awaitCount(t, srv, c.sessions(""), "0")
		out, err := io.ReadAll(c.out)
		if err != nil {
			t.Fatal(err)
		}
		code := c.wait(t)
		stderr := c.stderr.String()
		ok := code == 3 && strings.Contains(stderr, "lost the connection to the server")
		if srv.Pooler != nil {
			// Behind PgBouncer the backend writes to the pooler, not to
			// fraise, and the end reaches fraise in one of three ways: the
			// backend's FATAL, which found room at the pooler, after the
			// rows (exit 4, as when computing); PgBouncer's own "server
			// conn crashed?" (08P01); or that error spliced into a row the
			// pooler had begun to pass on, which fraise refuses (exit 3).
			ok = ok || code == 4 && (strings.Contains(stderr, "(SQLSTATE 57P01)") || strings.Contains(stderr, "(SQLSTATE 08P01)")) ||
				code == 3 && strings.Contains(stderr, "holds a NUL byte")
		}
		if !ok {
			t.Errorf("exit %d, stderr %q; want 3 and the connection lost", code, stderr)
		}
		if n := checkWholeLines(t, out); n == 0 || n >= 100000 {
			t.Errorf("%d lines, want some but not all", n)
		}
	})
}

// TestSignalAfterTheQueryEnded: SIGINT when every row has been read, the
// transaction ended and the session closed, while a --jq expression
// still runs: still exit 130, not a complete-looking exit 0. The debug
// line proves the row arrived, so the session existed; its absence after
// that means it ended.
func TestSignalAfterTheQueryEnded(t *testing.T) {
	srv := pgtest.Require(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{app: "fraise-jq-sigint-after"}
	c.cmd = exec.Command(os.Args[0], "stream", "v_user", "--limit", "1", "--jq", "debug | last(range(1e18))",
		"-d", srv.ConnString(pgtest.RoleTrust, false)+" application_name="+c.app)
	c.cmd.Env = append(os.Environ(), "FRAISE_TEST_AS_MAIN=1")
	var stdout bytes.Buffer
	c.cmd.Stdout, c.cmd.Stderr = &stdout, w
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	defer func() { _ = c.cmd.Process.Kill() }()
	br := bufio.NewReader(r)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, `["DEBUG:",`) {
		t.Fatalf("first stderr line %q, %v; want the debug line", line, err)
	}
	// Behind a pooler, the transaction has ended; the session may still
	// be closing, which the signal must not change either.
	awaitLeftNothing(t, srv, c.app)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	if want := "fraise: interrupted by SIGINT; the query was cancelled\n"; string(rest) != want {
		t.Errorf("stderr after the debug line = %q, want %q", rest, want)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

// TestSignalWhileAWideRowIsBlocked: rows larger than the output buffer
// are written from where they lie; SIGINT while one of them is stuck on a
// reader that stopped reading must not wait for that write before the
// server is drained (nor for the forced exit).
func TestSignalWhileAWideRowIsBlocked(t *testing.T) {
	srv := pgtest.Require(t)
	createWideView(t, srv)
	for _, tc := range []struct {
		name string
		args []string
	}{{"passthrough", nil}, {"jq", []string{"--jq", "."}}} {
		t.Run(tc.name, func(t *testing.T) {
			c := startChild(t, srv, "fraise-wide-"+tc.name, append([]string{"v_wide"}, tc.args...)...)
			awaitCount(t, srv, c.sessions("wait_event = 'ClientWrite'"), "1")
			first := awaitWideWrite(t, c)
			if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			awaitLeftNothing(t, srv, c.app) // drained while the output is stuck
			rest, err := io.ReadAll(c.out)
			if err != nil {
				t.Fatal(err)
			}
			out := append(first, rest...)
			if code := c.wait(t); code != 130 {
				t.Errorf("exit %d, want 130", code)
			}
			if want := "fraise: interrupted by SIGINT; the query was cancelled\n"; c.stderr.String() != want {
				t.Errorf("stderr = %q, want %q", c.stderr.String(), want)
			}
			checkWholeLines(t, out)
		})
	}
}

// TestSecondSignalExitsAtOnce: after a first SIGINT fraise waits (here
// for a write stuck on a reader that stopped reading); a second SIGINT
// ends it at once, saying so, without the first one's message, which only
// a run that ended on its own prints.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	srv := pgtest.Require(t)
	createWideView(t, srv)
	c := startChild(t, srv, "fraise-second-signal", "v_wide")
	awaitCount(t, srv, c.sessions("wait_event = 'ClientWrite'"), "1")
	awaitWideWrite(t, c)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	awaitLeftNothing(t, srv, c.app) // drained; the output still waits
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	want := "fraise: interrupted again by SIGINT; stopped at once, without waiting for the server or the output to finish: the output is incomplete\n"
	if c.stderr.String() != want {
		t.Errorf("stderr = %q, want %q: the second signal exits before the run ends, and says so", c.stderr.String(), want)
	}
}

// awaitWideWrite reads the first byte of c's stdout and returns it. The
// backend can wait in ClientWrite while fraise still reads the first row
// of v_wide; a first byte written says that a line is being written, and
// a line of v_wide is too long to end in the pipe: the write is stuck.
func awaitWideWrite(t *testing.T, c *child) []byte {
	t.Helper()
	first := make([]byte, 1)
	if _, err := io.ReadFull(c.out, first); err != nil {
		t.Fatal(err)
	}
	return first
}

// createWideView makes v_wide: 200 rows of 300 KB, larger than the output
// buffer, so that they are written from the read buffer.
func createWideView(t *testing.T, srv *pgtest.Server) {
	t.Helper()
	if _, err := srv.Psql(context.Background(), "CREATE OR REPLACE VIEW v_wide AS SELECT jsonb_build_object('n', g, 'pad', repeat('x', 300000)) AS data FROM generate_series(1, 200) g; GRANT SELECT ON v_wide TO PUBLIC"); err != nil {
		t.Fatal(err)
	}
}
