package cli

import (
	"os"
	"syscall"
)

// Exit codes, documented in the README and the man pages.
const (
	ExitOK         = 0   // success, including a reader that closed the pipe early
	ExitInternal   = 1   // unexpected internal error
	ExitUsage      = 2   // bad flag or argument, found before connecting
	ExitConnection = 3   // network, authentication, server unavailable
	ExitQuery      = 4   // the server rejected or aborted the query
	ExitFilter     = 5   // jq failed on a row
	ExitOutput     = 6   // the output cannot be written
	ExitSIGHUP     = 129 // hung up: SIGHUP (the terminal or ssh session went away)
	ExitSIGINT     = 130 // interrupted by SIGINT
	ExitSIGTERM    = 143 // terminated by SIGTERM
)

// usageError marks an error in how fraise was called.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// signalError is the cancellation cause when a signal stops the run.
type signalError struct{ sig os.Signal }

// Error says which signal. What it stopped is interruptedError's to say:
// this error alone is printed only when the run did not end in time.
func (e *signalError) Error() string { return "interrupted by " + e.name() }

// name is the signal's name, as SIGINT.
func (e *signalError) name() string {
	switch e.sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return e.sig.String()
}

// runStage is how far a run got, for the message a signal ends it with.
type runStage int

const (
	stageStart    runStage = iota // reading settings, opening the output: nothing sent
	stageConnect                  // connecting and authenticating
	stagePassword                 // running a profile's password_command
	stageQuery                    // the query was sent
)

// interruptedError is a run ended by a signal, saying what the signal
// stopped: a query is said to be cancelled only once one was sent.
type interruptedError struct {
	sig   *signalError
	stage runStage
	what  string // the password_command, at stagePassword
}

func (e *interruptedError) Error() string {
	by := "interrupted by " + e.sig.name()
	switch e.stage {
	case stageQuery:
		return by + "; the query was cancelled"
	case stagePassword:
		return e.what + " was " + by + "; it was stopped, no query ran"
	case stageConnect:
		return by + " while connecting; no query ran"
	}
	return by + " before connecting; no query ran"
}

// Unwrap returns the signal.
func (e *interruptedError) Unwrap() error { return e.sig }
