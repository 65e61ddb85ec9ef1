package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/fraiseql/fraise/internal/pgtest"
	"golang.org/x/sys/unix"
)

// passwordProfile writes a config file in dir whose default profile
// connects to srv as the SCRAM role, which needs a password, with
// password_command command run in dir. It returns the file's path.
func passwordProfile(t *testing.T, srv *pgtest.Server, dir, command string) string {
	t.Helper()
	dsn := srv.ConnString(pgtest.RoleSCRAM, true) + " application_name=fraise-pwcmd"
	quote := func(s string) string {
		b, _ := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
		return string(b)
	}
	conf := "default_profile: p\nprofiles:\n  p:\n    dsn: " + quote(dsn) +
		"\n    password_command: " + quote("cd "+dir+" || exit 1; "+command) + "\n"
	path := filepath.Join(dir, "conf.yaml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fraiseProcess returns fraise (this test binary, as main) run with args,
// with no PG* or FRAISE_* variable but those given.
func fraiseProcess(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "PG") && !strings.HasPrefix(k, "FRAISE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "FRAISE_TEST_AS_MAIN=1", "PGPASSFILE=/nonexistent"), env...)
	return cmd
}

// exitCodeOf returns the exit code of a finished command.
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

// TestPasswordCommandInterrupted: SIGINT or SIGTERM while the
// password_command runs (here: never prints) ends fraise at once with
// 130 or 143, the command's whole process group gone, and a message that
// says what was stopped, not that a query was cancelled: none ran.
func TestPasswordCommandInterrupted(t *testing.T) {
	srv := pgtest.Require(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{{syscall.SIGINT, 130, "SIGINT"}, {syscall.SIGTERM, 143, "SIGTERM"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := passwordProfile(t, srv, dir, `sleep 1000 & echo $! > sleep.pid; echo $$ > sh.pid; wait`)
			cmd := fraiseProcess(nil, "stream", "v_user", "--limit", "1", "--config", conf)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			awaitFile(t, filepath.Join(dir, "sh.pid"))
			awaitFile(t, filepath.Join(dir, "sleep.pid"))
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := exitCodeOf(t, cmd.Wait()); code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			want := "fraise: password_command of profile p (" + conf + ") was interrupted by " + tc.name + "; it was stopped, no query ran\n"
			if stderr.String() != want {
				t.Errorf("stderr = %q, want %q", stderr.String(), want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			awaitGone(t, filepath.Join(dir, "sleep.pid"))
			awaitGone(t, filepath.Join(dir, "sh.pid"))
		})
	}
}

// TestPasswordCommandFlood: a password_command that prints the password
// and then output without end (yes) is stopped, with all it started, once
// the first line is in, and the run goes on with that password.
func TestPasswordCommandFlood(t *testing.T) {
	srv := pgtest.Require(t)
	dir := t.TempDir()
	script := "echo $$ > yes.pid\nprintf '%s\\n' '" + pgtest.Password(pgtest.RoleSCRAM) + "'\nexec yes\n"
	if err := os.WriteFile(filepath.Join(dir, "flood.sh"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := passwordProfile(t, srv, dir, `sh flood.sh & wait`)
	cmd := fraiseProcess(nil, "stream", "v_user", "--limit", "1", "--config", conf)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if code := exitCodeOf(t, cmd.Run()); code != 0 || strings.Count(stdout.String(), "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout.String(), stderr.String())
	}
	awaitGone(t, filepath.Join(dir, "yes.pid"))
}

// onTerminal starts fraise with a pseudo-terminal as its controlling
// terminal and standard input, as in an interactive shell, and returns
// the terminal's master side, whose output is drained.
func onTerminal(t *testing.T, cmd *exec.Cmd) *os.File {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { _ = ptmx.Close() })
	cmd.Stdin = tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = tty.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	go func() { _, _ = io.Copy(io.Discard, ptmx) }() // the echo of what is typed
	return ptmx
}

// TestPasswordCommandOnTerminal: a password_command can prompt on the
// terminal fraise runs in (its process group is put in the foreground
// while it runs, or reading the terminal would stop it), the terminal is
// given back to fraise after it (Ctrl-C then interrupts the query), and
// Ctrl-C typed while the command prompts stops it and fraise: exit 130.
func TestPasswordCommandOnTerminal(t *testing.T) {
	srv := pgtest.Require(t)
	t.Run("prompt, then Ctrl-C in the query", func(t *testing.T) {
		dir := t.TempDir()
		conf := passwordProfile(t, srv, dir, `echo $$ > sh.pid; IFS= read -r pw; printf '%s\n' "$pw"`)
		cmd := fraiseProcess(nil, "stream", "v_user", "--where", "pg_sleep(60) IS NOT NULL", "--config", conf)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		ptmx := onTerminal(t, cmd)
		awaitFile(t, filepath.Join(dir, "sh.pid"))
		if _, err := io.WriteString(ptmx, pgtest.Password(pgtest.RoleSCRAM)+"\n"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Await(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fraise-pwcmd' AND state = 'active'", "1"); err != nil {
			t.Fatalf("the query did not start: %v; stderr:\n%s", err, stderr.String())
		}
		if pg, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPGRP); err != nil || pg != cmd.Process.Pid {
			t.Errorf("the terminal's foreground group is %d (%v), want fraise's, %d", pg, err, cmd.Process.Pid)
		}
		if _, err := io.WriteString(ptmx, "\x03"); err != nil { // Ctrl-C
			t.Fatal(err)
		}
		if code := exitCodeOf(t, cmd.Wait()); code != 130 {
			t.Errorf("exit %d, want 130; stderr:\n%s", code, stderr.String())
		}
		if want := "fraise: interrupted by SIGINT; the query was cancelled\n"; stderr.String() != want {
			t.Errorf("stderr = %q, want %q", stderr.String(), want)
		}
	})
	t.Run("Ctrl-C at the prompt", func(t *testing.T) {
		dir := t.TempDir()
		conf := passwordProfile(t, srv, dir, `sleep 1000 & echo $! > sleep.pid; echo $$ > sh.pid; IFS= read -r pw; printf '%s\n' "$pw"`)
		cmd := fraiseProcess(nil, "stream", "v_user", "--limit", "1", "--config", conf)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		ptmx := onTerminal(t, cmd)
		awaitFile(t, filepath.Join(dir, "sh.pid"))
		awaitFile(t, filepath.Join(dir, "sleep.pid"))
		if _, err := io.WriteString(ptmx, "\x03"); err != nil {
			t.Fatal(err)
		}
		if code := exitCodeOf(t, cmd.Wait()); code != 130 {
			t.Errorf("exit %d, want 130; stderr:\n%s", code, stderr.String())
		}
		want := "fraise: password_command of profile p (" + conf + ") was interrupted by SIGINT; it was stopped, no query ran\n"
		if stderr.String() != want {
			t.Errorf("stderr = %q, want %q", stderr.String(), want)
		}
		awaitGone(t, filepath.Join(dir, "sleep.pid"))
		awaitGone(t, filepath.Join(dir, "sh.pid"))
	})
}

// TestInterruptedWhileConnecting: a signal before the query is sent says
// so, not that a query was cancelled (here the server accepts and never
// answers).
func TestInterruptedWhileConnecting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	cmd := fraiseProcess(nil, "stream", "v_user", "-d", "host=127.0.0.1 port="+port+" sslmode=disable user=u dbname=d")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(30 * time.Second):
		t.Fatal("fraise did not connect")
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitCodeOf(t, cmd.Wait()); code != 130 {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	if want := "fraise: interrupted by SIGINT while connecting; no query ran\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}
