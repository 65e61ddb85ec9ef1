//go:build !unix

package pgtest

import (
	"os"
	"os/exec"
)

// credential is the user and group the server binaries would run as. On
// this system os.Geteuid is never 0, so serverCredential always returns
// nil and the server runs as the current user. (pgtest is built here only
// so that the module builds; its clusters listen on Unix sockets, and
// fraise's tests run on Unix systems.)
type credential struct{ Uid, Gid uint32 }

// runAs leaves cmd as it is: there is no other user to switch to.
func runAs(*exec.Cmd, *credential) {}

// redeliver does nothing: a process cannot send itself a signal here, and
// the caller exits with status 1 instead.
func redeliver(os.Signal) {}

// terminate stops a process: there is no polite signal here.
var terminate os.Signal = os.Kill
