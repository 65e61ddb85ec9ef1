package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// awaitFile waits, for at most 30 s, until the file exists and holds a
// line, and returns its first line (a pid file a command wrote).
func awaitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not written within 30 s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// processGone reports whether pid no longer runs: there is no such
// process, or it is a zombie waiting for its reaper (its parent was
// killed with it).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// awaitGone fails the test unless the process whose pid is in the file is
// gone within 30 s: SIGKILL is delivered at once, but not synchronously.
func awaitGone(t *testing.T, pidFile string) {
	t.Helper()
	s := awaitFile(t, pidFile)
	pid, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s holds %q", pidFile, s)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d (%s) still runs after the password_command was stopped", pid, filepath.Base(pidFile))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPasswordCommandOutput: the password is the first line; what the
// command prints, how it fails and how much it prints give a message that
// says so, and fraise never holds more than the first line. The commands
// are real shell commands.
func TestPasswordCommandOutput(t *testing.T) {
	const where = "password_command of profile p (conf.yaml)"
	for _, tc := range []struct {
		name, command string
		want          string // the password, or else
		err           string // the whole error message
	}{
		{name: "one line", command: `printf 'pw-Ω\n'`, want: "pw-Ω"},
		{name: "more lines after", command: `printf 'pw\nurl: https://db\nlogin: me\n'`, want: "pw"},
		{name: "crlf", command: `printf 'pw\r\n'`, want: "pw"},
		{name: "no newline", command: `printf pw`, want: "pw"},
		{name: "a line, then fails", command: `echo pw; exit 3`, want: "pw"},
		{name: "endless output: yes", command: `yes`, want: "y"},
		{name: "a line, then never ends", command: `echo pw; exec sleep 1000`, want: "pw"},
		{name: "password on line 2", command: `printf '\npw\n'`,
			err: where + " printed an empty first line; fraise uses the first line as the password: print the password alone on the first line"},
		{name: "nothing", command: `true`,
			err: where + " printed nothing; it must print the password on its first line"},
		{name: "fails", command: `echo vault is sealed >&2; exit 7`,
			err: where + " failed: exit status 7: vault is sealed"},
		{name: "fails after part of a line", command: `printf pw; exit 7`,
			err: where + " failed: exit status 7"},
		{name: "first line over 64 KiB", command: `head -c 70000 /dev/zero | tr '\0' x; echo`,
			err: where + " printed a first line longer than 64 KiB; it was stopped. fraise uses the first line as the password: print the password alone on the first line"},
		{name: "endless output without a newline", command: `tr '\0' x < /dev/zero`,
			err: where + " printed a first line longer than 64 KiB; it was stopped. fraise uses the first line as the password: print the password alone on the first line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pw, err := runPasswordCommand(context.Background(), tc.command, where)
			switch {
			case tc.err == "" && (err != nil || pw != tc.want):
				t.Errorf("= %.40q, %v; want %q", pw, err, tc.want)
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Errorf("= %.40q, %v; want the error %q", pw, err, tc.err)
			}
		})
	}
}

// TestPasswordCommandStopsItsGroup: the whole process group of the
// command goes — sh and what it started — once the first line is in, when
// the timeout expires, and when the run is interrupted; each says what
// was stopped.
func TestPasswordCommandStopsItsGroup(t *testing.T) {
	const where = "password_command of profile p (conf.yaml)"
	t.Run("once the first line is in", func(t *testing.T) {
		dir := t.TempDir()
		// A child of sh writes its pid, prints the password and floods.
		cmd := `echo $$ > sh.pid; sh -c 'echo $$ > yes.pid; echo pw; exec yes' & wait`
		pw, err := runPasswordCommand(context.Background(), "cd "+dir+" || exit 1; "+cmd, where)
		if err != nil || pw != "pw" {
			t.Fatalf("= %q, %v; want pw", pw, err)
		}
		awaitGone(t, filepath.Join(dir, "yes.pid"))
		awaitGone(t, filepath.Join(dir, "sh.pid"))
	})
	t.Run("timeout", func(t *testing.T) {
		old := passwordCommandTimeout
		t.Cleanup(func() { passwordCommandTimeout = old })
		// The command must have written its pid file before the timeout
		// stops it for the check to be made: a longer timeout each try.
		for timeout := 50 * time.Millisecond; ; timeout *= 2 {
			passwordCommandTimeout = timeout
			dir := t.TempDir()
			cmd := `sleep 1000 & echo $! > sleep.pid; wait`
			_, err := runPasswordCommand(context.Background(), "cd "+dir+" || exit 1; "+cmd, where)
			want := fmt.Sprintf("%s did not finish within %v; it was stopped", where, timeout)
			if err == nil || err.Error() != want {
				t.Fatalf("error %v, want %q", err, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "sleep.pid")); err == nil {
				awaitGone(t, filepath.Join(dir, "sleep.pid"))
				return
			}
			if timeout > time.Minute {
				t.Fatal("the command never wrote its pid file")
			}
		}
	})
	t.Run("interrupted before it starts", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(&signalError{syscall.SIGTERM})
		_, err := runPasswordCommand(ctx, "echo pw", where)
		want := where + " was interrupted by SIGTERM; it was stopped, no query ran"
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		done := make(chan error, 1)
		go func() {
			cmd := `sleep 1000 & echo $! > sleep.pid; echo $$ > sh.pid; wait`
			_, err := runPasswordCommand(ctx, "cd "+dir+" || exit 1; "+cmd, where)
			done <- err
		}()
		awaitFile(t, filepath.Join(dir, "sh.pid"))
		cancel(&signalError{syscall.SIGINT})
		err := <-done
		want := where + " was interrupted by SIGINT; it was stopped, no query ran"
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
		awaitGone(t, filepath.Join(dir, "sleep.pid"))
		awaitGone(t, filepath.Join(dir, "sh.pid"))
	})
}
