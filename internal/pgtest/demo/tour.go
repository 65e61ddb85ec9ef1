// Running the tour's steps: each fraise command printed as a shell would
// show it, then run as a process, alone or piped into another command.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/pgtest/tryout"
)

// stepTimeout bounds each step, so that a hung one fails, named, instead
// of hanging the demo.
const stepTimeout = time.Minute

// step is one command of the tour.
type step struct {
	// title says what the step shows; a failure names it.
	title string
	// args are fraise's arguments.
	args []string
	// pipe, when set, is the command fraise's standard output is piped
	// into; fraise's standard error is then printed after that command's
	// output.
	pipe []string
	// after, when set, checks what the step did and reports on w. For a
	// pipeline it is given the piped command's output and fraise's
	// standard error, both already printed; other steps' output goes
	// straight to the terminal, and after is given none.
	after func(w io.Writer, out, errOut []byte) error
}

// tour runs steps against one server.
type tour struct {
	srv    *pgtest.Server
	fraise string   // the binary to run
	env    []string // the environment of every command
	stdout io.Writer
	stderr io.Writer
}

// newTour returns a tour of the fraise binary against srv. Its commands
// run with FRAISE_DSN set to the trust role over TCP (no password), no
// other FRAISE_* or PG* variable, and an empty configuration directory
// under dir, so that neither the user's settings nor their profiles
// change what the tour shows.
func newTour(srv *pgtest.Server, fraise, dir string, stdout, stderr io.Writer) *tour {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "FRAISE_") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "FRAISE_DSN="+dsn(srv), "XDG_CONFIG_HOME="+dir)
	return &tour{srv: srv, fraise: fraise, env: env, stdout: stdout, stderr: stderr}
}

// dsn is the URL the tour connects with: the trust role over TCP, which
// needs no password and works whichever user the server runs as.
func dsn(srv *pgtest.Server) string {
	return srv.URL(pgtest.RoleTrust, false)
}

// run prints the server and the DSN, then runs steps in order, stopping
// at the first that fails; its error names the step.
func (t *tour) run(ctx context.Context, steps []step) error {
	fmt.Fprintf(t.stderr, "demo: PostgreSQL %d on 127.0.0.1:%d, with the sample relations of internal/pgtest/fixtures.sql; fraise is %s\n\n",
		t.srv.Major, t.srv.Port, t.fraise)
	fmt.Fprintf(t.stdout, "$ export FRAISE_DSN=%s\n\n", tryout.ShellQuote(dsn(t.srv)))
	for i, s := range steps {
		line := commandLine(s)
		fmt.Fprintf(t.stdout, "# %s\n$ %s\n", s.title, line)
		err := t.step(ctx, s)
		if ctx.Err() != nil {
			return fmt.Errorf("step %d of %d (%s) stopped: %w", i+1, len(steps), s.title, context.Cause(ctx))
		}
		if err != nil {
			return fmt.Errorf("step %d of %d (%s) failed: %s: %w", i+1, len(steps), s.title, line, err)
		}
		fmt.Fprintln(t.stdout)
	}
	return nil
}

// step runs one step, within stepTimeout.
func (t *tour) step(ctx context.Context, s step) error {
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	err := t.runStep(sctx, s)
	if err != nil && ctx.Err() == nil && sctx.Err() != nil {
		return fmt.Errorf("still running after %v, stopped: %w", stepTimeout, err)
	}
	return err
}

// runStep runs s with ctx, and then its after.
func (t *tour) runStep(ctx context.Context, s step) error {
	if s.pipe != nil {
		return t.pipeline(ctx, s)
	}
	cmd := t.command(ctx, t.fraise, s.args...)
	cmd.Stdout, cmd.Stderr = t.stdout, t.stderr
	if err := exited("fraise", cmd.Run()); err != nil {
		return err
	}
	if s.after != nil {
		return s.after(t.stdout, nil, nil)
	}
	return nil
}

// pipeline runs fraise with its standard output piped into s.pipe, as a
// shell runs "fraise … | head -n 1": both must exit 0. The piped command's
// output is printed, then fraise's standard error.
func (t *tour) pipeline(ctx context.Context, s step) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	var out, errOut bytes.Buffer
	consumer := t.command(ctx, s.pipe[0], s.pipe[1:]...)
	consumer.Stdin, consumer.Stdout, consumer.Stderr = r, &out, t.stderr
	producer := t.command(ctx, t.fraise, s.args...)
	producer.Stdout, producer.Stderr = w, &errOut
	startErr := consumer.Start()
	if startErr == nil {
		startErr = producer.Start()
	}
	// The pipe's ends now belong to the two processes alone: the
	// consumer's exit is what fraise's next write must see, and the
	// consumer sees the end of its input once fraise has ended (or not
	// started).
	_, _ = r.Close(), w.Close()
	if startErr != nil {
		if consumer.Process != nil {
			_ = consumer.Wait()
		}
		return startErr
	}
	perr := exited("fraise", producer.Wait())
	cerr := exited(s.pipe[0], consumer.Wait())
	_, _ = t.stdout.Write(out.Bytes())
	_, _ = t.stderr.Write(errOut.Bytes())
	if err := errors.Join(perr, cerr); err != nil {
		return err
	}
	if s.after != nil {
		return s.after(t.stdout, out.Bytes(), errOut.Bytes())
	}
	return nil
}

// command returns a command of the tour: name with args, in the tour's
// environment.
func (t *tour) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = t.env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// exited describes how a command ended when it did not exit 0.
func exited(name string, err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("%s ended: %s", name, ee.ProcessState)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// commandLine is the shell command of s, with fraise by that name.
func commandLine(s step) string {
	line := "fraise " + tryout.ShellJoin(s.args)
	if s.pipe != nil {
		line += " | " + tryout.ShellJoin(s.pipe)
	}
	return line
}
