// One session's statement from the write of its requests to the return of
// Stream (or QueryText): its life, the one type that holds where it has
// got to and the rules for each move, and the errors it ends with.
//
// One stream's life (stream.go, stream_answers.go), its states in capitals:
//
//	written: BEGIN, statement, Sync, ROLLBACK (one round trip)
//	   │
//	   ▼
//	EXECUTING ── each row ──▶ sink (the value lies in the read buffer until the sink returns)
//	   │
//	   ├─ Sync's ReadyForQuery, as many rows as the command tag says, sink flushed (deliver;
//	   │  a stop that lands during that flush does not undo it)
//	   │     ─▶ DELIVERED: the stream has succeeded; a stop now sends no cancel (nothing
//	   │        runs) and only bounds the wait for ROLLBACK's ReadyForQuery to drainTimeout
//	   │        ─▶ ROLLBACK's ReadyForQuery ─▶ DONE, the session idle for its next statement
//	   ├─ the stop (an event: see stop)
//	   │     ├─ a cause nobody waits for (Stop's abandon: the reader is gone), or no cancel key
//	   │     │     ─▶ ABANDONED: cancel request sent; socket closed, not drained
//	   │     └─ any other cause (a signal)
//	   │           ─▶ DRAINING: cancel request delivered; rows read and dropped up to the
//	   │              ROLLBACK's ReadyForQuery, for drainTimeout at most, then the socket is
//	   │              closed ─▶ DONE, idle or closed. Before any answer (a pooler may hold
//	   │              the session waiting for a server connection, and drop its cancel):
//	   │              unansweredDrain at most; the first answer (firstAnswer) sends the cancel
//	   │              again and gives back the whole drainTimeout
//	   ├─ the sink fails (not from the stop) ─▶ cancel, close (sinkFailed) ─▶ DONE
//	   └─ a server error, a lost connection or a protocol violation
//	         ─▶ the rows received so far flushed (failed); closed unless the session is
//	            in step ─▶ DONE
//
// Who moves it: the goroutine that reads the answers, always, except for
// the stop. The stop is an event, taken once, by whichever sees it first:
// the watch the moment the run's context is done, or the reader when it
// next asks (stopping). Only the context's cause, which the caller sets
// (fraise's CLI: a signal, the stdout watcher), stops a stream, and the
// sink, by failing. Once DONE, a stop changes nothing, and a cancel
// request already under way has been delivered: it cannot hit a later
// statement.
//
// Who owns a row's bytes: the read buffer, until the sink's WriteValue
// returns; a value of KeepMin bytes or more given to a ValueKeeper is the
// keeper's for good, the reader going on in a new buffer (release); a stop
// met while the sink may still hold a value drains into a new buffer too
// (sinkError's detach). Every session of a run has a life of its own
// under the run's one Stop, so N sessions stop together, each draining its
// own connection.

package wire

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// state is where a session's statement has got to.
type state int32

const (
	executing state = iota // the requests written, the answers being read and handed on
	draining               // stopped: cancel asked, answers read and dropped until in step
	abandoned              // stopped, nobody waiting: cancel written, socket closed
	delivered              // every row handed on and flushed: succeeded
	done                   // returned: nothing changes it
)

func (s state) String() string {
	return [...]string{"executing", "draining", "abandoned", "delivered", "done"}[s]
}

// life is one statement's life on a session: its state, the only record
// of it, and the rules that move it. The reader's goroutine calls its
// methods; the watch calls only stop.
type life struct {
	c       *Conn
	ctx     context.Context
	st      Statement
	abandon func(cause error) bool // whether nobody waits after a stop with cause
	state   atomic.Int32
	// detached is set once the reader drains into a buffer of its own
	// (the reader's alone).
	detached bool

	// answered is set once the server has answered anything (BEGIN's
	// answer): before it, behind a pooler, the session may still wait
	// for a server connection, and no statement can have started.
	answered atomic.Bool

	release func() bool // ends the watch
	mu      sync.Mutex  // orders stop, firstAnswer and finish
	timer   *time.Timer
	cancels sync.WaitGroup // cancel requests under way
	// unansweredStop is set when the stop came before any answer.
	unansweredStop bool
}

// live starts st's life on c under ctx, a run's (Stop.Context): from now
// on, ctx done stops it. abandon may be nil. finish must be called when
// the statement returns.
func (c *Conn) live(ctx context.Context, st Statement, abandon func(error) bool) *life {
	l := &life{c: c, ctx: ctx, st: st, abandon: abandon}
	l.release = context.AfterFunc(ctx, l.stop)
	return l
}

func (l *life) now() state { return state(l.state.Load()) }

// stopping reports whether the statement has been stopped and is being
// drained or abandoned. A run stopped whose event has not reached the
// watch yet is stopped here, by the reader, the first to see it.
func (l *life) stopping() bool {
	switch l.now() {
	case draining, abandoned:
		return true
	case executing:
		if l.ctx.Err() != nil {
			l.stop()
			return true
		}
	}
	return false
}

// dropsRows is stopping for the row path: the state alone, without the
// context's lock. A row read before the stop's event lands is handed on.
func (l *life) dropsRows() bool {
	s := l.now()
	return s == draining || s == abandoned
}

// stop is the stop's event: EXECUTING becomes DRAINING (cancel, drain
// limit) or ABANDONED (cancel written, socket closed); DELIVERED keeps its
// state and bounds the wait for ROLLBACK's answer; DONE ignores it.
func (l *life) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.c.cfg.logger()
	cause := context.Cause(l.ctx)
	switch s := l.now(); {
	case s == delivered:
		log.Info("stopping after the rows: waiting for ROLLBACK's answer", "cause", cause.Error(), "limit", drainTimeout)
		l.closeAfter(drainTimeout)
		return
	case s != executing:
		return
	case l.c.secret == nil:
		l.state.Store(int32(abandoned))
		log.Info("stopping: no cancel key, closing the connection", "cause", cause.Error())
		_ = l.c.nc.Close()
		return
	case l.abandon != nil && l.abandon(cause):
		l.state.Store(int32(abandoned))
		l.cancels.Add(1)
		go l.abandonNow(cause)
		return
	}
	l.state.Store(int32(draining))
	limit := drainTimeout
	if !l.answered.Load() {
		// Nothing answered: behind a pooler the session may be waiting
		// for a server connection, and the pooler drops a cancel request
		// for it (PgBouncer: "cancel request for idle client"). Nothing
		// can have started, so the wait is short.
		limit, l.unansweredStop = unansweredDrain, true
	}
	log.Info("stopping: sending a cancel request, then draining", "cause", cause.Error(), "backend_pid", l.c.pid,
		"drain_limit", limit, "answered", !l.unansweredStop)
	l.closeAfter(limit)
	l.cancels.Add(1)
	go l.cancel()
}

// firstAnswer records the server's first answer. A stop taken before it
// had a short limit, and a cancel request that a pooler may have dropped:
// now that a statement may be running, the cancel request is sent again
// and the whole drain limit applies from here.
func (l *life) firstAnswer() {
	if l.answered.Swap(true) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.unansweredStop || l.now() != draining {
		return
	}
	l.c.cfg.logger().Info("first answer after the stop: sending the cancel request again", "drain_limit", drainTimeout)
	if l.timer.Stop() {
		l.timer.Reset(drainTimeout)
	}
	l.cancels.Add(1)
	go l.cancel()
}

// closeAfter closes the socket unless the statement has returned by then;
// the first limit set holds.
func (l *life) closeAfter(d time.Duration) {
	if l.timer != nil {
		return
	}
	nc := l.c.nc
	l.timer = time.AfterFunc(d, func() {
		l.c.cfg.logger().Info("drain took too long: closing the connection", "after", d)
		_ = nc.Close()
	})
}

// cancel delivers a DRAINING statement's cancel request.
func (l *life) cancel() {
	defer l.cancels.Done()
	log := l.c.cfg.logger()
	started := time.Now()
	if err := l.c.Cancel(context.Background()); err != nil {
		log.Info("cancel request failed", "error", err.Error())
		return
	}
	log.Info("cancel request delivered", "elapsed", time.Since(started).Round(time.Microsecond))
}

// abandonNow ends a statement nobody waits for: the cancel request is
// sent (its connection kept until the server hangs it up, within a
// second: PgBouncer 1.18 dies of one closed first, see sendCancel) and the
// session's connection closed without draining, so that the client can go
// at once. The backend stops on the cancel, or at its next write to the
// closed socket, and rolls the transaction back.
func (l *life) abandonNow(cause error) {
	defer l.cancels.Done()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := l.c.sendCancel(ctx)
	_ = l.c.nc.Close()
	l.c.cfg.logger().Info("stopping: nothing more is wanted: cancel request sent, connection closed without draining",
		"cause", cause.Error(), "backend_pid", l.c.pid, "cancel_error", errString(err))
}

// deliver moves the statement to DELIVERED once every row has been handed
// on and flushed, the caller having found it not stopping before that
// flush. A stop that landed during the flush is DRAINING a statement that
// has finished: it is delivered all the same, the stop only bounding the
// wait for ROLLBACK's answer. An ABANDONED one is not: its socket is
// closed.
func (l *life) deliver() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.now() {
	case executing, draining:
		l.state.Store(int32(delivered))
		return true
	}
	return false
}

// finish ends the life once the statement has returned: DONE, the watch
// ended, the drain limit disarmed, a cancel request under way awaited.
func (l *life) finish() {
	l.release()
	l.mu.Lock()
	l.state.Store(int32(done))
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	l.cancels.Wait() // bounded by Cancel's own timeout
}

// stopped is the error of a statement ended by its run's stop.
func (l *life) stopped(step QueryStep) error {
	return &QueryError{Step: step, Err: fmt.Errorf("stopped: %w", context.Cause(l.ctx))}
}

// ended turns an error met during the statement into the one to report:
// the stop's when it was stopped, an idle timeout when the read deadline
// fired, else err itself. The connection is closed unless the statement
// ended in step with the server.
func (l *life) ended(step QueryStep, err error) error {
	switch {
	case l.stopping():
		l.c.abort()
		return l.stopped(step)
	case l.st.IdleTimeout > 0 && errors.Is(err, os.ErrDeadlineExceeded):
		// The server may be alive but stuck (a lock wait): cancel too.
		l.c.cancelAndClose()
		return &QueryError{Step: step, Err: &IdleTimeoutError{After: l.st.IdleTimeout, From: l.st.IdleFrom}}
	}
	return err
}

// sinkError decides what an error of the sink means: nothing more to
// write because the statement is stopping (keep draining, in a buffer of
// the reader's own, as the sink may still hold a value from the read
// buffer), or a failed destination (sinkFailed).
func (l *life) sinkError(err error) error {
	if !l.stopping() {
		return l.sinkFailed(err)
	}
	if !l.detached {
		l.c.rd.detach()
		l.detached = true
	}
	return nil
}

// sinkFailed stops the statement after the row writer failed: the server
// may still be producing rows nobody will read. When abandon says nobody
// waits (a reader gone), a cancel connection the server is slow to hang
// up is not an error either (sendCancel).
func (l *life) sinkFailed(err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	send := l.c.Cancel
	if l.abandon != nil && l.abandon(err) {
		send = l.c.sendCancel
	}
	cerr := send(ctx)
	l.c.cfg.logger().Info("output failed: cancelled the statement, closing the connection", "error", err.Error(), "cancel_error", errString(cerr))
	l.c.abort()
	return err
}

// cancelAndClose asks the server to cancel, briefly, and closes the
// socket without waiting for the result: the stream is out of sync or its
// rows are not wanted.
func (c *Conn) cancelAndClose() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := c.Cancel(ctx)
	c.cfg.logger().Info("cancelled the statement and closed the connection", "cancel_error", errString(err))
	c.abort()
}

// errString is err's message, or "" for nil, for logs.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
