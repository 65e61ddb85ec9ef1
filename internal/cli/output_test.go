package cli_test

import (
	"bytes"
	"errors"
	"io"
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
				awaitCount(t, srv, c.sessions(""), "0")
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
	<-p.stalled
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
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "FRAISE_TEST_AS_MAIN=1")
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("run %v: %v", cmd.Args, err)
	return -1, "", ""
}

// TestOutputFileSystemFull: a file system that fills up mid-run (a small
// tmpfs) ends the run with exit 6 and the reason, cancels the query, and
// leaves the previous file and no temporary file. Needs root to mount; in
// CI it must run.
func TestOutputFileSystemFull(t *testing.T) {
	srv := pgtest.Require(t)
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot mount a tmpfs to fill up (CI runs as root and must): %v", err)
		}
		t.Skipf("cannot mount a tmpfs (run as root to test a full file system): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	file := filepath.Join(dir, "out.ndjson")
	if err := os.WriteFile(file, []byte(previousOutput), 0o644); err != nil {
		t.Fatal(err)
	}
	const app = "fraise-out-enospc"
	code, _, stderr := runFraise(t, exec.Command(os.Args[0], "stream", "v_seq", "-o", file,
		"-d", srv.ConnString(pgtest.RoleTrust, false)+" application_name="+app))
	if code != 6 {
		t.Errorf("exit %d, want 6; stderr %q", code, stderr)
	}
	if want := "fraise: cannot write " + file + ": no space left on device; free some space or write elsewhere (--output)\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	checkPrevious(t, dir, file)
	awaitCount(t, srv, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"+app+"'", "0")
}

// TestOutputFileSizeLimit: past the process's file size limit (ulimit -f,
// through prlimit), a write fails with EFBIG instead of SIGXFSZ killing
// fraise: exit 6 with advice, no temporary file left.
func TestOutputFileSizeLimit(t *testing.T) {
	srv := pgtest.Require(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux) is needed: %v", err)
	}
	dir, file := outputDir(t)
	code, _, stderr := runFraise(t, exec.Command(prlimit, "--fsize=100000", "--", os.Args[0], "stream", "v_seq", "-o", file,
		"-d", srv.ConnString(pgtest.RoleTrust, false)))
	if code != 6 {
		t.Errorf("exit %d, want 6; stderr %q", code, stderr)
	}
	if !strings.Contains(stderr, "file too large") || !strings.Contains(stderr, "ulimit -f") {
		t.Errorf("stderr = %q, want the EFBIG reason and advice", stderr)
	}
	checkPrevious(t, dir, file)
}

// TestOutputPermissionDenied: a directory fraise may not write in fails
// the run before connecting (exit 6), as an unprivileged user (nobody,
// when the tests run as root).
func TestOutputPermissionDenied(t *testing.T) {
	// A directory of its own under the system's temporary directory:
	// t.TempDir's parent is closed to other users.
	dir, err := os.MkdirTemp("", "fraise-perm-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o555); err != nil {
		t.Fatal(err)
	}
	bin := os.Args[0]
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// nobody must be able to run the test binary: copy it out of the
		// go build cache, whose directories only root may enter.
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(dir, "fraise.test")
		copyFile(t, os.Args[0], bin, 0o755)
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	cmd := exec.Command(bin, "stream", "v_user", "-o", filepath.Join(locked, "out.ndjson"), "-d", "host=127.0.0.1 port=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}
	code, _, stderr := runFraise(t, cmd)
	if code != 6 {
		t.Errorf("exit %d, want 6; stderr %q", code, stderr)
	}
	want := "fraise: cannot create a file in the directory of " + filepath.Join(locked, "out.ndjson") + ": permission denied; check the permissions of the directory, or write elsewhere (--output)\n"
	if stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
