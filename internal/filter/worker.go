// Filtering a batch: a rowRunner feeds a batch's rows through one run of
// the compiled expression and hands its output on in chunks, to the
// collector (a worker's) or straight to the writer (the caller's, at
// level 0).

package filter

import (
	"context"
	"errors"
	"fmt"

	"github.com/itchyny/gojq"
)

// worker filters batches while the level is above i, its index.
func (p *Pipeline) worker(i int) {
	defer p.wg.Done()
	r, err := p.newRunner(false)
	if err != nil {
		p.fail(err)
		for b := range p.work {
			close(b.out)
		}
		return
	}
	for {
		if i >= int(p.level.Load()) {
			select {
			case <-p.wake[i]:
				continue
			case <-p.quit:
				return
			}
		}
		b, ok := <-p.work
		if !ok {
			return
		}
		r.batch(b)
	}
}

// newRunner returns a rowRunner with its own compiled code; direct is for
// the caller's, which writes its output itself.
func (p *Pipeline) newRunner(direct bool) (*rowRunner, error) {
	r := &rowRunner{p: p, hold: chunkBytes, direct: direct}
	r.dec.own = p.f.ownStrings
	if p.opts.Policy == Skip {
		r.hold = skipHoldBytes
	}
	code, err := p.f.compile(r)
	if err != nil {
		// Compile compiled the same query already.
		return nil, fmt.Errorf("internal error: %w", err)
	}
	r.code = code
	return r, nil
}

// rowRunner is a worker's state, or the caller's. One run of its code
// filters the rows of a batch, pulled through Next; every output belongs
// to the row pulled last. An error ends the run, and the next run goes on
// from the next row.
type rowRunner struct {
	p    *Pipeline
	code *gojq.Code
	dec  decoder
	enc  encoder
	b    *batch
	c    *chunk // the output being filled

	i      int   // index in b of the row being filtered
	start  int   // offset in b.data of the next row
	n      int   // outputs of row i
	bad    bool  // row i failed
	decErr error // row i is not valid JSON, or too deep
	// mark is where row i's output starts in c, or -1 once part of it has
	// been handed on.
	mark, markLines int
	// hold is the output size at which a row's output is handed on before
	// the row is done.
	hold int
	// direct runners write their chunks (the caller's, at level 0);
	// the others hand them to the collector through the batch.
	direct bool
}

// Next hands the next row of the batch to the expression. It implements
// gojq.Iter.
func (r *rowRunner) Next() (any, bool) {
	r.endRow()
	if r.i+1 >= len(r.b.ends) || r.p.ctx.Err() != nil {
		return nil, false
	}
	r.i++
	end := r.b.ends[r.i]
	text := r.b.data[r.start:end]
	r.start = end
	r.n, r.bad = 0, false
	for len(text) == 0 && r.p.opts.NullDropped {
		// A row the server dropped (NullDropped): filtered, never run.
		r.endRow()
		if r.i+1 >= len(r.b.ends) {
			return nil, false
		}
		r.i++
		end = r.b.ends[r.i]
		text = r.b.data[r.start:end]
		r.start = end
		r.n, r.bad = 0, false
	}
	if len(r.c.buf) >= chunkBytes && !r.pass() {
		return nil, false
	}
	r.mark, r.markLines = len(r.c.buf), r.c.lines
	v, err := r.dec.decode(text, r.p.f.dem)
	var de *DepthError
	switch {
	case errors.As(err, &de):
		r.decErr = fmt.Errorf("the row is %w, too deep for --jq", err)
		return nil, false
	case err != nil:
		r.decErr = fmt.Errorf("the row is not valid JSON: %w", err)
		return nil, false
	}
	return v, true
}

// endRow counts row i as filtered when it produced nothing.
func (r *rowRunner) endRow() {
	if r.i >= 0 && r.n == 0 && !r.bad {
		r.c.filtered++
		r.bad = true // counted once
	}
}

func (r *rowRunner) batch(b *batch) {
	p := r.p
	if !r.direct {
		defer close(b.out)
	}
	if r.c == nil {
		r.c = p.newChunk()
	} else {
		// The chunk the last batch's pass made, never handed on: its
		// buffer is reused, not left to the collector.
		*r.c = chunk{buf: r.c.buf[:0]}
	}
	r.b, r.i, r.start = b, -1, 0
	for r.i+1 < len(b.ends) {
		err := r.run()
		if err == nil {
			err, r.decErr = r.decErr, nil
		}
		if p.ctx.Err() != nil {
			return
		}
		if err == nil {
			continue
		}
		r.bad = true
		row := b.first + int64(r.i)
		var he *HaltError
		if errors.As(err, &he) {
			he.Row = row
			r.c.err = he
		} else if p.opts.Policy == Skip {
			if r.mark >= 0 {
				r.c.buf, r.c.lines = r.c.buf[:r.mark], r.markLines
			}
			r.c.skips = append(r.c.skips, skip{row, err.Error()})
			continue
		} else {
			// The error's message may quote the row's values, which the
			// next row is decoded over: it is read later, so fix it now.
			r.c.err = &RowError{Row: row, Err: frozen(err)}
		}
		r.pass()
		return
	}
	r.endRow()
	r.pass()
}

// run runs the code over the batch's remaining rows until they are done or
// a row fails.
func (r *rowRunner) run() (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("internal error in the jq engine: %v", e)
		}
	}()
	raw := r.p.f.raw
	ctx := r.p.ctx
	if r.p.f.bounded {
		// Stopped between rows (by Next), not at every step.
		ctx = context.Background()
	}
	it := r.code.RunWithContext(ctx, nil, r.p.f.values...)
	for {
		v, ok := it.Next()
		if !ok {
			return nil
		}
		if err, ok := v.(error); ok {
			var he *gojq.HaltError
			if errors.As(err, &he) {
				// The value may be the row's, which the next row is
				// decoded over: it is reported later, so copy it out.
				return &HaltError{Code: he.ExitCode(), Value: own(he.Value())}
			}
			return err
		}
		c := r.c
		if s, ok := v.(string); ok && raw {
			c.buf = append(c.buf, s...)
		} else {
			n := len(c.buf)
			if c.buf, err = r.enc.appendValue(c.buf, v); err != nil {
				c.buf = c.buf[:n] // no part of a value that cannot be written
				return err
			}
		}
		c.buf = append(c.buf, '\n')
		c.lines++
		r.n++
		if len(c.buf) >= r.hold && !r.pass() {
			return nil // stopped: the caller sees ctx
		}
	}
}

// pass hands the chunk to the collector, or writes it, and starts
// another; false means the pipeline stopped.
func (r *rowRunner) pass() bool {
	if r.direct {
		r.p.emit(r.c)
		buf := r.c.buf[:0]
		if !keepBuf(buf) {
			buf = nil
		}
		*r.c = chunk{buf: buf}
		r.mark, r.markLines = -1, 0
		return r.p.ctx.Err() == nil
	}
	select {
	case r.b.out <- r.c:
		r.c = r.p.newChunk()
		r.mark, r.markLines = -1, 0
		return true
	case <-r.p.ctx.Done():
		return false
	}
}

// newChunk returns an empty chunk, reusing a written buffer.
func (p *Pipeline) newChunk() *chunk {
	c := &chunk{}
	select {
	case b := <-p.bufs:
		c.buf = b[:0]
	default:
	}
	return c
}
