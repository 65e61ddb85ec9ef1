// How a stream ends early: the watch that turns a done context into a
// cancel request, a bounded drain and, failing that, a closed socket, and
// the errors a stream ends with.
//
// One stream's life, as the goroutine that reads its answers sees it
// (stream.go, stream_answers.go):
//
//	written: BEGIN, statement, Sync, ROLLBACK (one round trip)
//	   │
//	   ▼
//	executing ── each row ──▶ sink (the value lies in the read buffer until the sink returns)
//	   │
//	   ├─ Sync's ReadyForQuery, as many rows as the command tag says, sink flushed
//	   │     ─▶ delivered: the stream has succeeded, whatever comes after
//	   │        ─▶ ROLLBACK's ReadyForQuery ─▶ idle: the session can run the next statement
//	   ├─ context done (stopWatch, from any goroutine)
//	   │     ├─ a cause nobody waits for (Stop's abandon: the reader is gone)
//	   │     │     ─▶ abandoned: cancel request written, not awaited; socket closed at once
//	   │     └─ any other cause (a signal)
//	   │           ─▶ draining: cancel request delivered; rows read and dropped up to the
//	   │              ROLLBACK's ReadyForQuery, for drainTimeout at most, then the socket is
//	   │              closed ─▶ idle, or closed
//	   ├─ the sink fails (not from the stop) ─▶ cancel, close (sinkFailed)
//	   └─ a server error, a lost connection or a protocol violation
//	         ─▶ the rows received so far flushed (failed); closed unless the session is in step
//
// Who may stop a stream: only its context's cause, which the caller sets
// (fraise's CLI: a signal, the stdout watcher), and the sink, by failing.
// Who owns a row's bytes: the read buffer, until the sink's WriteValue
// returns; a value of KeepMin bytes or more given to a ValueKeeper is the
// keeper's for good, the reader going on in a new buffer (release); a
// stop met while the sink may still hold a value drains into a new buffer
// too (detach). Every session of a run watches the same context, so N
// sessions stop together, each draining its own connection.

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

// stopWatch ends a stream whose context is done: it asks the server to
// cancel and lets the caller drain the rest of the result, for at most
// drainTimeout; then it closes the socket. A server that gave no cancel key
// gets its socket closed at once, and so does a stop whose cause the
// stream abandons (after the cancel request is sent, unconfirmed). Once
// the stream has returned, a context done late changes nothing, and a
// cancel request already under way has been delivered: it cannot hit a
// later statement.
type stopWatch struct {
	stopping atomic.Bool
	release  func() bool

	mu        sync.Mutex
	timer     *time.Timer
	cancelled chan struct{} // closed once the cancel request is delivered
	finished  bool
}

func (c *Conn) watch(ctx context.Context, abandon func(error) bool) *stopWatch {
	w := &stopWatch{}
	nc := c.nc
	w.release = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.finished {
			return
		}
		w.stopping.Store(true)
		log := c.cfg.logger()
		cause := context.Cause(ctx)
		switch {
		case c.secret == nil:
			log.Info("stopping: no cancel key, closing the connection", "cause", cause.Error())
			_ = nc.Close()
			return
		case abandon != nil && abandon(cause):
			w.abandon(c, nc, cause)
			return
		}
		log.Info("stopping: sending a cancel request, then draining", "cause", cause.Error(), "backend_pid", c.pid, "drain_limit", drainTimeout)
		w.timer = time.AfterFunc(drainTimeout, func() {
			log.Info("drain took too long: closing the connection", "after", drainTimeout)
			_ = nc.Close()
		})
		w.cancelled = make(chan struct{})
		go func() {
			defer close(w.cancelled)
			started := time.Now()
			if err := c.Cancel(context.Background()); err != nil {
				log.Info("cancel request failed", "error", err.Error())
				return
			}
			log.Info("cancel request delivered", "elapsed", time.Since(started).Round(time.Microsecond))
		}()
	})
	return w
}

// abandon ends a stream nobody waits for: the cancel request is written
// (not waited for) and the connection closed, so that the client can go
// at once. The backend stops on the cancel, or at its next write to the
// closed socket, and rolls the transaction back.
func (w *stopWatch) abandon(c *Conn, nc interface{ Close() error }, cause error) {
	w.cancelled = make(chan struct{})
	go func() {
		defer close(w.cancelled)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := c.sendCancel(ctx)
		_ = nc.Close()
		c.cfg.logger().Info("stopping: nothing more is wanted: cancel request sent, connection closed without draining",
			"cause", cause.Error(), "backend_pid", c.pid, "cancel_error", errString(err))
	}()
}

// done stops the watch once the stream has returned.
func (w *stopWatch) done() {
	w.release()
	w.mu.Lock()
	w.finished = true
	if w.timer != nil {
		w.timer.Stop()
	}
	cancelled := w.cancelled
	w.mu.Unlock()
	if cancelled != nil {
		<-cancelled // bounded by Cancel's own timeout
	}
}

// stopped is the error of a stream ended by its context.
func stopped(ctx context.Context, step QueryStep) error {
	return &QueryError{Step: step, Err: fmt.Errorf("stopped: %w", context.Cause(ctx))}
}

// ended turns an error met during a stream into the one to report: the
// context's cause when it is done, an idle timeout when the read deadline
// fired, else err itself. The connection is closed unless the stream ended
// in step with the server.
func (c *Conn) ended(ctx context.Context, st Statement, step QueryStep, err error) error {
	switch {
	case ctx.Err() != nil:
		c.abort()
		return stopped(ctx, step)
	case st.IdleTimeout > 0 && errors.Is(err, os.ErrDeadlineExceeded):
		// The server may be alive but stuck (a lock wait): cancel too.
		c.cancelAndClose()
		return &QueryError{Step: step, Err: &IdleTimeoutError{After: st.IdleTimeout, From: st.IdleFrom}}
	}
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
