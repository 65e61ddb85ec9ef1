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

// noteSkip counts a skipped row and reports it: to OnSkip when set, else
// to the pipeline's own report.
func (p *Pipeline) noteSkip(s skip) {
	p.counts.Skipped++
	if p.opts.OnSkip != nil {
		p.opts.OnSkip(s.row, s.msg)
		return
	}
	p.report.Add(s.row, s.msg, 1)
}

// summarize reports the skipped rows at the end, unless OnSkip has them.
func (p *Pipeline) summarize() {
	if p.opts.OnSkip == nil {
		p.report.Summarize(p.next)
	}
}

// SkipReport tells of rows --on-jq-error skip dropped: the first row of
// each kind of failure as it comes, up to maxWarned kinds, then, at the
// end, a summary. A pipeline has its own; a caller that runs several
// (the ranges of a parallel run) makes one and adds their skips in the
// output's order, for the same lines as one pipeline would print.
type SkipReport struct {
	warn    func(string) // nil discards
	skipped map[string]int64
	msgs    []string
	total   int64
}

// NewSkipReport returns a report that warns through warn (nil: nothing).
func NewSkipReport(warn func(string)) *SkipReport {
	return &SkipReport{warn: warn, skipped: map[string]int64{}}
}

// Add records n skipped rows failing with msg, the first of them row
// (counted from 1 in the output's rows), warning of a kind not seen yet.
func (r *SkipReport) Add(row int64, msg string, n int64) {
	r.total += n
	if c, ok := r.skipped[msg]; ok {
		r.skipped[msg] = c + n
		return
	}
	if len(r.msgs) >= maxWarned {
		return
	}
	r.skipped[msg] = n
	r.msgs = append(r.msgs, msg)
	r.say(fmt.Sprintf("jq error on row %d, row skipped: %s", row, msg))
	if len(r.msgs) == maxWarned {
		r.say(fmt.Sprintf("%d different jq errors so far; further new ones are counted, not shown", maxWarned))
	}
}

// AddOthers records n skipped rows whose failures are not told apart:
// counted in the summary's other errors.
func (r *SkipReport) AddOthers(n int64) { r.total += n }

// Summarize warns of every skipped row, out of rows, if any was.
func (r *SkipReport) Summarize(rows int64) {
	if r.total == 0 {
		return
	}
	shown := int64(0)
	for _, m := range r.msgs {
		shown += r.skipped[m]
	}
	msg := fmt.Sprintf("skipped %d of %d rows on jq errors (--on-jq-error skip)", r.total, rows)
	for _, m := range r.msgs {
		msg += fmt.Sprintf("\n  %d × %s", r.skipped[m], m)
	}
	if rest := r.total - shown; rest > 0 {
		msg += fmt.Sprintf("\n  %d × other errors", rest)
	}
	r.say(msg)
}

func (r *SkipReport) say(msg string) {
	if r.warn != nil {
		r.warn(msg)
	}
}
