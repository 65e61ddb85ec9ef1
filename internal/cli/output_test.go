package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// previousOutput is what an output file holds before a run that fails.
const previousOutput = "{\"previous\": true}\n"

// outputDir returns a directory holding out.ndjson with previousOutput.
func outputDir(t *testing.T) (dir, file string) {
	t.Helper()
	dir = t.TempDir()
	file = filepath.Join(dir, "out.ndjson")
	if err := os.WriteFile(file, []byte(previousOutput), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// checkPrevious checks that file still holds previousOutput and that no
// temporary output file is left in dir.
func checkPrevious(t *testing.T, dir, file string) {
	t.Helper()
	if got, err := os.ReadFile(file); err != nil || string(got) != previousOutput {
		t.Errorf("%s holds %q (%v); want the previous content %q", file, got, err, previousOutput)
	}
	if temps := tempFiles(t, dir); len(temps) > 0 {
		t.Errorf("temporary files left behind: %v", temps)
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.fraise-tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// awaitTemp waits until the run's temporary file holds at least n bytes.
func awaitTemp(t *testing.T, dir string, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, f := range tempFiles(t, dir) {
			if fi, err := os.Stat(f); err == nil && fi.Size() >= n {
				return
			}
		}
		time.Sleep(10 * time.Millisecond) // polling a file, not synchronizing goroutines
	}
	t.Fatalf("no temporary file of %d bytes in %s within 30 s", n, dir)
}

// TestOutputFileInterrupted: SIGINT or SIGTERM, before the first row or
// with rows already in the temporary file, ends the run with its exit
// code, removes the temporary file and leaves the previous file as it was;
// the query is cancelled.
func TestOutputFileInterrupted(t *testing.T) {
	srv := pgtest.Require(t)
	for _, sc := range signalCases {
		for _, when := range []struct {
			name  string
			where string
			ready func(t *testing.T, c *child, dir string)
		}{
			{"before the first row", "pg_sleep(60) IS NOT NULL", func(t *testing.T, c *child, _ string) {
				awaitCount(t, srv, c.sessions("state = 'active'"), "1")
			}},
			{"mid-stream", "pg_sleep(0.001) IS NOT NULL", func(t *testing.T, _ *child, dir string) {
				awaitTemp(t, dir, 1)
			}},
		} {
			t.Run(sc.name+"/"+when.name, func(t *testing.T) {
				dir, file := outputDir(t)
				app := "fraise-out-" + strings.ToLower(sc.name) + "-" + strings.Fields(when.name)[0]
				c := startChild(t, srv, app, "v_seq", "--where", when.where, "--chunk-size", "1", "-o", file)
				when.ready(t, c, dir)
				if err := c.cmd.Process.Signal(sc.sig); err != nil {
					t.Fatal(err)
				}
				if code := c.wait(t); code != sc.code {
					t.Errorf("exit %d, want %d; stderr %q", code, sc.code, c.stderr.String())
				}
				checkPrevious(t, dir, file)
				awaitLeftNothing(t, srv, c.app)
			})
		}
	}
}

// TestOutputFileSecondSignal: a second SIGINT exits at once, without
// waiting for the drain, and still removes the temporary file. The proxy
// stalls the session, so that the first signal's drain cannot finish.
func TestOutputFileSecondSignal(t *testing.T) {
	srv := pgtest.Require(t)
	p := newProxy(t, srv, proxyPlan{StallAfter: 256 << 10})
	dir, file := outputDir(t)
	c := startChildDSN(t, p.conninfo(srv, "fraise-out-second-signal"), "v_seq", "--chunk-size", "1", "-o", file)
	select {
	case <-p.stalled:
	case <-time.After(30 * time.Second): // a run that failed to connect
		t.Fatal("the proxy did not stall within 30 s")
	}
	awaitTemp(t, dir, 1)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// The first signal's cancel request is the proxy's second connection;
	// the drain then waits on the stalled session.
	deadline := time.Now().Add(10 * time.Second)
	for len(p.connections()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the proxy's connection list
	}
	if len(p.connections()) < 2 {
		t.Fatal("no cancel request reached the proxy")
	}
	if srv.Pooler != nil {
		// PgBouncer 1.18 dies (pgbouncer/pgbouncer#801) when a cancel
		// connection is closed while it passes the request on, as fraise
		// exiting at once would close it: the second signal waits for
		// the pooler to hang up on the first one's request.
		select {
		case <-p.connections()[1].done:
		case <-time.After(10 * time.Second):
			t.Fatal("the pooler did not hang up on the cancel request within 10 s")
		}
	}
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := c.wait(t); code != 130 {
		t.Errorf("exit %d, want 130; stderr %q", code, c.stderr.String())
	}
	checkPrevious(t, dir, file)
}

// startChildDSN starts fraise stream with args and connection string dsn.
func startChildDSN(t *testing.T, dsn string, args ...string) *child {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{out: r}
	c.cmd = exec.Command(os.Args[0], append(append([]string{"stream"}, args...), "-d", dsn)...)
	c.cmd.Env = append(os.Environ(), "FRAISE_TEST_AS_MAIN=1")
	c.cmd.Stdout, c.cmd.Stderr = w, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		_ = c.out.Close()
	})
	return c
}

// runFraise runs fraise to completion and returns its exit code, stdout
// and stderr.
func runFraise(t *testing.T, cmd *exec.Cmd) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if cmd.Stdout == nil { // else set by the test: a file
		cmd.Stdout = &stdout
	}
	cmd.Stderr = &stderr
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "FRAISE_TEST_AS_MAIN=1")
	code := exitCodeOf(t, cmd.Run())
	return code, stdout.String(), stderr.String()
}
