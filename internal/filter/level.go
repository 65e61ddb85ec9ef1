// The pipeline's level: how many workers filter the batches, 0 meaning
// the goroutine that writes the rows filters each batch itself and writes
// its output, with no hand-over at all. A fixed number of workers is set
// once; a tuner (tune.go) changes it as the rows flow. The output stays in
// row order whatever the changes: at level 0 a batch is filtered only once
// every batch handed to a worker before it is written.

package filter

import "context"

// setLevel makes n workers take batches, starting those not started yet.
// Workers beyond n finish the batch they have and wait.
func (p *Pipeline) setLevel(n int) {
	old := int(p.level.Load())
	if n == old {
		return
	}
	for ; p.started < n; p.started++ {
		i := p.started
		p.wake[i] = make(chan struct{}, 1)
		p.wg.Add(1)
		go p.worker(i)
	}
	p.level.Store(int32(n))
	for i := old; i < n; i++ {
		select {
		case p.wake[i] <- struct{}{}:
		default:
		}
	}
}

// adjust moves to level n. Before level 0, the batches the workers have
// are written first. It reports false if the pipeline stopped meanwhile.
func (p *Pipeline) adjust(n int) bool {
	if n == int(p.level.Load()) {
		return true
	}
	if n == 0 && !p.drain() {
		return false
	}
	p.setLevel(n)
	return true
}

// drain waits until every batch handed to the workers is written, and
// reports false if the pipeline stopped first. A stop is for good, so a
// barrier left unanswered then is never followed by another. The barrier
// fits in order: the caller holds a slot, so fewer batches than order
// holds are in it.
func (p *Pipeline) drain() bool {
	if !p.handed {
		return true
	}
	if p.ctx.Err() != nil {
		return false
	}
	p.order <- p.barrier
	select {
	case <-p.drained:
		p.handed = false
		return true
	case <-p.ctx.Done():
		return false
	}
}

// Sync hands the rows queued so far on and waits until their output is
// written to the pipeline's writer (not flushed beyond it): after it, a
// resumable run can seal its output. It returns the pipeline's error, or
// the cause of its stop. After Close, which wrote everything, it only
// returns the error.
func (p *Pipeline) Sync() error {
	if err := p.Err(); err != nil || p.closed {
		return err
	}
	if p.cur != nil {
		p.send(false)
	}
	if !p.drain() {
		if err := p.Err(); err != nil {
			return err
		}
		return context.Cause(p.ctx)
	}
	return p.Err()
}

// runHere filters b on the caller's goroutine and writes its output,
// which nothing else is writing: level 0 is entered through drain.
func (p *Pipeline) runHere(b *batch) {
	if p.self == nil {
		r, err := p.newRunner(true)
		if err != nil {
			p.fail(err)
			p.recycle(b)
			return
		}
		p.self = r
	}
	p.self.batch(b)
	p.finish(b)
}

// Workers returns the number of workers in use, 0 when the caller
// filters the rows itself; after Close, the last.
func (p *Pipeline) Workers() int { return int(p.level.Load()) }

// LevelShare is the part of a run that a pipeline choosing its workers
// spent at one level.
type LevelShare struct {
	// Workers is the number of workers; 0 is the goroutine writing the
	// rows.
	Workers int
	// Windows is the number of measuring windows spent at the level, and
	// Bytes the bytes of row text done in them.
	Windows int
	Bytes   int64
}

// Tuning tells how a pipeline that chooses its workers ran: the number of
// level changes (short trials included) and the windows at each level.
// It returns 0 and nil for a fixed number of workers. Call it after Close.
func (p *Pipeline) Tuning() (moves int, shares []LevelShare) {
	if p.tune == nil {
		return 0, nil
	}
	for i, s := range p.tune.shares {
		shares = append(shares, LevelShare{Workers: p.tune.levels[i], Windows: int(s[1]), Bytes: s[0]})
	}
	return p.tune.moves, shares
}
