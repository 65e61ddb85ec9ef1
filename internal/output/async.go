// Writing off the caller's goroutine: the network reader hands full
// buffers over and goes back to reading, and a caller whose run is
// interrupted is never stuck in a write to a consumer that stopped reading.

package output

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// asyncOut writes buffers to w on a goroutine of its own, in order. It
// owns two buffers: one the NDJSON writer fills while the other is written.
type asyncOut struct {
	ctx  context.Context
	w    io.Writer
	jobs chan outJob
	free chan []byte
	done chan struct{}

	mu  sync.Mutex
	err error // the first write error

	bytes atomic.Int64
}

// outJob is one write. A pooled buffer goes back to free afterwards. A
// borrowed p belongs to the caller, who waits on written: state lets the
// caller take p back while the job is still queued.
type outJob struct {
	// then, when set, is run in p's stead, once the jobs before it are
	// done (NDJSON.Then).
	then    func() error
	p       []byte
	newline bool // a newline follows p, whatever happens meanwhile
	pooled  bool
	state   *atomic.Int32
	written chan struct{}
}

// The states of a borrowed job.
const (
	jobQueued = iota
	jobWriting
	jobDropped
)

func startAsync(ctx context.Context, w io.Writer, size int) *asyncOut {
	a := &asyncOut{
		ctx: ctx, w: w,
		jobs: make(chan outJob, 1),
		free: make(chan []byte, 2),
		done: make(chan struct{}),
	}
	a.free <- make([]byte, 0, size)
	go a.loop()
	return a
}

func (a *asyncOut) loop() {
	defer close(a.done)
	for j := range a.jobs {
		if j.state != nil && !j.state.CompareAndSwap(jobQueued, jobWriting) {
			close(j.written) // the caller took p back
			continue
		}
		// Once the run is stopped, nothing more is written: a reader that
		// is still there sees whole lines up to some point.
		if a.failed() == nil && a.ctx.Err() == nil {
			var err error
			if j.then != nil {
				err = j.then()
			} else if err = a.write(j.p); err == nil && j.newline {
				err = a.write(newline)
			}
			if err != nil {
				a.mu.Lock()
				a.err = asWriteError(err)
				a.mu.Unlock()
			}
		}
		if j.pooled {
			a.free <- j.p[:0]
		}
		if j.written != nil {
			close(j.written)
		}
	}
}

var newline = []byte{'\n'}

func (a *asyncOut) write(p []byte) error {
	m, err := a.w.Write(p)
	a.bytes.Add(int64(m))
	if err == nil && m < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

func (a *asyncOut) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// swap hands p, a pooled buffer, over to be written and returns the other
// pooled buffer once it is free.
func (a *asyncOut) swap(p []byte) ([]byte, error) {
	if err := a.failed(); err != nil {
		return nil, err
	}
	select {
	case a.jobs <- outJob{p: p, pooled: true}:
	case <-a.ctx.Done():
		return nil, context.Cause(a.ctx)
	}
	select {
	case b := <-a.free:
		return b, a.failed()
	case <-a.ctx.Done():
		return nil, context.Cause(a.ctx)
	}
}

// then has fn run after the writes handed over before it, without
// waiting for it.
func (a *asyncOut) then(fn func() error) error {
	if err := a.failed(); err != nil {
		return err
	}
	select {
	case a.jobs <- outJob{then: fn}:
		return nil
	case <-a.ctx.Done():
		return context.Cause(a.ctx)
	}
}

// ErrRetained wraps the cause returned when a run stops while a borrowed
// value is being written: the value's memory is still in use, and its
// owner must not reuse it.
var ErrRetained = errors.New("a value handed to the output is still being written")

// writeBorrowed writes p, and a newline if asked, and waits until it is
// written. p stays the caller's: a large value is written from where it
// lies, never copied. If ctx is done first, p is taken back when its write
// has not begun; when it has, the wait ends all the same (a reader that
// stopped reading would hold it forever) but p is in use until the write
// returns, which the error says by wrapping ErrRetained.
func (a *asyncOut) writeBorrowed(p []byte, newline bool) error {
	if err := a.failed(); err != nil {
		return err
	}
	j := outJob{p: p, newline: newline, state: new(atomic.Int32), written: make(chan struct{})}
	select {
	case a.jobs <- j:
	case <-a.ctx.Done():
		return context.Cause(a.ctx)
	}
	select {
	case <-j.written:
		return a.failed()
	case <-a.ctx.Done():
		if !j.state.CompareAndSwap(jobQueued, jobDropped) {
			return fmt.Errorf("%w (%w)", context.Cause(a.ctx), ErrRetained)
		}
		return context.Cause(a.ctx)
	}
}

// close lets the writer finish what was handed over and waits for it,
// until ctx is done.
func (a *asyncOut) close(ctx context.Context) error {
	close(a.jobs)
	select {
	case <-a.done:
		return a.failed()
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
