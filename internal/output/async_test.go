package output_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/output"
)

// hangGuard bounds every wait on an event, so that a bug shows as a
// failure instead of a hung test. It is never used to order events.
const hangGuard = 30 * time.Second

// await returns the next value from ch, or fails the test if none comes.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(hangGuard):
		t.Fatalf("hang guard: no %s after %s", what, hangGuard)
	}
	var zero T
	return zero
}

// lockedBuffer is a destination that is safe to read while the writer's
// goroutine writes to it.
type lockedBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	calls int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// gateWriter is a destination whose writes block until open is called.
// Every write announces itself on started (with a copy of its bytes)
// before it blocks, and on finished once it returns.
type gateWriter struct {
	started  chan []byte
	finished chan struct{}
	release  chan struct{}
	once     sync.Once
	returned atomic.Int32 // writes that have returned

	mu sync.Mutex
	b  bytes.Buffer
}

func newGate(t *testing.T) *gateWriter {
	g := &gateWriter{
		started:  make(chan []byte, 64),
		finished: make(chan struct{}, 64),
		release:  make(chan struct{}),
	}
	t.Cleanup(g.open) // never leave the writer's goroutine stuck
	return g
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.started <- append([]byte(nil), p...)
	<-g.release
	g.mu.Lock()
	g.b.Write(p)
	g.mu.Unlock()
	g.returned.Add(1)
	g.finished <- struct{}{}
	return len(p), nil
}

func (g *gateWriter) open() { g.once.Do(func() { close(g.release) }) }

func (g *gateWriter) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.b.String()
}

// doneHook is a context that reports every call of Done. The asynchronous
// writer calls Done once per select it enters, so a test can tell that a
// caller has got as far as waiting for its write.
type doneHook struct {
	context.Context
	calls chan struct{}
}

func newDoneHook(ctx context.Context) *doneHook {
	return &doneHook{Context: ctx, calls: make(chan struct{}, 64)}
}

func (h *doneHook) Done() <-chan struct{} {
	h.calls <- struct{}{}
	return h.Context.Done()
}

func (h *doneHook) drain() {
	for {
		select {
		case <-h.calls:
		default:
			return
		}
	}
}

// op is one call on an NDJSON writer.
type op struct {
	kind  byte // 'v' WriteValue, 'l' WriteLines, 'f' Flush
	data  []byte
	lines int
}

func val(s string) op   { return op{kind: 'v', data: []byte(s)} }
func null() op          { return op{kind: 'v'} }
func lines(s string) op { return op{kind: 'l', data: []byte(s), lines: strings.Count(s, "\n")} }
func flush() op         { return op{kind: 'f'} }

// str is a JSON string n bytes long, quotes included.
func str(n int, c byte) string { return `"` + strings.Repeat(string(c), n-2) + `"` }

// run applies o to w. The bytes handed over are a copy that is scribbled
// over as soon as the call returns, so a writer that kept them would write
// the wrong bytes (and, asynchronously, race with the scribbling).
func (o op) run(w *output.NDJSON) error {
	var p []byte
	if o.data != nil {
		p = append([]byte(nil), o.data...)
	}
	var err error
	switch o.kind {
	case 'v':
		err = w.WriteValue(p)
	case 'l':
		err = w.WriteLines(p, o.lines)
	case 'f':
		err = w.Flush()
	}
	for i := range p {
		p[i] = 'X'
	}
	return err
}

func TestAsyncMatchesSync(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var random []op
	for range 400 {
		switch r := rng.IntN(20); {
		case r == 0:
			random = append(random, flush())
		case r == 1:
			random = append(random, null())
		case r < 4:
			var b strings.Builder
			n := 1 + rng.IntN(12)
			for i := range n {
				fmt.Fprintf(&b, "{\"i\":%d}\n", i)
			}
			random = append(random, lines(b.String()))
		case r < 6:
			random = append(random, val("[\n\t"+str(2+rng.IntN(150), 'm')+"\r\n]"))
		default:
			random = append(random, val(str(2+rng.IntN(120), byte('a'+rng.IntN(26)))))
		}
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"small values", []op{val(`{"a":1}`), val(`[1,2]`), val(`"x"`), val(`3`)}},
		{"nil value is null", []op{null(), val(`1`), null()}},
		{"empty", nil},
		{"flushes in between", []op{val(`1`), flush(), flush(), val(`2`), val(`3`), flush(), val(`4`)}},
		{"values around the buffer sizes", []op{
			val(str(14, 'a')), val(str(15, 'b')), val(str(16, 'c')), val(str(17, 'd')),
			val(str(62, 'e')), val(str(63, 'f')), val(str(64, 'g')), val(str(65, 'h')),
		}},
		{"large values", []op{val(`1`), val(str(300, 'L')), val(`2`), val(str(5000, 'M')), val(str(5000, 'N')), val(`3`)}},
		{"large value with raw newlines", []op{val(`1`), val("[" + strings.Repeat("1,\n\t", 100) + "1]"), val("{\r\n}")}},
		{"lines small and large", []op{
			lines("1\n2\n"), val(`3`), lines(strings.Repeat("{\"k\":\"vvvvvvvvvv\"}\n", 20)), lines("4\n"), lines(""),
		}},
		{"random", random},
	}
	for _, tt := range tests {
		for _, size := range []int{16, 64, 0} {
			for _, chunk := range []int{0, 1, 3} {
				for _, oneLine := range []bool{false, true} {
					opts := output.Options{BufferSize: size, ChunkRows: chunk, OneLine: oneLine}
					t.Run(fmt.Sprintf("%s/size=%d/chunk=%d/oneline=%t", tt.name, size, chunk, oneLine), func(t *testing.T) {
						var want bytes.Buffer
						sw := output.NewNDJSON(&want, opts)
						var got lockedBuffer
						aw := output.NewAsyncNDJSON(context.Background(), &got, opts)
						for i, o := range append(tt.ops, flush()) {
							if err := o.run(sw); err != nil {
								t.Fatalf("sync op %d: %v", i, err)
							}
							if err := o.run(aw); err != nil {
								t.Fatalf("async op %d: %v", i, err)
							}
						}
						if err := aw.Close(context.Background()); err != nil {
							t.Fatalf("Close: %v", err)
						}
						if err := aw.Close(context.Background()); err != nil {
							t.Fatalf("second Close: %v", err)
						}
						if got.String() != want.String() {
							t.Errorf("async wrote\n%q\nsync wrote\n%q", got.String(), want.String())
						}
						if aw.Rows() != sw.Rows() {
							t.Errorf("Rows() = %d, sync %d", aw.Rows(), sw.Rows())
						}
						if aw.Bytes() != sw.Bytes() || aw.Bytes() != int64(want.Len()) {
							t.Errorf("Bytes() = %d, sync %d, written %d", aw.Bytes(), sw.Bytes(), want.Len())
						}
					})
				}
			}
		}
	}
}

// failingWriter accepts limit bytes, then fails every write.
type failingWriter struct {
	limit   int
	partial bool // the failing write takes the bytes that still fit
	short   bool // the failing write reports a short count, not an error
	err     error

	mu        sync.Mutex
	b         bytes.Buffer
	failed    bool
	afterFail int // writes attempted after the first failure
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed {
		f.afterFail++
		return 0, f.err
	}
	if f.b.Len()+len(p) <= f.limit {
		return f.b.Write(p)
	}
	f.failed = true
	m := 0
	if f.partial {
		m = f.limit - f.b.Len()
		f.b.Write(p[:m])
	}
	if f.short {
		return m, nil
	}
	return m, f.err
}

func TestAsyncWriteError(t *testing.T) {
	var small, mixed []op
	for i := range 30 {
		small = append(small, val(fmt.Sprintf(`{"n":%03d}`, i))) // 10 bytes a line
		mixed = append(mixed, val(fmt.Sprintf(`{"n":%03d}`, i)))
		if i%5 == 4 {
			mixed = append(mixed, val(str(100, byte('a'+i%26))))
		}
	}
	tests := []struct {
		name   string
		dst    *failingWriter
		ops    []op
		want   error
		broken bool
	}{
		{"ENOSPC", &failingWriter{limit: 40, err: syscall.ENOSPC}, small, syscall.ENOSPC, false},
		{"EPIPE at once", &failingWriter{limit: 0, err: syscall.EPIPE}, small, syscall.EPIPE, true},
		{"EPIPE after part of a write", &failingWriter{limit: 45, partial: true, err: syscall.EPIPE}, small, syscall.EPIPE, true},
		{"short write", &failingWriter{limit: 45, partial: true, short: true}, small, io.ErrShortWrite, false},
		{"ENOSPC with large values", &failingWriter{limit: 150, err: syscall.ENOSPC}, mixed, syscall.ENOSPC, false},
		{"EPIPE in a large value", &failingWriter{limit: 150, partial: true, err: syscall.EPIPE}, mixed, syscall.EPIPE, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var full bytes.Buffer
			sw := output.NewNDJSON(&full, output.Options{BufferSize: 32})
			for _, o := range append(tt.ops, flush()) {
				_ = o.run(sw)
			}

			w := output.NewAsyncNDJSON(context.Background(), tt.dst, output.Options{BufferSize: 32})
			var first error
			for i, o := range append(tt.ops, flush()) {
				err := o.run(w)
				if first == nil {
					first = err
					continue
				}
				if err != first {
					t.Errorf("op %d after the error returned %v, want the same error %v", i, err, first)
				}
			}
			if first == nil {
				t.Fatal("no call returned the write error")
			}
			checkWriteError(t, "the call after the failure", first, tt.want, tt.broken)
			cerr := w.Close(context.Background())
			checkWriteError(t, "Close", cerr, tt.want, tt.broken)
			checkWriteError(t, "second Close", w.Close(context.Background()), tt.want, tt.broken)

			// Close has waited for the writer: its state is settled.
			if tt.dst.afterFail != 0 {
				t.Errorf("%d writes after the first failure, want none", tt.dst.afterFail)
			}
			got := tt.dst.b.String()
			if !strings.HasPrefix(full.String(), got) {
				t.Errorf("destination got %q, not a prefix of %q", got, full.String())
			}
			if w.Bytes() != int64(len(got)) {
				t.Errorf("Bytes() = %d, destination accepted %d", w.Bytes(), len(got))
			}
		})
	}
}

func checkWriteError(t *testing.T, what string, err, want error, broken bool) {
	t.Helper()
	var we *output.WriteError
	if !errors.As(err, &we) {
		t.Errorf("%s: %v (%T), want *output.WriteError", what, err, err)
	}
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want one wrapping %v", what, err, want)
	}
	if output.IsBrokenPipe(err) != broken {
		t.Errorf("%s: IsBrokenPipe(%v) = %t, want %t", what, err, !broken, broken)
	}
}

// TestAsyncCancelWhileBlocked stops the run while the destination is stuck
// in a write and the caller waits for the buffer it holds.
func TestAsyncCancelWhileBlocked(t *testing.T) {
	tests := []struct {
		name    string
		blocked func(w *output.NDJSON) error // needs the buffer being written
	}{
		{"Flush", func(w *output.NDJSON) error { return w.Flush() }},
		{"WriteValue filling the buffer", func(w *output.NDJSON) error { return w.WriteValue([]byte(str(60, 'v'))) }},
		{"WriteLines filling the buffer", func(w *output.NDJSON) error { return w.WriteLines([]byte(strings.Repeat("[1]\n", 15)), 15) }},
		{"large value", func(w *output.NDJSON) error { return w.WriteValue([]byte(str(200, 'L'))) }},
		{"large lines", func(w *output.NDJSON) error {
			return w.WriteLines([]byte(strings.Repeat("[1,2,3,4,5,6,7,8,9]\n", 10)), 10)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			cause := errors.New("stopped by the test")
			g := newGate(t)
			w := output.NewAsyncNDJSON(ctx, g, output.Options{BufferSize: 64})

			if err := w.WriteValue([]byte(`{"n":1}`)); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteValue([]byte(`{"n":2}`)); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			inFlight := string(await(t, g.started, "write"))
			if inFlight != "{\"n\":1}\n{\"n\":2}\n" {
				t.Fatalf("write in flight = %q", inFlight)
			}
			// Lands in the buffer the writer did not take.
			if err := w.WriteValue([]byte(`{"n":3}`)); err != nil {
				t.Fatal(err)
			}

			errc := make(chan error, 1)
			go func() { errc <- tt.blocked(w) }()
			cancel(cause)
			if err := await(t, errc, "return from the blocked call"); !errors.Is(err, cause) {
				t.Errorf("blocked call returned %v, want the cause %v", err, cause)
			}
			if n := g.returned.Load(); n != 0 {
				t.Fatalf("%d writes returned before release", n)
			}
			// Every later call gives the cause at once.
			if err := w.WriteValue([]byte(`4`)); !errors.Is(err, cause) {
				t.Errorf("WriteValue after cancel = %v", err)
			}
			if err := w.WriteLines([]byte("5\n"), 1); !errors.Is(err, cause) {
				t.Errorf("WriteLines after cancel = %v", err)
			}
			if err := w.Flush(); !errors.Is(err, cause) {
				t.Errorf("Flush after cancel = %v", err)
			}

			g.open()
			if err := w.Close(context.Background()); err != nil {
				t.Errorf("Close = %v, want nil: no write failed", err)
			}
			if got := g.String(); got != inFlight {
				t.Errorf("destination got %q, want only the write in flight %q", got, inFlight)
			}
			if n := len(g.started); n != 0 {
				t.Errorf("%d more writes began after cancel", n)
			}
			if w.Bytes() != int64(len(inFlight)) {
				t.Errorf("Bytes() = %d, want %d", w.Bytes(), len(inFlight))
			}
		})
	}
}

// TestAsyncCancelledBeforeWriting: nothing at all reaches the destination
// once ctx is done, whatever the calls return.
func TestAsyncCancelledBeforeWriting(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("stopped before the first row")
	cancel(cause)
	var dst lockedBuffer
	w := output.NewAsyncNDJSON(ctx, &dst, output.Options{BufferSize: 16})
	for i, o := range []op{val(`1`), flush(), val(`2`), val(str(100, 'L')), lines("3\n4\n"), flush(), val(`5`), flush()} {
		if err := o.run(w); err != nil && !errors.Is(err, cause) {
			t.Errorf("op %d = %v, want nil or the cause", i, err)
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	if dst.Calls() != 0 || dst.String() != "" {
		t.Errorf("%d writes of %q after ctx was done, want none", dst.Calls(), dst.String())
	}
	if w.Bytes() != 0 {
		t.Errorf("Bytes() = %d, want 0", w.Bytes())
	}
}

// TestAsyncTakesBackQueuedLargeValue: a value too large for the buffer is
// written from the caller's slice. Queued behind a stuck write, it is
// taken back when ctx is done: the caller returns at once and owns the
// slice again, and the value is never written.
func TestAsyncTakesBackQueuedLargeValue(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cause := errors.New("stopped by the test")
	hook := newDoneHook(ctx)
	g := newGate(t)
	w := output.NewAsyncNDJSON(hook, g, output.Options{BufferSize: 16})

	if err := w.WriteValue([]byte(`1`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := string(await(t, g.started, "write")); got != "1\n" {
		t.Fatalf("write in flight = %q", got)
	}

	big := []byte(str(100, 'L'))
	hook.drain()
	errc := make(chan error, 1)
	go func() { errc <- w.WriteValue(big) }()
	// The first Done is the select that queues the value, the second the
	// one that waits for its write: after it the value is queued.
	await(t, hook.calls, "select queueing the value")
	await(t, hook.calls, "select waiting for the value's write")
	cancel(cause)
	if err := await(t, errc, "return from WriteValue"); !errors.Is(err, cause) {
		t.Errorf("WriteValue = %v, want the cause %v", err, cause)
	}
	if n := g.returned.Load(); n != 0 {
		t.Fatalf("WriteValue returned only after the stuck write (%d returned)", n)
	}
	// The slice is the caller's again (the race detector checks that the
	// writer does not read it).
	for i := range big {
		big[i] = 'X'
	}

	g.open()
	if err := w.Close(context.Background()); err != nil {
		t.Errorf("Close = %v", err)
	}
	if got := g.String(); got != "1\n" {
		t.Errorf("destination got %q, want only the write in flight", got)
	}
	if n := len(g.started); n != 0 {
		t.Errorf("%d more writes began after cancel", n)
	}
}

// TestAsyncLargeValueBeingWrittenStaysLent: once the write of a borrowed
// value is under way and ctx is done, the caller does not wait for a
// reader that may never read again: it returns at once with the cause and
// ErrRetained, which says the value's memory is still in use. The write
// itself goes on, and finishes the line once the reader reads.
func TestAsyncLargeValueBeingWrittenStaysLent(t *testing.T) {
	for _, oneLine := range []bool{false, true} {
		t.Run(fmt.Sprintf("oneline=%t", oneLine), func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			cause := errors.New("stopped by the test")
			g := newGate(t)
			w := output.NewAsyncNDJSON(ctx, g, output.Options{BufferSize: 16, OneLine: oneLine})

			big := []byte(str(100, 'L'))
			errc := make(chan error, 1)
			go func() { errc <- w.WriteValue(big) }()
			want := string(big)
			if got := string(await(t, g.started, "write")); got != want {
				t.Fatalf("write in flight = %q, want the large value", got)
			}
			cancel(cause)
			err := await(t, errc, "return from WriteValue")
			if !errors.Is(err, cause) || !errors.Is(err, output.ErrRetained) {
				t.Errorf("WriteValue = %v, want the cause and ErrRetained", err)
			}
			if n := g.returned.Load(); n != 0 {
				t.Errorf("WriteValue waited for %d writes to return", n)
			}
			// The value is not touched: it is still being written.
			g.open()
			if err := w.Close(context.Background()); err != nil {
				t.Errorf("Close = %v", err)
			}
			if got := g.String(); got != want+"\n" {
				t.Errorf("destination got %q, want the large value and its newline", got)
			}
		})
	}
}

// TestAsyncClose covers Close with a ctx already done while a write is
// stuck, Close twice, and Close not flushing.
func TestAsyncClose(t *testing.T) {
	t.Run("done ctx while a write is stuck", func(t *testing.T) {
		g := newGate(t)
		w := output.NewAsyncNDJSON(context.Background(), g, output.Options{})
		if err := w.WriteValue([]byte(`1`)); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		await(t, g.started, "write")

		cctx, ccancel := context.WithCancelCause(context.Background())
		closeCause := errors.New("grace period over")
		ccancel(closeCause)
		errc := make(chan error, 1)
		go func() { errc <- w.Close(cctx) }()
		if err := await(t, errc, "return from Close"); !errors.Is(err, closeCause) {
			t.Errorf("Close = %v, want the close ctx's cause", err)
		}
		if n := g.returned.Load(); n != 0 {
			t.Fatalf("Close returned only after the stuck write (%d returned)", n)
		}

		g.open()
		await(t, g.finished, "end of the stuck write")
		if err := w.Close(context.Background()); err != nil {
			t.Errorf("second Close = %v", err)
		}
		if got := g.String(); got != "1\n" {
			t.Errorf("destination got %q", got)
		}
	})
	t.Run("twice", func(t *testing.T) {
		var dst lockedBuffer
		w := output.NewAsyncNDJSON(context.Background(), &dst, output.Options{})
		for _, o := range []op{val(`1`), val(`2`), flush()} {
			if err := o.run(w); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 2 {
			if err := w.Close(context.Background()); err != nil {
				t.Errorf("Close %d = %v", i+1, err)
			}
		}
		if dst.String() != "1\n2\n" || w.Bytes() != 4 {
			t.Errorf("destination got %q, Bytes() = %d", dst.String(), w.Bytes())
		}
	})
	t.Run("does not flush", func(t *testing.T) {
		var dst lockedBuffer
		w := output.NewAsyncNDJSON(context.Background(), &dst, output.Options{})
		if err := w.WriteValue([]byte(`1`)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if dst.Calls() != 0 || w.Bytes() != 0 {
			t.Errorf("Close wrote %q", dst.String())
		}
	})
}
