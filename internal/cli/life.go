package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
)

// A run's life as the CLI sees it; internal/wire's lifecycle.go tells the
// session's side (the cancel request, the drain, the ROLLBACK).
//
//	settings ──▶ output opened ──▶ connecting ──▶ streaming ──┬─ rows done ────▶ publish ─▶ exit 0
//	   │              │                │                     ├─ reader gone ──▶ abandon ─▶ exit 0
//	   ▼              ▼                ▼                     ├─ signal ───────▶ drain ───▶ exit 129/130/143
//	exit 2          exit 6        exit 3 (or 2)              └─ error ────────▶ fail ────▶ exit 3–6
//
// Who stops a run: the signal handler (the run's context cancelled with a
// *signalError), the stdout watcher (output.ErrReaderGone, before anything
// is written too), or the stream's own error. What each stop waits for:
//
//   - reader gone: nothing. The query is cancelled without waiting for
//     the server (the run's wire.Stop abandons that cause) and nothing
//     more is written.
//   - signal: the server drains for up to 5 s (wire), so that a pooler
//     keeps its connection, and a write already under way gets
//     outputGrace from the stop, so that a reader that reads again sees a
//     whole last line. forceExitAfter after the first signal the process
//     exits whatever still holds it; a second signal exits at once. Both
//     run the exit hooks: the temporary output file is removed and a
//     password command's process group killed.
//   - error: as a signal, without the forced exit.
//
// Publishing (publish) commits a whole output: a compressed stream is
// ended, a file synced and renamed; a failed one is given up (a file's
// temporary removed, a previous file left as it was).
//
// A row's bytes belong to the wire's read buffer until the sink returns:
// the NDJSON writer copies them into its buffer, which its writer
// goroutine owns while it writes it; a value larger than the buffer is
// lent to the writer instead, and stays lent past a stop while its write
// is under way (output.ErrRetained).

// forceExitAfter is how long after a first SIGINT or SIGTERM fraise exits
// even if the run has not ended: longer than the drain of the server and of
// the output (5 s each, at the same time).
const forceExitAfter = 7 * time.Second

// handleSignals installs the signal handlers, closes ready, and turns the
// signals into the run's end.
func handleSignals(cancel context.CancelCauseFunc, ready chan<- struct{}) {
	sigs := make(chan os.Signal, 2)
	// Handling SIGPIPE turns a write to a closed pipe into an EPIPE error,
	// so that fraise can cancel the query and exit 0 instead of dying.
	// SIGHUP (a closed terminal or ssh session) ends the run as SIGTERM
	// does: cancelled, the temporary output file removed.
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	ignoreFileSizeSignal()
	close(ready)
	n := 0
	for s := range sigs {
		if s == syscall.SIGPIPE {
			continue
		}
		n++
		if n > 1 {
			// A second signal: stop at once.
			runExitHooks()
			fmt.Fprintf(os.Stderr, "fraise: interrupted again by %s; stopped at once, without waiting for the server or the output to finish: the output is incomplete\n", (&signalError{s}).name())
			os.Exit(exitCode(&signalError{s}))
		}
		cancel(&signalError{s})
		// The run drains the server and the output for a few seconds
		// at most; should something still hold it, stop anyway.
		time.AfterFunc(forceExitAfter, func() {
			fmt.Fprintf(os.Stderr, "fraise: %v; gave up waiting for the run to end\n", &signalError{s})
			runExitHooks()
			os.Exit(exitCode(&signalError{s}))
		})
	}
}

// exitHooks are run before the process exits without returning from Run
// (a second signal, or a run that did not end in time): they remove a
// temporary output file. Keyed so that runs in the same process (tests)
// remove only their own.
var exitHooks struct {
	sync.Mutex
	next int
	fns  map[int]func()
}

// onForcedExit registers f and returns what unregisters it.
func onForcedExit(f func()) (unregister func()) {
	exitHooks.Lock()
	defer exitHooks.Unlock()
	if exitHooks.fns == nil {
		exitHooks.fns = map[int]func(){}
	}
	id := exitHooks.next
	exitHooks.next++
	exitHooks.fns[id] = f
	return func() {
		exitHooks.Lock()
		defer exitHooks.Unlock()
		delete(exitHooks.fns, id)
	}
}

// runExitHooks runs the registered hooks, once each.
func runExitHooks() {
	exitHooks.Lock()
	fns := exitHooks.fns
	exitHooks.fns = nil
	exitHooks.Unlock()
	for _, f := range fns {
		f()
	}
}

// outputGrace bounds the wait, after an interruption, for a write already
// under way to a reader that has stopped reading: if it reads again within
// that time, its last line is whole. Lines not yet under way are dropped.
// A second signal ends the wait at once. (A variable for tests.)
var outputGrace = 5 * time.Second

// watchReader stops the run when stdout is a pipe or socket whose reader
// goes away, even before anything is written.
func watchReader(stdout any, stop context.CancelCauseFunc) func() {
	f, ok := stdout.(*os.File)
	if !ok {
		return func() {}
	}
	return output.WatchReader(f, func() { stop(output.ErrReaderGone) })
}

// finishOutput waits for the lines handed to w to be written and returns
// the run's outcome: err, else the output's error. After a stop it waits
// only until outputGrace after the stop (run.At), for a write already
// under way, while the server drains at the same time.
func finishOutput(run *wire.Stop, w *output.NDJSON, err error) error {
	ctx, grace := run.Context(), outputGrace
	wait, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The grace runs from the stop, even one that comes while this waits.
	stop := context.AfterFunc(ctx, func() {
		at, ok := run.At()
		if !ok {
			at = time.Now()
		}
		time.AfterFunc(time.Until(at.Add(grace)), cancel)
	})
	defer stop()
	cerr := w.Close(wait)
	if errors.Is(context.Cause(ctx), output.ErrReaderGone) {
		return output.ErrReaderGone
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return cerr
}

// publish ends the output once the rows are done, with err the stream's
// outcome: a whole output is committed (a file published), a failed one
// ended as well as it can be. halt with code 0 (as jq) ends the output as
// the end of the rows does, and is returned as halted.
func publish(run *wire.Stop, w *output.NDJSON, dest *output.Dest, log *slog.Logger, err error) (halted, _ error) {
	var he *filter.HaltError
	if errors.As(err, &he) && he.Code == 0 {
		halted, err = err, nil
	}
	if err == nil {
		if err = w.Finish(); err == nil {
			err = w.Flush()
		}
	}
	err = finishOutput(run, w, err)
	if err == nil {
		if err = dest.Commit(); err == nil && dest.File() != nil {
			log.Info("output file complete", "path", dest.File().Name(), "bytes", dest.Written())
		}
	} else {
		// A compressed stdout still gets the end of its stream, after the
		// whole lines written, unless a write is stuck.
		dest.Fail(w.Drained())
	}
	return halted, err
}
