//go:build unix

package pgtest

import (
	"os"
	"os/exec"
	"syscall"
)

// credential is the user and group the server binaries run as when the
// tests run as root.
type credential = syscall.Credential

// runAs makes cmd run as cred's user; a nil cred leaves it as it is.
func runAs(cmd *exec.Cmd, cred *credential) {
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
}

// redeliver sends sig to this process again, for its default action once
// the handler is reset.
func redeliver(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(os.Getpid(), s)
	}
}

// terminate asks a process to shut down cleanly.
var terminate os.Signal = syscall.SIGTERM
