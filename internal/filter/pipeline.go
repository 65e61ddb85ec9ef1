package filter

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// LineWriter receives the pipeline's output: complete lines, in row order.
type LineWriter interface {
	// WriteLines writes p, which holds n complete lines.
	WriteLines(p []byte, n int) error
	// Flush pushes buffered lines to the destination.
	Flush() error
}

// Policy says what a row the filter fails on does to the stream.
type Policy int

const (
	// Fail stops the stream at the first failing row.
	Fail Policy = iota
	// Skip drops the failing row's output, warns, and goes on.
	Skip
)

// PipelineOptions tune a Pipeline.
type PipelineOptions struct {
	// Workers is the number of goroutines that run the filter. 0 lets
	// the pipeline choose, and choose again as the rows flow, between
	// filtering each batch on the goroutine that writes the rows (when
	// the expression's time is bounded by the row's size, see
	// bounded.go) and handing the batches to up to GOMAXPROCS workers:
	// whichever moves the rows fastest (see tune.go).
	Workers int
	// MaxRows bounds the rows received but not yet written (at least 1).
	MaxRows int
	// Policy says what a failing row does.
	Policy Policy
	// Warn receives warnings about skipped rows, one line each, in row
	// order; nil discards them.
	Warn func(msg string)
	// Clock replaces, when set, the monotonic clock by which a pipeline
	// that chooses its workers measures its throughput: the time since
	// some fixed instant. It is for tests.
	Clock func() time.Duration
}

// Counts are a pipeline's counters, final once Close has returned.
type Counts struct {
	// Rows is the number of rows received.
	Rows int64
	// Lines is the number of lines written.
	Lines int64
	// Filtered is the number of rows for which the filter produced nothing.
	Filtered int64
	// Skipped is the number of rows dropped because the filter failed on
	// them (Policy Skip).
	Skipped int64
}

// Sizes of the units of work. A batch closes at batchBytes of row text or
// at the pipeline's batch row count; a worker hands its output on in
// pieces of about chunkBytes, so a filter with huge (or endless) output
// per row still runs in bounded memory.
const (
	maxBatchRows = 256
	batchBytes   = 256 << 10
	// dropRowBytes is the size from which a batch's buffer is not kept
	// for the next batch: after a huge row, its memory goes back (and the
	// decoders forget it too). It equals wire.KeepMin, so a row handed
	// over uncopied is never a later batch's buffer (keep_test.go checks
	// it: filter does not import wire).
	dropRowBytes = 4 * batchBytes
	chunkBytes   = 256 << 10
	// skipHoldBytes is how much of one row's output a Skip pipeline holds
	// back, so that it can drop it if the row fails; beyond it, the output
	// is handed on (an endless filter must not take endless memory) and
	// stays written.
	skipHoldBytes = 16 << 20
)

// maxWarned bounds the distinct failure messages a Skip pipeline shows.
const maxWarned = 20

// Pipeline runs a filter over rows, on the caller's goroutine or on
// workers, and writes the outputs in row order. Write, Flush, Close and
// Abort are called from one goroutine.
type Pipeline struct {
	f     *Filter
	w     LineWriter
	opts  PipelineOptions
	ctx   context.Context
	stop  context.CancelCauseFunc
	rows  int // per batch
	slots chan struct{}
	// work holds the batches handed to the workers, and order the same
	// batches in row order, for the collector.
	work  chan *batch
	order chan *batch
	// free and bufs hold the batches and output buffers not in use. They
	// are bounded lists, not sync.Pools: a pool empties at every garbage
	// collection, and each buffer made again grows by appending, which
	// costs more garbage and a heap that settles higher.
	free chan *batch
	bufs chan []byte
	wg   sync.WaitGroup

	// The level: how many workers filter the batches, 0 meaning the
	// caller. It is fixed unless tune chooses it (see level.go).
	level    atomic.Int32
	tune     *tuner
	started  int             // workers started
	wake     []chan struct{} // per worker: the level rose
	quit     chan struct{}   // closed at shutdown
	self     *rowRunner      // the caller's, for level 0
	handed   bool            // batches given to workers since the last drain
	barrier  *batch          // sent through order to wait for the collector
	drained  chan struct{}   // the collector reached the barrier
	doneText atomic.Int64    // bytes of the rows whose output is written
	// The caller's time waiting for rows, for tune: waited in all, and
	// since when, while waiting.
	waited   time.Duration
	waitFrom time.Duration
	waiting  bool

	cur    *batch
	dirty  bool // batches sent since the last flush request
	next   int64
	closed bool

	errOnce sync.Once
	err     atomic.Pointer[error]
	// counts and the Skip bookkeeping are the writer's of the output: the
	// collector's, or the caller's at level 0 once the collector is idle.
	counts Counts // read after Close

	skipped map[string]int64
	msgs    []string
}

// batch is a run of rows and, later, their output.
type batch struct {
	data  []byte
	ends  []int
	first int64 // number of the first row
	flush bool
	out   chan *chunk // made when a worker takes the batch
}

// chunk is a piece of a batch's output.
type chunk struct {
	buf      []byte
	lines    int
	filtered int64
	skips    []skip
	err      error // ends the stream once buf is written
}

type skip struct {
	row int64
	msg string
}

// NewPipeline starts a pipeline that filters rows with f and writes to
// w, and its workers if their number is fixed. It stops when ctx is done.
func NewPipeline(ctx context.Context, f *Filter, w LineWriter, opts PipelineOptions) *Pipeline {
	workers := opts.Workers
	var tune *tuner
	if workers <= 0 {
		// Level 0 is only for an expression that ends (see bounded.go):
		// one that may not must never stop the reader of the network,
		// which ends the session while the last rows are filtered.
		workers = defaultMaxWorkers()
		if levels := ladder(workers, f.bounded); len(levels) > 1 {
			tune = newTuner(levels, opts.Clock)
		}
	}
	opts.MaxRows = max(opts.MaxRows, 1)
	rows := min(max(opts.MaxRows/(2*workers), 1), maxBatchRows)
	inFlight := max(opts.MaxRows/rows, 1)
	p := &Pipeline{
		f: f, w: w, opts: opts, rows: rows,
		slots:   make(chan struct{}, inFlight),
		work:    make(chan *batch, inFlight),
		order:   make(chan *batch, inFlight),
		skipped: map[string]int64{},
		tune:    tune,
		wake:    make([]chan struct{}, workers),
		quit:    make(chan struct{}),
		barrier: &batch{},
		drained: make(chan struct{}, 1),
	}
	p.ctx, p.stop = context.WithCancelCause(ctx)
	p.free = make(chan *batch, inFlight)
	// Buffers in use at once: a chunk being filled by each worker and
	// the caller, one queued per batch in flight, and one being written.
	p.bufs = make(chan []byte, workers+inFlight+2)
	p.wg.Add(1)
	go p.collect()
	if tune != nil {
		p.setLevel(tune.level())
	} else {
		p.setLevel(workers)
	}
	return p
}

// Write queues one row's JSON text; nil is SQL NULL, filtered as null. The
// bytes are copied. It returns the pipeline's error once there is one.
func (p *Pipeline) Write(row []byte) error {
	if err := p.Err(); err != nil {
		return err
	}
	if p.cur == nil {
		p.resume()
		if err := p.take(); err != nil {
			return err
		}
	}
	b := p.cur
	if row == nil {
		row = nullText
	}
	b.data = append(b.data, row...)
	b.ends = append(b.ends, len(b.data))
	p.next++
	if len(b.ends) >= p.rows || len(b.data) >= batchBytes {
		p.send(false)
	}
	return nil
}

var nullText = []byte("null")

// Keep queues one row's JSON text as Write does, but takes the slice for
// the pipeline's own rather than copying it; the caller must not touch it
// again. It suits huge rows, which then take their memory once, not
// twice. The row is a batch of its own.
func (p *Pipeline) Keep(row []byte) error {
	if row == nil {
		return p.Write(nil) // SQL NULL: nothing to keep
	}
	if err := p.Err(); err != nil {
		return err
	}
	p.resume()
	if p.cur != nil {
		p.send(false)
	}
	if err := p.take(); err != nil {
		return err
	}
	b := p.cur
	b.data, b.ends = row, append(b.ends[:0], len(row))
	p.next++
	p.send(false)
	return nil
}

// Flush sends the rows queued so far on and asks for the output to be
// flushed once they are written. It does not wait for that, unless the
// rows are filtered on the caller's goroutine. The caller flushes before
// it waits for more rows: a pipeline that chooses its workers counts the
// time until the next Write or Keep as time spent waiting for rows.
func (p *Pipeline) Flush() error {
	if err := p.Err(); err != nil {
		return err
	}
	if p.cur != nil || p.dirty {
		if p.cur == nil {
			if err := p.take(); err != nil {
				return err
			}
		}
		p.send(true)
	}
	p.pause()
	return nil
}

// pause notes that the caller starts waiting for rows.
func (p *Pipeline) pause() {
	if p.tune != nil && !p.waiting {
		p.waiting, p.waitFrom = true, p.tune.clock()
	}
}

// resume notes that rows came.
func (p *Pipeline) resume() {
	if p.waiting {
		p.waiting = false
		p.waited += p.tune.clock() - p.waitFrom
	}
}

// Close sends the last rows, waits for every output to be written and
// flushed, and returns the pipeline's error, if any.
func (p *Pipeline) Close() error {
	if !p.closed {
		_ = p.Flush() // its error, if any, is p.Err()
	}
	p.shutdown()
	if err := p.Err(); err != nil {
		return err
	}
	if p.ctx.Err() != nil {
		// Stopped from outside: what was queued may not be written.
		return context.Cause(p.ctx)
	}
	p.summarize()
	return nil
}

// Abort stops the pipeline without writing what is queued and waits for
// its goroutines.
func (p *Pipeline) Abort() {
	p.fail(context.Canceled)
	p.shutdown()
}

// Err returns the error that stopped the pipeline, or nil.
func (p *Pipeline) Err() error {
	if e := p.err.Load(); e != nil {
		return *e
	}
	return nil
}

// Counts returns the counters; they are final once Close or Abort returned.
func (p *Pipeline) Counts() Counts {
	c := p.counts
	c.Rows = p.next
	return c
}

func (p *Pipeline) shutdown() {
	if !p.closed {
		p.closed = true
		if p.cur != nil {
			p.recycle(p.cur)
			p.cur = nil
		}
		close(p.work)
		close(p.order)
		close(p.quit)
	}
	p.wg.Wait()
}

// fail records the first error and stops everything.
func (p *Pipeline) fail(err error) {
	p.errOnce.Do(func() {
		p.err.Store(&err)
		p.stop(err)
	})
}

// take starts a batch once one is free.
func (p *Pipeline) take() error {
	select {
	case p.slots <- struct{}{}:
	case <-p.ctx.Done():
		if err := p.Err(); err != nil {
			return err
		}
		return context.Cause(p.ctx)
	}
	var b *batch
	select {
	case b = <-p.free:
	default:
		b = &batch{}
	}
	b.first = p.next + 1
	p.cur = b
	return nil
}

// send filters the current batch on the caller's goroutine at level 0,
// and otherwise hands it to the workers and the collector. Neither
// channel can be full: both hold as many batches as there are slots.
func (p *Pipeline) send(flush bool) {
	b := p.cur
	p.cur = nil
	b.flush = flush
	p.dirty = !flush
	if p.tune != nil && !p.adjust(p.tune.observe(p.doneText.Load(), p.waited)) {
		p.recycle(b) // stopped: nothing more is written
		return
	}
	if p.level.Load() == 0 {
		p.runHere(b)
		return
	}
	b.out = make(chan *chunk, 1)
	p.handed = true
	p.order <- b
	p.work <- b
}

func (p *Pipeline) recycle(b *batch) {
	b.data, b.ends, b.out, b.flush = b.data[:0], b.ends[:0], nil, false
	if cap(b.data) >= dropRowBytes {
		b.data = nil // after a huge row
	}
	select {
	case p.free <- b:
	default:
	}
	<-p.slots
}
