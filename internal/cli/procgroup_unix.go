//go:build unix

package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procGroup is the process group a password_command runs in, so that
// stopping it stops whatever it started too (sh and what sh runs). When
// fraise is in the foreground of its terminal, the group is put there in
// its place while it runs, so that a password manager can prompt on the
// terminal (a background group reading it would be stopped by SIGTTIN);
// release gives the terminal back.
type procGroup struct {
	cmd *exec.Cmd
	tty *os.File // the controlling terminal lent to the group, or nil
}

// newProcGroup sets c up to start in a process group of its own.
func newProcGroup(c *exec.Cmd) *procGroup {
	g := &procGroup{cmd: c}
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return g // no controlling terminal
	}
	fd := int(tty.Fd())
	if pg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err != nil || pg != unix.Getpgrp() {
		_ = tty.Close() // fraise is not in the foreground: neither is the command
		return g
	}
	c.SysProcAttr.Foreground, c.SysProcAttr.Ctty = true, fd
	g.tty = tty
	return g
}

// kill sends SIGKILL to the whole group. It is os.ErrProcessDone when the
// group is gone.
func (g *procGroup) kill() error {
	if g.cmd.Process == nil {
		return os.ErrProcessDone
	}
	err := syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// release gives the terminal back to fraise's process group, if it was
// lent to the command's.
func (g *procGroup) release() {
	if g.tty == nil {
		return
	}
	// tcsetpgrp from what is now a background group: SIGTTOU would stop
	// fraise unless ignored.
	signal.Ignore(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(int(g.tty.Fd()), unix.TIOCSPGRP, unix.Getpgrp())
	signal.Reset(syscall.SIGTTOU)
	_ = g.tty.Close()
	g.tty = nil
}

// interruptedAtTerminal reports whether the command, holding the terminal,
// ended from SIGINT: Ctrl-C typed while it prompted, which the terminal
// sent to its group alone.
func (g *procGroup) interruptedAtTerminal(st *os.ProcessState) bool {
	if !g.cmd.SysProcAttr.Foreground || st == nil {
		return false
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && (ws.Signaled() && ws.Signal() == syscall.SIGINT || ws.Exited() && ws.ExitStatus() == 128+int(syscall.SIGINT))
}

// forwardInterrupt sends SIGINT to fraise's process group, as the
// terminal would have had the command not held it, and waits a moment for
// it to end the run (ctx done).
func forwardInterrupt(ctx context.Context) {
	if syscall.Kill(0, syscall.SIGINT) != nil {
		return
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
