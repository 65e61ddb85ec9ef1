// A run's stop, one for all of its sessions.

package wire

import (
	"context"
	"sync/atomic"
	"time"
)

// Stop is how a run ends early, shared by every session of it: its
// context, which the caller (a signal, a reader gone) or a session may
// end with a cause, the moment it ended, and what each cause asks of a
// session. A stopped session drains: it asks the server to cancel and
// reads the rest of the answers, for a few seconds at most, so that it
// ends in step with the server and a pooler keeps its connection. A cause
// nobody waits for (abandon), such as a pipe whose reader has gone, is not
// drained: the cancel request is written without waiting for the server
// to confirm it and the connection is closed at once; the server rolls
// the transaction back on its own. Every session of a run stops together,
// each draining its own connection, and every grace is measured from the
// one moment At returns.
type Stop struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	abandon func(cause error) bool
	at      atomic.Int64 // UnixNano; 0 while running
	release func() bool
}

// NewStop returns the stop of a run under parent. abandon, when set,
// reports whether a stop with a given cause (the context's, or a sink's
// error) is one nobody waits for. Close must be called once the run ends.
func NewStop(parent context.Context, abandon func(cause error) bool) *Stop {
	ctx, cancel := context.WithCancelCause(parent)
	s := &Stop{ctx: ctx, cancel: cancel, abandon: abandon}
	// A stop that comes through parent is recorded as it is seen.
	s.release = context.AfterFunc(ctx, func() { s.at.CompareAndSwap(0, time.Now().UnixNano()) })
	return s
}

// Context is the run's context: done once the run is stopped.
func (s *Stop) Context() context.Context { return s.ctx }

// Cancel stops the run with cause, every session of it. Only the first
// cause counts, and a Cancel after Close does nothing.
func (s *Stop) Cancel(cause error) {
	if s.ctx.Err() == nil {
		s.at.CompareAndSwap(0, time.Now().UnixNano())
	}
	s.cancel(cause)
}

// At returns when the run was stopped, and whether it has been.
func (s *Stop) At() (time.Time, bool) {
	ns := s.at.Load()
	if ns == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// Close ends the run's watch of its context. A stop that comes later is
// not recorded.
func (s *Stop) Close() {
	s.release()
	s.cancel(nil)
}

// abandons reports whether a stop with cause is one nobody waits for; a
// nil Stop (a statement run outside a stream, QueryText) abandons none.
func (s *Stop) abandons(cause error) bool { return s != nil && s.abandon != nil && s.abandon(cause) }
