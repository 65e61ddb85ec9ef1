// How a pipeline ends: Close writes what is queued and waits for it,
// Abort drops it; the first error, a row's or the writer's, is kept and
// cancels the pipeline's context, which every goroutine heeds, as it
// heeds the caller's. The counts are final once Close or Abort returned.

package filter

import "context"

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
