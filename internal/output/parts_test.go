package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// partHang bounds every run of these tests (runContext), so that a
// deadlock shows as a failure instead of a hung test. It never orders
// events and no result depends on it.
const partHang = 30 * time.Second

// errStuck is the cause a run is stopped with by partHang.
var errStuck = fmt.Errorf("stuck for %v: stopped by the test", partHang)

// runContext returns the parts' context for a test, ended with errStuck
// once partHang has passed, so that a Write or Merge waiting for ever
// returns.
func runContext(t *testing.T) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(t.Context())
	timer := time.AfterFunc(partHang, func() { cancel(errStuck) })
	t.Cleanup(func() {
		timer.Stop()
		cancel(nil)
	})
	return ctx, cancel
}

// awaitDone waits for done. The run's context ends first (runContext):
// only a wait that does not heed it fails here.
func awaitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(2 * partHang):
		t.Fatalf("%s did not end at the end of the run's context", what)
	}
}

// mergeAsync runs Merge(parts, w) and returns its outcome's channel. A
// failed Merge cancels the run, as a parallel run does, so that no
// worker waits for it for ever.
func mergeAsync(parts []*Part, w *NDJSON, cancel context.CancelCauseFunc) <-chan error {
	merged := make(chan error, 1)
	go func() {
		err := Merge(parts, w, nil)
		if err != nil {
			cancel(err)
		}
		merged <- err
	}()
	return merged
}

// awaitMerge returns Merge's outcome, as awaitDone waits.
func awaitMerge(t *testing.T, merged <-chan error) error {
	t.Helper()
	select {
	case err := <-merged:
		return err
	case <-time.After(2 * partHang):
		t.Fatal("Merge did not end at the end of the run's context")
		return nil
	}
}

// padSizes are the padding of the lines in turn: lines under a 256-byte
// budget, lines past it, and one longer than a read of a spill file.
var padSizes = []int{0, 30, 200, 5, 1000, 17, 3000, 0, spillRead + 1000, 64}

// partLine is line i of part p: one JSON value, pad bytes of padding.
func partLine(p, i, pad int) string {
	return fmt.Sprintf(`{"part":%d,"line":%d,"pad":"%s"}`, p, i, strings.Repeat("x", pad)) + "\n"
}

// partLines returns part p's n lines, their sizes varied by padSizes.
func partLines(p, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = partLine(p, i, padSizes[(i+p)%len(padSizes)])
	}
	return lines
}

// writeLines writes lines to p one Write each.
func writeLines(t *testing.T, p *Part, lines []string) {
	t.Helper()
	for _, l := range lines {
		if n, err := p.Write([]byte(l)); err != nil || n != len(l) {
			t.Fatalf("Write(%d bytes) = %d, %v", len(l), n, err)
		}
	}
}

// isHead reports whether Merge has reached p.
func isHead(p *Part) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.head
}

// waitHead waits until Merge has reached p: the next Write is one to the
// part being written out.
func waitHead(t *testing.T, p *Part) {
	t.Helper()
	for end := time.Now().Add(partHang); !isHead(p); {
		if time.Now().After(end) {
			t.Fatal("Merge never reached the part")
		}
		runtime.Gosched()
	}
}

// checkNoFiles checks that dir holds no entry, a spill file being unlinked
// as soon as it is made, and, where /proc tells, that no file made there
// is still open once the run is over (closed).
func checkNoFiles(t *testing.T, dir string, closed bool) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s is left in the spill directory", e.Name())
	}
	if !closed {
		return
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return // not Linux
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			t.Errorf("a spill file is still open: %s", target)
		}
	}
}

// firstDiff describes where got first differs from want, line by line.
// checkMerged waits for Merge to succeed and checks that w, flushed into
// buf, holds want.
func checkMerged(t *testing.T, merged <-chan error, w *NDJSON, buf *bytes.Buffer, want string) {
	t.Helper()
	if err := awaitMerge(t, merged); err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != want {
		t.Fatal(firstDiff(got, want))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("output (%d bytes) differs from the parts in order (%d bytes) at line %d: got %.60q, want %.60q", len(got), len(want), i+1, gl, wl)
		}
	}
	return "no difference"
}

// TestMergeConcurrentParts: workers fill the parts in any order, at once,
// with lines of every size, and Merge writes them in part order, each
// whole: the output is exactly the parts' lines one part after another.
func TestMergeConcurrentParts(t *testing.T) {
	tests := []struct {
		name   string
		budget int
		order  []int // in which the workers take the parts
	}{
		{"small budget, in order", 256, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"small budget, backwards", 256, []int{8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"small budget, shuffled", 256, []int{4, 0, 7, 2, 8, 1, 6, 3, 5}},
		{"default budget, shuffled", 0, []int{5, 8, 1, 3, 0, 6, 2, 7, 4}},
		{"default budget, backwards", 0, []int{8, 7, 6, 5, 4, 3, 2, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const nParts, nWorkers = 9, 3
			dir := t.TempDir()
			ctx, cancel := runContext(t)
			parts := NewParts(ctx, nParts, dir, tt.budget)
			lines := make([][]string, nParts)
			var want strings.Builder
			for p := range lines {
				lines[p] = partLines(p, 12+p*5%17)
				for _, l := range lines[p] {
					want.WriteString(l)
				}
			}
			var buf bytes.Buffer
			w := NewNDJSON(&buf, Options{})
			merged := mergeAsync(parts, w, cancel)

			next := make(chan int, nParts)
			for _, p := range tt.order {
				next <- p
			}
			close(next)
			var wg sync.WaitGroup
			for range nWorkers {
				wg.Go(func() {
					for p := range next {
						if err := fillPart(parts[p], p, lines[p]); err != nil {
							t.Errorf("part %d: %v", p, err)
							cancel(err)
							return
						}
					}
				})
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			awaitDone(t, done, "the workers")
			checkMerged(t, merged, w, &buf, want.String())
			if tt.budget > 0 {
				spilled := 0
				for _, p := range parts {
					if p.Spilled() > 0 {
						spilled++
					}
				}
				if spilled == 0 {
					t.Errorf("no part of %d spilled past a budget of %d bytes", nParts, tt.budget)
				}
			}
			checkNoFiles(t, dir, true)
		})
	}
}

// fillPart writes lines to part p and closes it: an even part one Write
// a line, an odd one through an NDJSON writer flushing every few lines,
// as a worker does (a value larger than its buffer goes in two Writes,
// the value and then its newline).
func fillPart(part *Part, p int, lines []string) error {
	if p%2 == 0 {
		for _, l := range lines {
			if _, err := part.Write([]byte(l)); err != nil {
				return err
			}
		}
		return part.Close()
	}
	nd := NewNDJSON(part, Options{ChunkRows: 1 + p%4})
	for _, l := range lines {
		if err := nd.WriteValue([]byte(strings.TrimSuffix(l, "\n"))); err != nil {
			return err
		}
	}
	if err := nd.Flush(); err != nil {
		return err
	}
	return part.Close()
}

// TestPartSpill: with a small budget, parts Merge has not reached go to
// disk, past the budget as they are written, else when closed (memory is
// bounded by the workers, not by the ranges done ahead of the output); the
// part Merge is writing never does, whatever its lines' sizes; the spill
// files are never seen in their directory; the output is exact.
func TestPartSpill(t *testing.T) {
	const budget = 256
	dir := t.TempDir()
	ctx, cancel := runContext(t)
	parts := NewParts(ctx, 4, dir, budget)
	lines := [][]string{
		partLines(0, 30), // written while Merge writes it: lines past the budget, one past a read
		{partLine(1, 0, 10), partLine(1, 1, 100), partLine(1, 2, 100), partLine(1, 3, 10)},
		{partLine(2, 0, 10)},
		{partLine(3, 0, 2*budget), partLine(3, 1, 0)},
	}
	var want strings.Builder
	for _, ls := range lines {
		for _, l := range ls {
			want.WriteString(l)
		}
	}

	// Part 1 spills on the Write past its budget.
	writeLines(t, parts[1], lines[1][:1])
	if n := parts[1].Spilled(); n != 0 {
		t.Errorf("part 1 spilled under its budget (%d)", n)
	}
	writeLines(t, parts[1], lines[1][1:])
	if n := parts[1].Spilled(); n != 1 {
		t.Errorf("part 1, past its budget: Spilled() = %d, want 1", n)
	}
	if err := parts[1].Close(); err != nil {
		t.Fatal(err)
	}
	// Part 2, under its budget, keeps its lines in memory when closed:
	// the caller bounds how many parts are open (Merge's written).
	writeLines(t, parts[2], lines[2])
	if err := parts[2].Close(); err != nil {
		t.Fatal(err)
	}
	if n := parts[2].Spilled(); n != 0 {
		t.Errorf("part 2, closed under its budget: Spilled() = %d, want 0", n)
	}
	parts[2].mu.Lock()
	if parts[2].mem != len(lines[2][0]) {
		t.Errorf("part 2, closed under its budget, holds %d bytes in memory, want %d", parts[2].mem, len(lines[2][0]))
	}
	parts[2].mu.Unlock()
	// Part 3's first line is larger than the budget.
	writeLines(t, parts[3], lines[3])
	if n := parts[3].Spilled(); n != 1 {
		t.Errorf("part 3, a line past its budget: Spilled() = %d, want 1", n)
	}
	checkNoFiles(t, dir, false)

	var buf bytes.Buffer
	w := NewNDJSON(&buf, Options{})
	merged := mergeAsync(parts, w, cancel)
	waitHead(t, parts[0])
	writeLines(t, parts[0], lines[0][:15])
	checkNoFiles(t, dir, false)
	writeLines(t, parts[0], lines[0][15:])
	if err := parts[0].Close(); err != nil {
		t.Fatal(err)
	}
	// Part 3 is closed last, while Merge may be reading it.
	if err := parts[3].Close(); err != nil {
		t.Fatal(err)
	}
	checkMerged(t, merged, w, &buf, want.String())
	if n := parts[0].Spilled(); n != 0 {
		t.Errorf("part 0, written while Merge wrote it: Spilled() = %d, want 0", n)
	}
	checkNoFiles(t, dir, true)
}

// TestPartCloseAtHead: a part closed once Merge is writing it keeps its
// lines in memory for Merge: nothing goes to disk.
func TestPartCloseAtHead(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := runContext(t)
	parts := NewParts(ctx, 1, dir, 1<<20)
	var buf bytes.Buffer
	w := NewNDJSON(&buf, Options{})
	merged := mergeAsync(parts, w, cancel)
	waitHead(t, parts[0])
	lines := partLines(0, 9)
	writeLines(t, parts[0], lines)
	if err := parts[0].Close(); err != nil {
		t.Fatal(err)
	}
	checkMerged(t, merged, w, &buf, strings.Join(lines, ""))
	if n := parts[0].Spilled(); n != 0 {
		t.Errorf("Spilled() = %d, want 0", n)
	}
}

// TestPartHeadLineOverBudget: a line larger than the budget, written to
// the part Merge is writing, goes through: its writer does not wait for
// room the budget never has.
func TestPartHeadLineOverBudget(t *testing.T) {
	const budget = 256
	tests := []struct {
		name  string
		lines []string
	}{
		{"first line", []string{partLine(0, 0, 4*budget), partLine(0, 1, 0)}},
		{"after lines in memory", []string{partLine(0, 0, 10), partLine(0, 1, 10), partLine(0, 2, 4*budget)}},
		{"one after another", []string{partLine(0, 0, 2*budget), partLine(0, 1, 3*budget), partLine(0, 2, spillRead+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := runContext(t)
			parts := NewParts(ctx, 1, dir, budget)
			var buf bytes.Buffer
			w := NewNDJSON(&buf, Options{})
			merged := mergeAsync(parts, w, cancel)
			waitHead(t, parts[0])
			writeLines(t, parts[0], tt.lines)
			if err := parts[0].Close(); err != nil {
				t.Fatal(err)
			}
			checkMerged(t, merged, w, &buf, strings.Join(tt.lines, ""))
			if n := parts[0].Spilled(); n != 0 {
				t.Errorf("Spilled() = %d, want 0", n)
			}
		})
	}
}

// TestPartDrop: a dropped part takes no more lines (ErrPartDropped), and
// Merge writes none of it, whatever it held, and ends; the parts before
// it are written whole.
func TestPartDrop(t *testing.T) {
	tests := []struct {
		name   string
		budget int
		lines  int  // written to the dropped part before Drop
		atHead bool // dropped while Merge waits for its lines
	}{
		{"nothing written", 256, 0, false},
		{"lines in memory", 1 << 20, 5, false},
		{"lines spilled", 256, 12, false},
		{"while Merge waits for it", 256, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := runContext(t)
			parts := NewParts(ctx, 4, dir, tt.budget)
			var want strings.Builder
			for p := range 2 {
				lines := partLines(p, 11)
				writeLines(t, parts[p], lines)
				if err := parts[p].Close(); err != nil {
					t.Fatal(err)
				}
				want.WriteString(strings.Join(lines, ""))
			}
			writeLines(t, parts[2], partLines(2, tt.lines))
			if tt.lines > 10 && parts[2].Spilled() == 0 {
				t.Fatal("part 2 did not spill: the case is not what it says")
			}
			var buf bytes.Buffer
			w := NewNDJSON(&buf, Options{})
			var merged <-chan error
			if tt.atHead {
				merged = mergeAsync(parts, w, cancel)
				waitHead(t, parts[2])
			}
			parts[2].Drop()
			parts[3].Drop()
			for _, p := range parts[2:] {
				if _, err := p.Write([]byte(partLine(2, 99, 0))); !errors.Is(err, ErrPartDropped) {
					t.Errorf("Write to a dropped part: %v, want ErrPartDropped", err)
				}
				if err := p.Close(); err != nil {
					t.Errorf("Close of a dropped part: %v", err)
				}
			}
			if !tt.atHead {
				merged = mergeAsync(parts, w, cancel)
			}
			checkMerged(t, merged, w, &buf, want.String())
			checkNoFiles(t, dir, true)
		})
	}
}

// TestMergeCancel: Merge waiting for a part's lines ends with the cause
// of the parts' context.
func TestMergeCancel(t *testing.T) {
	tests := []struct {
		name  string
		lines int // written to part 0, which is not closed
	}{
		{"nothing written", 0},
		{"some lines written", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := runContext(t)
			parts := NewParts(ctx, 2, t.TempDir(), 0)
			writeLines(t, parts[0], partLines(0, tt.lines))
			var buf bytes.Buffer
			merged := mergeAsync(parts, NewNDJSON(&buf, Options{}), func(error) {})
			waitHead(t, parts[0])
			cause := errors.New("the run was stopped")
			cancel(cause)
			if err := awaitMerge(t, merged); !errors.Is(err, cause) {
				t.Fatalf("Merge = %v, want the cause %v", err, cause)
			}
		})
	}
}

// stuckWriter blocks its first Write until release is closed, so that
// Merge stays in it and takes no more lines; it then fails with the cause
// of ctx.
type stuckWriter struct {
	ctx     context.Context
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *stuckWriter) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
	case <-s.ctx.Done(): // as the asynchronous writer a run uses
	}
	return 0, context.Cause(s.ctx)
}

// TestPartHeadWriterCancel: the writer of the part Merge is writing, held
// up by an output that takes nothing (waiting for Merge to take its lines,
// or writing to the output itself once Merge has handed it over), ends
// with the context's cause.
func TestPartHeadWriterCancel(t *testing.T) {
	const budget = 2 * DefaultBufferSize
	dir := t.TempDir()
	ctx, cancel := runContext(t)
	parts := NewParts(ctx, 1, dir, budget)
	sw := &stuckWriter{ctx: ctx, entered: make(chan struct{}), release: make(chan struct{})}
	merged := mergeAsync(parts, NewNDJSON(sw, Options{}), func(error) {})
	// Lines larger than the writer's buffer go straight to sw.
	line := partLine(0, 0, DefaultBufferSize)
	waitHead(t, parts[0])
	wrote := make(chan error, 1)
	go func() {
		for {
			if _, err := parts[0].Write([]byte(line)); err != nil {
				wrote <- err
				return
			}
		}
	}()
	awaitDone(t, sw.entered, "the output's first write")
	cause := errors.New("the run was stopped")
	cancel(cause)
	var err error
	select {
	case err = <-wrote:
	case <-time.After(2 * partHang):
		t.Fatal("the head part's writer did not end at the cancel")
	}
	close(sw.release)
	if !errors.Is(err, cause) {
		t.Errorf("Write = %v, want the cause %v", err, cause)
	}
	if err := awaitMerge(t, merged); !errors.Is(err, cause) {
		t.Errorf("Merge = %v, want the cause %v", err, cause)
	}
	if n := parts[0].Spilled(); n != 0 {
		t.Errorf("the part Merge was writing spilled (%d)", n)
	}
	checkNoFiles(t, dir, true)
}

// TestPartSpillDirMissing: a spill directory that cannot be written makes
// the Write (or Close) that spills fail with a *WriteError naming the
// directory and saying what to do.
func TestPartSpillDirMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	tests := []struct {
		name string
		do   func(p *Part) error
	}{
		{"Write past the budget", func(p *Part) error {
			_, err := p.Write([]byte(partLine(1, 0, 300)))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := NewParts(t.Context(), 2, missing, 256)
			err := tt.do(parts[1])
			var we *WriteError
			if !errors.As(err, &we) {
				t.Fatalf("error %v (%T) is not a *WriteError", err, err)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v does not wrap the file system's", err)
			}
			for _, s := range []string{missing, "--parallel", "free space", "TMPDIR"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

// TestMergeCutLine: a part whose last line has no newline makes Merge
// fail, rather than cut the line or glue it to the next part's.
func TestMergeCutLine(t *testing.T) {
	whole := partLine(0, 0, 10)
	tests := []struct {
		name   string
		budget int
		parts  []string // each part's text, written in one Write
		spill  bool     // written and closed before Merge starts
		want   string   // what Merge writes before it fails
	}{
		{"the part Merge is writing", 1 << 20, []string{whole + `{"cut":`}, false, whole},
		{"a spilled part", 256, []string{whole, whole + `{"cut":"` + strings.Repeat("x", 300)}, true, whole + whole},
		{"a spilled line longer than a read", 256, []string{whole, `{"cut":"` + strings.Repeat("x", spillRead+10)}, true, whole},
		{"the next part starts with a newline", 1 << 20, []string{`{"cut":`, "\n" + whole}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := runContext(t)
			parts := NewParts(ctx, len(tt.parts), t.TempDir(), tt.budget)
			var buf bytes.Buffer
			w := NewNDJSON(&buf, Options{})
			var merged <-chan error
			if !tt.spill {
				merged = mergeAsync(parts, w, cancel)
			}
			cut := false // the writer was told, Merge having handed it the output
			for i, s := range tt.parts {
				if _, err := parts[i].Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
				if err := parts[i].Close(); err != nil {
					if !strings.Contains(err.Error(), "inside a line") {
						t.Fatal(err)
					}
					cut = true
				}
			}
			if tt.spill {
				if parts[len(parts)-1].Spilled() == 0 {
					t.Fatal("the last part did not spill: the case is not what it says")
				}
				merged = mergeAsync(parts, w, cancel)
			}
			err := awaitMerge(t, merged)
			if !cut && (err == nil || !strings.Contains(err.Error(), "inside a line")) {
				t.Fatalf("Merge = %v, want an error for the cut line", err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("written before the error: %.80q, want %.80q", got, tt.want)
			}
		})
	}
}
