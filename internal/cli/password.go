package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"
)

// passwordCommandTimeout bounds a password_command (a password manager
// that prompts may wait for a touch or a PIN). A variable for tests.
var passwordCommandTimeout = time.Minute

// maxPasswordLine is the longest first line a password_command may print:
// fraise reads no more than that, whatever the command prints.
const maxPasswordLine = 64 << 10

// passwordCommandWaitDelay bounds the wait, once the command has ended or
// been stopped, for what it left holding its stderr (see exec.Cmd.WaitDelay).
const passwordCommandWaitDelay = time.Second

// errPasswordTimeout is the cause of a password_command's context when
// passwordCommandTimeout expires.
var errPasswordTimeout = errors.New("password_command timed out")

// errLineTooLong reports a first line longer than maxPasswordLine.
var errLineTooLong = errors.New("line too long")

// passwordFunc returns what runs the profile's password_command, or nil.
func (p *profile) passwordFunc() func(ctx context.Context) (string, error) {
	if p == nil || p.passwordCommand == "" {
		return nil
	}
	where := p.passwordCommandSource()
	return func(ctx context.Context) (string, error) {
		return runPasswordCommand(ctx, p.passwordCommand, where)
	}
}

// passwordCommandSource names the profile's password_command in messages.
func (p *profile) passwordCommandSource() string {
	return fmt.Sprintf("password_command of profile %s (%s)", p.name, p.file)
}

// runPasswordCommand runs command with the shell, in a process group of
// its own, and returns the first line it prints, as password managers
// print the password (pass show puts the entry's other fields on the lines
// after). The group is stopped (SIGKILL) once that line is in, when the
// command ends (what it left running goes with it), when
// passwordCommandTimeout expires, or when ctx is done (a signal, the
// connection attempt's timeout). Memory is bounded: at most
// maxPasswordLine bytes of the output are kept, and 512 of its stderr.
func runPasswordCommand(ctx context.Context, command, where string) (string, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, passwordCommandTimeout, errPasswordTimeout)
	defer cancel()
	shell, flag := "/bin/sh", "-c"
	if runtime.GOOS == "windows" {
		shell, flag = "cmd", "/C"
	}
	c := exec.CommandContext(ctx, shell, flag, command)
	outR, outW, err := os.Pipe()
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	defer outR.Close()
	var errb bytes.Buffer
	c.Stdin = os.Stdin // a password manager may prompt on the terminal
	c.Stdout, c.Stderr = outW, &limitedBuffer{b: &errb, n: 512}
	g := newProcGroup(c)
	c.Cancel = g.kill
	c.WaitDelay = passwordCommandWaitDelay
	err = c.Start()
	_ = outW.Close() // the command has its own copy
	if err != nil {
		g.release()
		if ctx.Err() != nil {
			return "", stoppedError(ctx, where)
		}
		return "", fmt.Errorf("%s could not be started: %w", where, err)
	}
	// A second signal exits at once: the group goes too.
	defer onForcedExit(func() { _ = g.kill() })()
	exited := make(chan error, 1)
	go func() {
		err := c.Wait()
		_ = g.kill() // what the command left running
		exited <- err
	}()
	// The read ends at the first newline, at the cap, at EOF (every
	// writer gone), or when ctx is done.
	stopRead := context.AfterFunc(ctx, func() { _ = outR.Close() })
	line, complete, rerr := readFirstLine(outR, maxPasswordLine)
	stopRead()
	if complete || errors.Is(rerr, errLineTooLong) {
		// The rest is not wanted. (At EOF the command is left to end on its
		// own, so that its exit status is its own.)
		_ = g.kill()
	}
	werr := <-exited
	g.release()
	if g.interruptedAtTerminal(c.ProcessState) && ctx.Err() == nil {
		// Ctrl-C at the terminal the command held went to it alone.
		forwardInterrupt(ctx)
	}
	return passwordResult(ctx, where, line, complete, rerr, werr, errb.String())
}

// passwordResult turns what runPasswordCommand saw into the password, or
// an error that says what happened.
func passwordResult(ctx context.Context, where string, line []byte, complete bool, rerr, werr error, stderr string) (string, error) {
	switch {
	case errors.Is(rerr, errLineTooLong):
		return "", fmt.Errorf("%s printed a first line longer than %d KiB; it was stopped. fraise uses the first line as the password: print the password alone on the first line", where, maxPasswordLine>>10)
	case complete:
		// A complete first line: the password, whatever the command did after.
	case ctx.Err() != nil:
		return "", stoppedError(ctx, where)
	case rerr != nil:
		return "", fmt.Errorf("%s: reading its output: %w", where, rerr)
	case werr != nil:
		msg := strings.TrimSpace(stderr)
		if msg != "" {
			msg = ": " + strings.SplitN(msg, "\n", 2)[0]
		}
		return "", fmt.Errorf("%s failed: %v%s", where, werr, msg)
	}
	pw := strings.TrimSuffix(string(line), "\r")
	switch {
	case pw != "":
		return pw, nil
	case complete:
		return "", fmt.Errorf("%s printed an empty first line; fraise uses the first line as the password: print the password alone on the first line", where)
	}
	return "", fmt.Errorf("%s printed nothing; it must print the password on its first line", where)
}

// stoppedError says why a password_command whose context is done was
// stopped.
func stoppedError(ctx context.Context, where string) error {
	cause := context.Cause(ctx)
	var se *signalError
	switch {
	case errors.Is(cause, errPasswordTimeout):
		return fmt.Errorf("%s did not finish within %v; it was stopped", where, passwordCommandTimeout)
	case errors.As(cause, &se):
		return fmt.Errorf("%s was interrupted by %s; it was stopped, no query ran", where, se.name())
	}
	return fmt.Errorf("%s was stopped: %w", where, cause)
}

// readFirstLine reads r up to its first newline and returns the line
// without it, and whether the newline was found (else r ended first).
// A line longer than limit is errLineTooLong: no more than limit bytes
// and a read buffer are ever held.
func readFirstLine(r io.Reader, limit int) (line []byte, complete bool, err error) {
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, rerr := r.Read(chunk)
		i := bytes.IndexByte(chunk[:n], '\n')
		if i >= 0 {
			n = i
		}
		if len(buf)+n > limit {
			return nil, false, errLineTooLong
		}
		buf = append(buf, chunk[:n]...)
		switch {
		case i >= 0:
			return buf, true, nil
		case rerr == io.EOF:
			return buf, false, nil
		case rerr != nil:
			return buf, false, rerr
		}
	}
}

// onceWithContext returns f that runs once, however many times it is
// called (every address Connect tries may ask): later calls get the first
// call's answer.
func onceWithContext(f func(context.Context) (string, error)) func(context.Context) (string, error) {
	var (
		once sync.Once
		pw   string
		err  error
	)
	return func(ctx context.Context) (string, error) {
		once.Do(func() { pw, err = f(ctx) })
		return pw, err
	}
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)
