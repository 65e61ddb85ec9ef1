// The output of a parallel run: one Part per range of the split key,
// filled by whichever worker runs the range, written out by Merge in the
// ranges' order, each whole. A part keeps its lines in memory up to a
// budget; past it they go to a temporary file, unlinked as soon as it is
// made, so that nothing outlives the run however it ends. The part Merge
// is writing is never spilled: once Merge has caught up with it, its
// worker writes to the output itself, and waits for it as a
// single-connection run waits for its reader. Memory is bounded by the
// budget times the parts open at once, which the caller bounds (Merge's
// written); disk holds only what a range larger than the budget runs
// ahead of the output.

package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// DefaultPartBudget is the memory a part may hold before it spills.
const DefaultPartBudget = 1 << 20

// spillRead is how much of a spilled part Merge reads at a time.
const spillRead = 256 << 10

// Part is one range's lines. Write and Close are for the worker that runs
// the range; Merge reads. Its methods are safe for concurrent use.
type Part struct {
	ctx    context.Context
	dir    string // where a spill file goes
	budget int

	mu       sync.Mutex
	changed  chan struct{} // a signal for Merge: lines or the end arrived
	room     chan struct{} // a signal for the worker: Merge took lines
	blocks   [][]byte      // in memory, in order, before any spilled line
	mem      int
	file     *os.File // spilled lines, after the blocks
	fileEnd  int64
	fileRead int64
	head     bool    // Merge is writing this part
	direct   *NDJSON // set once Merge has caught up with it: Write writes here itself
	cut      []byte  // with direct, a line not yet ended, for the next Write
	cutErr   error   // the part ended inside a line: Merge stops at it
	done     bool
	dropped  bool // its lines are not wanted (Drop)
	spills   int  // times the part went to disk (stats)
}

// NewParts returns n parts whose spill files go to dir (os.TempDir() when
// ""), each holding up to budget bytes in memory (DefaultPartBudget when
// 0). ctx ends every wait.
func NewParts(ctx context.Context, n int, dir string, budget int) []*Part {
	if budget <= 0 {
		budget = DefaultPartBudget
	}
	if dir == "" {
		dir = os.TempDir()
	}
	parts := make([]*Part, n)
	for i := range parts {
		parts[i] = &Part{ctx: ctx, dir: dir, budget: budget, changed: make(chan struct{}, 1), room: make(chan struct{}, 1)}
	}
	return parts
}

// ErrPartDropped is Write's error once the part's lines are no longer
// wanted (Drop).
var ErrPartDropped = errors.New("this range's lines are not wanted: the output ends before it")

// Write adds whole lines to the part.
func (p *Part) Write(b []byte) (int, error) {
	for {
		p.mu.Lock()
		switch {
		case p.dropped:
			p.mu.Unlock()
			if p.ctx.Err() != nil {
				return 0, context.Cause(p.ctx) // Merge gave up: the run's stop says why
			}
			return 0, ErrPartDropped
		case p.direct != nil:
			// Merge has handed the output over until Close: no copy, no
			// wake-up, as on one connection.
			w := p.direct
			p.mu.Unlock()
			if err := p.writeDirect(w, b); err != nil {
				return 0, err
			}
			return len(b), nil
		case p.file == nil && (p.mem+len(b) <= p.budget || p.head && p.mem == 0):
			// The second: Merge is writing the part and has taken all it
			// held, so b goes in whatever its size; a line larger than the
			// budget would wait for room that never comes.
			p.blocks = append(p.blocks, copyBlock(b))
			p.mem += len(b)
			p.mu.Unlock()
			signal(p.changed)
			return len(b), nil
		case !p.head || p.file != nil:
			err := p.spill(b)
			p.mu.Unlock()
			signal(p.changed)
			if err != nil {
				return 0, err
			}
			return len(b), nil
		}
		p.mu.Unlock()
		// Merge is writing this part: wait for it to take lines.
		select {
		case <-p.room:
		case <-p.ctx.Done():
			return 0, context.Cause(p.ctx)
		}
	}
}

// Head reports whether the part's lines go out as they come: Merge is
// writing it. Flushing a part that is not is pointless.
func (p *Part) Head() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.head
}

// Flush pushes the lines written so far towards the output when Merge has
// handed it over (a slow range still reaches its reader promptly).
func (p *Part) Flush() error {
	p.mu.Lock()
	w := p.direct
	p.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.Flush()
}

// writeDirect writes b to the output Merge handed over, whole lines only:
// a line b ends inside of (a large value, written apart from its newline)
// waits in cut for the rest. Only the part's writer calls it, until Close.
func (p *Part) writeDirect(w *NDJSON, b []byte) error {
	if len(p.cut) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			p.cut = append(p.cut, b...)
			return nil
		}
		p.cut = append(p.cut, b[:nl+1]...)
		if err := w.WriteLines(p.cut, 1); err != nil {
			return err
		}
		p.cut, b = p.cut[:0], b[nl+1:]
	}
	end := bytes.LastIndexByte(b, '\n') + 1
	if end > 0 {
		if err := w.WriteLines(b[:end], bytes.Count(b[:end], newline)); err != nil {
			return err
		}
	}
	p.cut = append(p.cut, b[end:]...)
	return nil
}

// Close says the range is done: every line has been written. What it
// holds in memory stays there until Merge takes it: the caller bounds how
// many parts are open at once (see Merge).
func (p *Part) Close() error {
	p.mu.Lock()
	if len(p.cut) > 0 {
		p.cutErr = errCutLine(len(p.cut))
	}
	err := p.cutErr
	p.done, p.direct, p.cut = true, nil, nil
	p.mu.Unlock()
	signal(p.changed)
	return err
}

// Spilled reports how many times the part's lines went to disk.
func (p *Part) Spilled() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.spills
}

// spill moves the blocks in memory, then b, to the part's file, made on
// first use. Called with p.mu held.
func (p *Part) spill(b []byte) error {
	if p.file == nil {
		f, err := os.CreateTemp(p.dir, ".fraise-part-*")
		if err != nil {
			return spillError(p.dir, err)
		}
		// Unlinked at once: the file lives only as long as the run holds it.
		_ = os.Remove(f.Name())
		p.file = f
		p.spills++
	}
	for _, blk := range p.blocks {
		if err := p.append(blk); err != nil {
			return err
		}
	}
	p.blocks, p.mem = nil, 0
	if len(b) > 0 {
		return p.append(b)
	}
	return nil
}

func (p *Part) append(b []byte) error {
	n, err := p.file.WriteAt(b, p.fileEnd)
	p.fileEnd += int64(n)
	if err != nil {
		return spillError(p.dir, err)
	}
	return nil
}

// spillError says that a range's lines could not be put aside on disk.
func spillError(dir string, err error) error {
	return &WriteError{Err: err, Msg: fmt.Sprintf("cannot put aside the rows of a later range in %s (--parallel): %v; "+
		"free space there, or point TMPDIR (or -o's directory) at a file system with room", dir, err)}
}

// take returns the part's next lines, in memory or read from its file into
// buf, or done once every line has been taken. Once it has taken every
// line written so far, with carry (a cut line) empty, it hands w over to
// the part's writer until Close.
func (p *Part) take(buf []byte, w *NDJSON, carry bool) (lines [][]byte, done bool, err error) {
	for {
		p.mu.Lock()
		p.head = true
		switch {
		case len(p.blocks) > 0:
			lines, p.blocks, p.mem = p.blocks, nil, 0
			p.mu.Unlock()
			signal(p.room)
			return lines, false, nil
		case p.fileRead < p.fileEnd:
			n := min(int64(len(buf)), p.fileEnd-p.fileRead)
			f, at := p.file, p.fileRead
			p.fileRead += n
			p.mu.Unlock()
			if _, err := f.ReadAt(buf[:n], at); err != nil && !errors.Is(err, io.EOF) {
				return nil, false, spillError(p.dir, err)
			}
			return [][]byte{buf[:n]}, false, nil
		case p.done:
			p.release()
			err := p.cutErr
			p.mu.Unlock()
			return nil, err == nil, err
		case !carry && p.direct == nil:
			// Caught up: what comes next goes straight out, and a file
			// already read to its end is done with.
			p.release()
			p.fileRead, p.fileEnd = 0, 0
			p.direct = w
			signal(p.room) // a writer waiting for room writes itself now
		}
		p.mu.Unlock()
		select {
		case <-p.changed:
		case <-p.ctx.Done():
			return nil, false, context.Cause(p.ctx)
		}
	}
}

// release closes the part's file. Called with p.mu held.
func (p *Part) release() {
	if p.file != nil {
		_ = p.file.Close()
		p.file = nil
	}
}

// Drop ends the part with none of its lines, written or to come: the
// output ends before it. Its Write fails from now on with ErrPartDropped.
func (p *Part) Drop() {
	p.mu.Lock()
	p.dropped, p.done = true, true
	p.blocks, p.mem = nil, 0
	p.fileRead, p.fileEnd = 0, 0
	p.release()
	p.mu.Unlock()
	signal(p.changed)
	signal(p.room)
}

// Discard drops what the part holds, its memory and its file, once Merge
// is over: a later Write fails with ErrPartDropped, and makes no file.
func (p *Part) Discard() {
	p.mu.Lock()
	p.dropped = true
	p.blocks, p.mem = nil, 0
	p.release()
	p.mu.Unlock()
}

// blocks recycles the memory of the lines parts hold, in blocks of a
// write buffer's size: a worker's writes are at most that, but for large
// values.
var blocks = sync.Pool{New: func() any { b := make([]byte, 0, DefaultBufferSize); return &b }}

// copyBlock returns a copy of b, in a recycled block when it fits one.
func copyBlock(b []byte) []byte {
	if len(b) > DefaultBufferSize {
		return append([]byte(nil), b...)
	}
	blk := blocks.Get().(*[]byte)
	return append((*blk)[:0], b...)
}

// recycle gives a block back once its lines are written.
func recycle(b []byte) {
	if cap(b) == DefaultBufferSize {
		b = b[:0]
		blocks.Put(&b)
	}
}

// signal wakes the one waiting on ch, if any, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Merge writes the parts' lines to w in the parts' order, each part whole
// before the next, taking each part's lines as they arrive, and calls
// written, when set, with each part's index once the part is written:
// callers that start a part only when an earlier one is written bound
// the memory the parts hold. It returns
// once the last part is written, at the end of the parts' context (its
// cause), or at w's error. Whatever it has not written is discarded.
func Merge(parts []*Part, w *NDJSON, written func(i int)) error {
	defer func() {
		for _, p := range parts {
			p.Discard()
		}
	}()
	buf := make([]byte, spillRead)
	var carry []byte // a line cut by a read of the file
	for i, p := range parts {
		for {
			chunks, done, err := p.take(buf, w, len(carry) > 0)
			if err != nil {
				return err
			}
			if done {
				break
			}
			for _, c := range chunks {
				if carry, err = writeWhole(w, carry, c); err != nil {
					return err
				}
				if len(c) > 0 && &c[0] != &buf[0] {
					recycle(c) // a block from memory, written: its lines are copied or gone out
				}
			}
		}
		if len(carry) > 0 {
			return errCutLine(len(carry))
		}
		if written != nil {
			written(i)
		}
	}
	// The last lines go out now: the run may end with an error, after
	// which nothing more is flushed.
	return w.Flush()
}

// errCutLine is the error of a part whose lines do not end whole: n bytes
// after the last newline.
func errCutLine(n int) error {
	return fmt.Errorf("a range's output ended inside a line (%d bytes)", n)
}

// writeWhole writes carry and c's whole lines to w, and returns what is
// left after c's last newline.
func writeWhole(w *NDJSON, carry, c []byte) ([]byte, error) {
	end := bytes.LastIndexByte(c, '\n')
	if end < 0 {
		return append(carry, c...), nil
	}
	if len(carry) > 0 {
		carry = append(carry, c[:end+1]...)
		if err := w.WriteLines(carry, bytes.Count(carry, newline)); err != nil {
			return nil, err
		}
		carry = carry[:0]
	} else if err := w.WriteLines(c[:end+1], bytes.Count(c[:end+1], newline)); err != nil {
		return nil, err
	}
	return append(carry, c[end+1:]...), nil
}
