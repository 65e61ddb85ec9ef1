package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// importSnapshot is false only in the test that shows what a run
// without a shared snapshot gets wrong.
var importSnapshot = true

// partBudget is the memory each range's output may hold before it goes
// to disk. Ranges are cut to about half of it (rangeBytes), so that a
// range runs ahead of the output in memory, and only one much larger than
// the planner expected spills.
const partBudget = 1 << 20

// rangeBytes is the size of output a range is cut for.
const rangeBytes = partBudget / 2

// maxRanges bounds the ranges of a run: each costs a round trip and a
// plan.
const maxRanges = 1024

// openPerWorker is how many parts per connection may be open at once:
// started and not yet written out. With partBudget, it bounds the memory
// the ranges ahead of the output hold.
const openPerWorker = 2

// parallelRun is one --parallel run: a leader whose snapshot every worker
// imports, and the ranges of the split key the workers take in turn, each
// range's lines going to its own part of the output, written in order.
type parallelRun struct {
	run    *wire.Stop
	o      *streamOptions
	stats  *runStats
	log    *slog.Logger
	warn   func(string) // nil with --quiet
	snap   *wire.Snapshot
	ranges []keyRange
	parts  []*output.Part

	mu     sync.Mutex
	err    error // the first error of a worker or the writer
	cutAt  int   // a halt's range: later ranges are not written; -1 none
	halted error
	rows   []int64 // each range's rows, once streamed

	// With --on-jq-error skip: each range's skipped rows, told in the
	// output's order as its range is written (written).
	skips  []rangeSkips
	report *filter.SkipReport

	resume *parallelResume // with --resume
}

// streamParallel streams on o.parallel connections into a writer to dest,
// as streamSingle does on one.
func streamParallel(run *wire.Stop, app *app, o *streamOptions, target io.Writer, stats *runStats) (*output.NDJSON, *progress, error) {
	ctx := run.Context()
	leader, err := wire.Connect(ctx, o.conn)
	if err != nil {
		return nil, nil, err
	}
	defer leader.Close()
	app.setStage(stageQuery, "")
	stats.server = leader.ServerParam("server_version")
	pr := &parallelRun{run: run, o: o, stats: stats, log: o.obs.logger(), cutAt: -1}
	defer leaveCores(leader, o.parallel, pr.log)()
	if !o.obs.quiet {
		pr.warn = app.warn
	}
	if err := pr.prepare(ctx, leader); err != nil {
		return nil, nil, o.withCatalogHint(ctx, leader, err)
	}
	workers, err := pr.connect(ctx)
	defer func() {
		for _, c := range workers {
			_ = c.Close()
		}
	}()
	if err != nil {
		return nil, nil, err
	}
	w := output.NewAsyncNDJSON(ctx, target, o.outputOptions())
	stats.out = w
	var bar *progress
	if o.obs.progress {
		bar = startProgress(app.stderr, safeText(o.relation), stats)
	}
	defer tuneGC()() // as for --jq: the heap near the live one
	err = pr.stream(workers, w, spillDir(o.out.path))
	err = o.withCatalogHint(ctx, leader, err)
	if err == nil {
		// Every range has imported the snapshot and read its rows: a
		// leader that cannot end its transaction itself (its connection
		// lost) has had it ended by the server, and changes nothing read.
		if rerr := pr.snap.Release(ctx); rerr != nil {
			pr.log.Info("leader's ROLLBACK failed after every range was read", "error", rerr.Error())
		}
	}
	return w, bar, err
}

// spillDir is where the lines of ranges ahead of the output wait: beside
// the output file, else in TMPDIR.
func spillDir(path string) string {
	if path == "" {
		return ""
	}
	return filepath.Dir(path)
}

// prepare exports the leader's snapshot and, under it, checks the split
// key, the server's room for the workers, and finds the ranges.
func (pr *parallelRun) prepare(ctx context.Context, leader *wire.Conn) error {
	o := pr.o
	snap, err := leader.ExportSnapshot(ctx, o.wireStatement())
	if err != nil {
		return &parallelError{msg: "the server could not export a snapshot for the other connections", err: err, hint: exportHint}
	}
	pr.snap = snap
	if r := o.resume; r != nil {
		if err := pr.prepareResume(ctx, r); err != nil {
			return err
		}
	}
	user := len(o.params) // the user's parameters (and --resume's), before --jq pushdown's
	if err := o.narrow(ctx, snap.Query, leader.ServerParam("server_encoding")); err != nil {
		return err
	}
	if err := pr.checkKey(ctx); err != nil {
		return err
	}
	if err := pr.checkRoom(ctx); err != nil {
		return err
	}
	rows, width, err := snap.Estimate(ctx, o.stmt.SQL, o.params)
	if err != nil {
		return err
	}
	if o.obs.progress {
		pr.stats.estimate.Store(rows)
	}
	// The key is cut over the rows before --jq pushdown narrows them (a
	// superset, still cut right): the extent query does not select the
	// projection, so the pushdown's parameters would not all be used.
	spec := o.spec
	spec.Narrowing = nil
	c := &cutter{snap: snap, spec: spec, params: o.params[:user:user], plan: o.split, parts: rangeCount(rows, width, o.parallel), conns: o.parallel}
	cuts, err := c.cuts(ctx)
	if err != nil {
		return err
	}
	if len(cuts) == 0 && c.uncut && pr.warn != nil {
		pr.warn(fmt.Sprintf("--parallel: the split key %s could not be cut into ranges (%s): one connection streams every row", safeText(o.split.key), c.how))
	}
	pr.ranges = rangesFrom(cuts, o.split)
	pr.stats.parallel = newParallelStats(o.parallel, len(pr.ranges), o.split.key, c.how)
	pr.log.Info("split", "key", o.split.key, "ranges", len(pr.ranges), "how", c.how, "snapshot", string(snap.ID))
	return nil
}

// rangeCount is how many ranges to cut the key into: enough that each
// holds about rangeBytes of output by the planner's estimate, and at
// least rangesPerWorker per connection, so that a skewed key does not
// leave connections idle.
func rangeCount(rows, width int64, conns int) int {
	n := rows * max(width, 1) / rangeBytes
	return int(min(max(n, int64(rangesPerWorker*conns)), maxRanges))
}

// idColumnSQL counts the relation's columns named id.
const idColumnSQL = `SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'id' AND attnum > 0 AND NOT attisdropped`

// checkKey checks that a relation split by its id column by default has
// one.
func (pr *parallelRun) checkKey(ctx context.Context) error {
	if !pr.o.split.defaultID {
		return nil
	}
	var n string
	err := pr.snap.Query(ctx, idColumnSQL, []string{pr.o.spec.Relation.String()}, func(v [][]byte) error {
		n = string(v[0])
		return nil
	})
	if err != nil {
		return err
	}
	if n != "1" {
		return &usageError{fmt.Errorf("--parallel splits the rows by ranges of a key, and %s has no column named id: give --split-by EXPR "+
			"(an indexed column or expression), or --order-by with one expression", safeText(pr.o.relation))}
	}
	return nil
}

// roomSQL is how many more client connections the server takes, roles
// without reserved slots counted.
const roomSQL = `SELECT current_setting('max_connections')::int
 - current_setting('superuser_reserved_connections')::int
 - coalesce(current_setting('reserved_connections', true)::int, 0)
 - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int`

// checkRoom refuses a run the server has no room for, before it opens
// any other connection.
func (pr *parallelRun) checkRoom(ctx context.Context) error {
	var room int
	err := pr.snap.Query(ctx, roomSQL, nil, func(v [][]byte) error {
		room, _ = strconv.Atoi(string(v[0]))
		return nil
	})
	if err != nil {
		return err
	}
	if n := pr.o.parallel; room < n {
		return &parallelError{connection: true,
			msg:  fmt.Sprintf("the server has room for %d more connections (max_connections), and --parallel %d needs %d besides this one", max(room, 0), n, n),
			hint: parallelRoomHint(room)}
	}
	return nil
}

// connect opens the workers' connections, all at once.
func (pr *parallelRun) connect(ctx context.Context) ([]*wire.Conn, error) {
	conns := make([]*wire.Conn, pr.o.parallel)
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { conns[i], errs[i] = wire.Connect(ctx, pr.o.conn) })
	}
	wg.Wait()
	var open []*wire.Conn
	var first error
	for i, c := range conns {
		if c != nil {
			open = append(open, c)
		} else if first == nil {
			first = errs[i]
		}
	}
	if first != nil {
		return open, &parallelError{msg: fmt.Sprintf("%d of the %d connections of --parallel could not be opened", len(conns)-len(open), len(conns)),
			err: first, hint: connectionsHint}
	}
	return open, nil
}

// stream runs the ranges on the workers, each taking the next range when
// done with one, while the writer writes the ranges' lines in order.
func (pr *parallelRun) stream(workers []*wire.Conn, w *output.NDJSON, dir string) error {
	ctx := pr.run.Context()
	pr.parts = output.NewParts(ctx, len(pr.ranges), dir, partBudget)
	pr.rows = make([]int64, len(pr.ranges))
	if pr.resume != nil {
		pr.resume.start(len(pr.ranges), w)
	}
	if o := pr.o.jq; o != nil && o.policy == filter.Skip {
		pr.skips = make([]rangeSkips, len(pr.ranges))
		pr.report = filter.NewSkipReport(o.warn)
	}
	next := make(chan int, len(pr.ranges))
	for i := range pr.ranges {
		next <- i
	}
	close(next)
	// A range starts only while fewer than openPerWorker per connection
	// are open: started and not written out yet.
	open := make(chan struct{}, openPerWorker*len(workers))
	merged := make(chan error, 1)
	go func() {
		err := output.Merge(pr.parts, w, func(i int) {
			pr.written(i)
			<-open
		})
		if err != nil {
			pr.fail(err)
		}
		merged <- err
	}()
	var wg sync.WaitGroup
	for i, conn := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr.work(i, conn, next, open)
		}()
	}
	wg.Wait()
	<-merged
	pr.stats.parallel.setSpilled(spilledParts(pr.parts))
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.err != nil {
		return pr.err
	}
	if pr.halted != nil {
		pr.globalRow(pr.cutAt, pr.halted)
	} else if pr.report != nil {
		pr.report.Summarize(pr.stats.rows.Load())
	}
	return pr.halted
}

// work runs ranges from next on conn until there are none, or the run
// stops or is cut, each once there is room for it among the open. The room
// is taken before the range, so that ranges start in order of it: the
// next range to write out has always started, or has room to.
func (pr *parallelRun) work(worker int, conn *wire.Conn, next <-chan int, open chan struct{}) {
	ctx := pr.run.Context()
	for {
		select {
		case open <- struct{}{}:
		case <-ctx.Done():
			return
		}
		i, more := <-next
		if !more {
			<-open
			return
		}
		if ctx.Err() != nil || pr.cut(i) {
			pr.parts[i].Drop()
			continue
		}
		err := pr.runRange(worker, conn, i)
		if errors.Is(err, output.ErrPartDropped) {
			continue // a halt in an earlier range: this one is not written
		}
		if endsOutput(err) {
			continue // the output ends in this range (runRange cut it)
		}
		if err != nil {
			pr.fail(err)
			return
		}
	}
}

// runRange streams range i on conn into its part of the output.
func (pr *parallelRun) runRange(worker int, conn *wire.Conn, i int) error {
	o, part := pr.o, pr.parts[i]
	st, stmt, err := pr.statement(i)
	if err != nil {
		return err
	}
	nd := output.NewNDJSON(part, output.Options{ChunkRows: o.chunk})
	var lastRows, lastBytes int64
	count := func(rows, bytes int64) {
		pr.stats.addProgress(rows-lastRows, bytes-lastBytes)
		lastRows, lastBytes = rows, bytes
	}
	obs := wire.Observer{Progress: count}
	var res wire.Result
	var rs *resumeSink
	if o.jq != nil {
		jq := *o.jq
		if pr.skips != nil {
			jq.onSkip = pr.skips[i].add
		}
		if pr.resume != nil {
			pr.resume.wrapJQ(&jq, &rs)
		}
		err = filterStream(pr.run, conn, st, obs, nd, &jq, o.chunk, pr.stats, func(r wire.Result, err error) error { res = r; return err })
	} else {
		var sink wire.RowSink = &rangeSink{ndjsonSink{nd}, part}
		if pr.resume != nil {
			rs = pr.resume.sink(sink)
			sink = rs
		}
		res, err = conn.Stream(pr.run, st, sink, obs)
	}
	count(res.Rows, res.Bytes)
	pr.stats.parallel.add(worker, res)
	pr.mu.Lock()
	pr.rows[i] = res.Rows
	if pr.resume != nil {
		pr.resume.ranged(i, rs)
	}
	pr.mu.Unlock()
	if endsOutput(err) {
		// Later parts go before this one ends: Merge, waiting on it,
		// must not start on the next.
		pr.halt(i, err)
	}
	if err == nil || endsOutput(err) {
		if ferr := nd.Flush(); ferr != nil {
			return ferr
		}
		if cerr := part.Close(); cerr != nil {
			return cerr
		}
	}
	return withStatement(err, &stmt)
}

// rangeSink is the sink of one range's rows: its part of the output,
// flushed only while the part goes out as it comes.
type rangeSink struct {
	ndjsonSink
	part *output.Part
}

func (s *rangeSink) Flush() error {
	if !s.part.Head() {
		return nil // not written yet: no hurry, and fewer, larger writes
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.part.Flush()
}

// statement is range i's statement: the user's, ANDed with the range.
func (pr *parallelRun) statement(i int) (wire.Statement, query.Statement, error) {
	o := pr.o
	spec := o.spec
	r, bounds := pr.ranges[i].spec(o.split.key, len(o.params)+1)
	spec.Range = r
	stmt, err := query.Build(spec)
	if err != nil {
		return wire.Statement{}, stmt, err
	}
	st := o.wireStatement()
	st.SQL = stmt.SQL
	st.Params = append(append([]string(nil), o.params...), bounds...)
	if importSnapshot {
		st.Snapshot = pr.snap.ID
	}
	return st, stmt, nil
}

// fail records the run's first error and stops every session.
func (pr *parallelRun) fail(err error) {
	pr.mu.Lock()
	if pr.err == nil {
		pr.err = err
	}
	pr.mu.Unlock()
	pr.run.Cancel(err)
}

// written is told by Merge that range i is written out: its skipped rows
// are told now, numbered in the whole output.
func (pr *parallelRun) written(i int) {
	pr.mu.Lock()
	var before int64
	for _, n := range pr.rows[:i] {
		before += n
	}
	rows := pr.rows[i]
	var last []string
	if pr.resume != nil {
		last = pr.resume.last[i]
	}
	pr.mu.Unlock()
	if pr.report != nil {
		pr.skips[i].replay(pr.report, before)
	}
	if pr.resume != nil {
		if err := pr.resume.written(i, rows, last); err != nil {
			pr.fail(err)
		}
	}
}
