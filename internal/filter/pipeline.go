// The Pipeline runs a filter over a stream of rows in bounded memory and
// writes the outputs in row order. This file holds its options, counts and
// parts, and how NewPipeline sizes them. Rows enter in batch.go, are
// filtered in worker.go (by workers, or on the caller's goroutine at level
// 0: level.go, the level chosen as the rows flow by tune.go), are written
// in row order in collect.go, and the run ends in stop.go.

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
	// Warn receives the pipeline's SkipReport: a warning at the first
	// skipped row of each kind of failure, in row order, and a summary
	// (several lines) on Close; nil discards them.
	Warn func(msg string)
	// OnSkip, when set, receives each skipped row's number and message
	// instead of Warn: for a caller that reports several pipelines' skips
	// as one (a SkipReport), in an order of its own.
	OnSkip func(row int64, msg string)
	// NullDropped says that an SQL NULL row is one the server dropped for
	// the expression (internal/pushdown, a select it certainly drops): it
	// counts as a row, which the expression does not run on. A NULL value
	// then comes as JSON null.
	NullDropped bool
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

	report *SkipReport
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
		report:  NewSkipReport(opts.Warn),
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
