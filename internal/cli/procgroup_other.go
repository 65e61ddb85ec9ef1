//go:build !unix

package cli

import (
	"context"
	"os"
	"os/exec"
)

// procGroup stands for the process group a password_command runs in on
// unix. Here there is none: stopping the command stops the shell only.
type procGroup struct{ cmd *exec.Cmd }

func newProcGroup(c *exec.Cmd) *procGroup { return &procGroup{cmd: c} }

// kill stops the command.
func (g *procGroup) kill() error {
	if g.cmd.Process == nil {
		return os.ErrProcessDone
	}
	return g.cmd.Process.Kill()
}

func (g *procGroup) release() {}

func (g *procGroup) interruptedAtTerminal(*os.ProcessState) bool { return false }

func forwardInterrupt(context.Context) {}
