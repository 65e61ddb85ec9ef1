package cli_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// TestInterruptWhileWaitingForAPoolSlot: behind PgBouncer in transaction
// mode with one server connection, held by another client, fraise waits
// for a slot with nothing answered. PgBouncer drops a cancel request for
// such a client, so a SIGINT must not wait out the whole drain: fraise
// closes after the short limit for a statement that cannot have started,
// and exits as interrupted.
func TestInterruptWhileWaitingForAPoolSlot(t *testing.T) {
	srv := pgtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := srv.RequirePgBouncer(t, pgtest.PoolerOptions{Mode: "transaction", PoolSize: 1})

	// The holder keeps the one server connection in a transaction.
	holder := srv.PsqlCommand(ctx, "-h", p.SocketDir, "-p", strconv.Itoa(p.Port), "-U", pgtest.RoleTrust,
		"-c", "BEGIN", "-c", "SELECT pg_sleep(600)")
	holder.Env = append(holder.Env, "PGAPPNAME=fraise-slot-holder")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Process.Kill()
	awaitCount(t, srv, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fraise-slot-holder' AND state = 'active'", "1")

	cmd, br := startFraise(t, nil, "stream", "v_user", "--verbose",
		"-d", p.ConnString(pgtest.RoleTrust, false)+" application_name=fraise-slot-waiter")
	log := awaitLine(t, br, "prepare and execute") // the pipeline is written
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(br)
	log += string(rest)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit = %v, want code 130\n%s", err, log)
	}
	for _, want := range []string{"answered=false", "drain_limit=500ms", "drain took too long: closing the connection", "fraise: interrupted by SIGINT"} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "first answer after the stop") {
		t.Errorf("the server answered although the pool slot was held:\n%s", log)
	}
}

// awaitLine reads br until a line containing want, and returns what it
// read; it fails the test if br ends first.
func awaitLine(t *testing.T, br *bufio.Reader, want string) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if strings.Contains(line, want) {
			return b.String()
		}
		if err != nil {
			t.Fatalf("stderr ended (%v) before a line with %q:\n%s", err, want, b.String())
		}
	}
}

// startFraise starts fraise as a child process with args, its stdout
// going to stdout (nil: discarded) and its stderr read through the
// returned reader; the child is killed when the test ends.
func startFraise(t *testing.T, stdout io.Writer, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "FRAISE_TEST_AS_MAIN=1")
	cmd.Stdout = stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, bufio.NewReader(stderr)
}
