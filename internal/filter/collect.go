// The collector's side of the pipeline: the batches' output written in
// row order, and the counts and warnings that go with it.

package filter

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

// noteSkip counts a skipped row and reports it: to OnSkip when set, else
// to the pipeline's own report.
func (p *Pipeline) noteSkip(s skip) {
	p.counts.Skipped++
	if p.opts.OnSkip != nil {
		p.opts.OnSkip(s.row, s.msg)
		return
	}
	p.report.Add(s.row, s.msg)
}

// summarize reports the skipped rows at the end, unless OnSkip has them.
func (p *Pipeline) summarize() {
	if p.opts.OnSkip == nil {
		p.report.Summarize(p.next)
	}
}
