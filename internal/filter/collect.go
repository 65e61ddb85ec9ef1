// The collector's side of the pipeline: the batches' output written in
// row order, and the counts and warnings that go with it.

package filter

import "fmt"

// collect writes the output of the batches handed to workers, in order.
func (p *Pipeline) collect() {
	defer p.wg.Done()
	for b := range p.order {
		if b == p.barrier {
			p.drained <- struct{}{}
			continue
		}
		for c := range b.out {
			p.emit(c)
			if keepBuf(c.buf) {
				select {
				case p.bufs <- c.buf:
				default:
				}
			}
		}
		p.finish(b)
	}
}

// keepBuf reports whether an output buffer is kept for another chunk: not
// after a huge output, whose memory goes back.
func keepBuf(buf []byte) bool { return cap(buf) <= 2*chunkBytes }

// emit writes a chunk of a batch's output and counts it. A chunk with an
// error stops the pipeline once its lines are flushed.
func (p *Pipeline) emit(c *chunk) {
	if p.Err() != nil {
		return
	}
	if len(c.buf) > 0 {
		if err := p.w.WriteLines(c.buf, c.lines); err != nil {
			p.fail(err)
			return
		}
	}
	p.counts.Lines += int64(c.lines)
	p.counts.Filtered += c.filtered
	for _, s := range c.skips {
		p.noteSkip(s)
	}
	if c.err != nil {
		// Every line before the failing row reaches the reader.
		if err := p.w.Flush(); err != nil {
			p.fail(err)
			return
		}
		p.fail(c.err)
	}
}

// finish ends a batch whose output is written: flushed if asked, counted
// as done, and its slot given back.
func (p *Pipeline) finish(b *batch) {
	if b.flush && p.Err() == nil {
		if err := p.w.Flush(); err != nil {
			p.fail(err)
		}
	}
	p.doneText.Add(int64(len(b.data)))
	p.recycle(b)
}

// noteSkip counts a skipped row and warns the first time its message is
// seen.
func (p *Pipeline) noteSkip(s skip) {
	p.counts.Skipped++
	if n, ok := p.skipped[s.msg]; ok {
		p.skipped[s.msg] = n + 1
		return
	}
	if len(p.msgs) >= maxWarned {
		return
	}
	p.skipped[s.msg] = 1
	p.msgs = append(p.msgs, s.msg)
	p.warn(fmt.Sprintf("jq error on row %d, row skipped: %s", s.row, s.msg))
	if len(p.msgs) == maxWarned {
		p.warn(fmt.Sprintf("%d different jq errors so far; further new ones are counted, not shown", maxWarned))
	}
}

// summarize reports the skipped rows at the end.
func (p *Pipeline) summarize() {
	if p.counts.Skipped == 0 {
		return
	}
	shown := int64(0)
	for _, m := range p.msgs {
		shown += p.skipped[m]
	}
	msg := fmt.Sprintf("skipped %d of %d rows on jq errors (--on-jq-error skip)", p.counts.Skipped, p.next)
	for _, m := range p.msgs {
		msg += fmt.Sprintf("\n  %d × %s", p.skipped[m], m)
	}
	if rest := p.counts.Skipped - shown; rest > 0 {
		msg += fmt.Sprintf("\n  %d × other errors", rest)
	}
	p.warn(msg)
}

func (p *Pipeline) warn(msg string) {
	if p.opts.Warn != nil {
		p.opts.Warn(msg)
	}
}
