package cli_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
	"github.com/fraiseql/fraise/internal/pgtest"
)

// runOnTerminal runs fraise with its stderr on a pseudo-terminal and its
// stdout in a file, and returns the exit code and what the terminal got.
func runOnTerminal(t *testing.T, args ...string) (int, string) {
	return runOnTerminalOut(t, false, args...)
}

// runOnTerminalOut is runOnTerminal, with stdout on the terminal too when
// both is set.
func runOnTerminalOut(t *testing.T, both bool, args ...string) (int, string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "FRAISE_TEST_AS_MAIN=1", "TERM=xterm")
	cmd.Stdout, cmd.Stderr = out, tty
	if both {
		cmd.Stdout = tty
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = tty.Close() // the child has its own
	var screen bytes.Buffer
	// The read ends with EIO once the child has exited and closed the
	// terminal.
	if _, err := io.Copy(&screen, ptmx); err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, screen.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), screen.String()
	}
	t.Fatal(err)
	return -1, ""
}

// TestProgressOnTerminal: with stderr a terminal, a bar shows the rows
// against the planner's estimate, marked as one, and ends full at the real
// count; not when the rows go to the terminal too, but with -o FILE even
// when stdout is one; --progress never and --quiet turn it off.
func TestProgressOnTerminal(t *testing.T) {
	srv := pgtest.Require(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	// 3000 rows over a second or more, so that the bar is drawn on the way.
	code, screen := runOnTerminal(t, "stream", "v_seq", "--where", "pg_sleep(0.0004) IS NOT NULL", "--limit", "3000", "-d", dsn)
	if code != 0 {
		t.Fatalf("exit %d; terminal: %q", code, screen)
	}
	final := regexp.MustCompile(`v_seq: [0-9.]+ [KM]iB, [0-9]+ rows/s +100% \|[^|]*\| \(3000/3000\)`)
	if !final.MatchString(screen) {
		t.Errorf("no full bar at 3000/3000 on the terminal; it ends with:\n%q", tail(screen))
	}
	if !strings.Contains(screen, "(total estimated)") {
		t.Errorf("the total is never marked as an estimate; the terminal ends with:\n%q", tail(screen))
	}
	// The rows on the same terminal: no bar for them to be written over.
	code, screen = runOnTerminalOut(t, true, "stream", "v_seq", "--where", "pg_sleep(0.0004) IS NOT NULL", "--limit", "1000", "-d", dsn)
	if code != 0 || strings.Contains(screen, "%") || strings.Count(screen, "\n") != 1000 {
		t.Errorf("rows on the terminal: exit %d, %d lines, a bar: %v; want 0, 1000 and none", code, strings.Count(screen, "\n"), strings.Contains(screen, "%"))
	}
	// The rows to -o FILE, stdout a terminal too (the interactive
	// export): the bar shows.
	file := filepath.Join(t.TempDir(), "out.ndjson")
	code, screen = runOnTerminalOut(t, true, "stream", "v_seq", "--where", "pg_sleep(0.0004) IS NOT NULL", "--limit", "1000", "-d", dsn, "-o", file)
	if code != 0 || !regexp.MustCompile(`100% \|[^|]*\| \(1000/1000\)`).MatchString(screen) {
		t.Errorf("-o FILE with stdout a terminal: exit %d, no full bar; the terminal ends with:\n%q", code, tail(screen))
	}
	for _, off := range [][]string{{"--progress", "never"}, {"--quiet"}} {
		code, screen := runOnTerminal(t, append([]string{"stream", "v_seq", "--limit", "10", "-d", dsn}, off...)...)
		if code != 0 || screen != "" {
			t.Errorf("%v: exit %d, terminal %q; want 0 and nothing", off, code, screen)
		}
	}
}

// TestProgressAbsentWithoutTerminal: with stderr a file or a pipe, auto
// shows nothing.
func TestProgressAbsentWithoutTerminal(t *testing.T) {
	srv := pgtest.Require(t)
	errFile, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd := exec.Command(os.Args[0], "stream", "v_seq", "--limit", "5000", "-d", srv.ConnString(pgtest.RoleTrust, false))
	cmd.Env = append(os.Environ(), "FRAISE_TEST_AS_MAIN=1", "TERM=xterm")
	cmd.Stdout, cmd.Stderr = io.Discard, errFile
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(errFile.Name()); len(got) != 0 {
		t.Errorf("stderr in a file got %q, want nothing", got)
	}
}

// tail is the end of a long terminal transcript.
func tail(s string) string {
	if len(s) > 600 {
		return "…" + s[len(s)-600:]
	}
	return s
}
