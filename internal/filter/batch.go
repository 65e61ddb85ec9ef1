// The caller's side of the pipeline: rows gathered into batches (Write,
// Keep) and sent on (Flush) to be filtered on the caller's goroutine or by
// the workers, the time the caller waits for rows noted for the tuner, and
// batches given back once their output is written. A batch holds a slot
// while it is in flight, which bounds the rows in memory.

package filter

import "context"

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

// Write queues one row's JSON text; nil is SQL NULL, filtered as null,
// or, with NullDropped, a row dropped (queued empty, which JSON text never
// is). The bytes are copied. It returns the pipeline's error once there
// is one.
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
	if row == nil && !p.opts.NullDropped {
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
