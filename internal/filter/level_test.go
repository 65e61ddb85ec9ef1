package filter

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// pipelineRun is what a pipeline wrote and said.
type pipelineRun struct {
	out      string
	warnings []string
	err      error
	counts   Counts
	moves    int
	shares   []LevelShare
}

// runRows runs rows (numbers, as numberRows) through a pipeline with
// opts, flushing every flushEvery rows as the network reader does before
// it waits.
func runRows(t *testing.T, f *Filter, rows []string, opts PipelineOptions, flushEvery int) pipelineRun {
	t.Helper()
	var r pipelineRun
	w := &bufferLines{}
	opts.Warn = func(msg string) { r.warnings = append(r.warnings, msg) }
	p := NewPipeline(context.Background(), f, w, opts)
	for i, row := range rows {
		if r.err = p.Write([]byte(row)); r.err != nil {
			break
		}
		if (i+1)%flushEvery == 0 {
			if r.err = p.Flush(); r.err != nil {
				break
			}
		}
	}
	if r.err != nil {
		p.Abort()
	} else {
		r.err = p.Close()
	}
	r.out, r.counts = w.buf.String(), p.Counts()
	r.moves, r.shares = p.Tuning()
	return r
}

// everyBatchAWindow is a clock on which every reading ends a tuning
// window, so that an adapting pipeline changes its level all the time.
func everyBatchAWindow() func() time.Duration {
	var now time.Duration
	return func() time.Duration {
		now += time.Second
		return now
	}
}

// TestAdaptingPipelineWritesAsOneWorker: a pipeline that chooses its
// workers, made to change level all the time (from the caller alone to
// four workers and back), writes byte for byte what one worker writes,
// with the same warnings and counts: outputs larger than a chunk, rows
// failing and skipped, the stream stopped by a failing row or by halt.
func TestAdaptingPipelineWritesAsOneWorker(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	rows := numberRows(6000)
	for _, tc := range []struct {
		name, expr string
		policy     Policy
		stops      bool
	}{
		{"outputs of every size", `range(. % 5) as $i | [., $i] | tostring | if $i == 4 and . != null then . * 5 else . end`, Fail, false},
		{"an output larger than a chunk", `if . % 701 == 0 then "y" * 300000 else . end`, Fail, false},
		{"rows filtered out", `select(. % 3 == 0) | {n: .}`, Fail, false},
		{"rows skipped", `if . % 13 == 0 then error("bad \(. % 40)") else ., -. end`, Skip, false},
		{"a row fails", `if . == 4321 then error("stop") else . end`, Fail, true},
		{"halt", `if . == 3000 then "bye\n" | halt_error else . end`, Fail, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Compile(tc.expr, Options{})
			if err != nil {
				t.Fatal(err)
			}
			opts := PipelineOptions{MaxRows: 64, Policy: tc.policy}
			one := opts
			one.Workers = 1
			want := runRows(t, f, rows, one, 97)
			adapting := opts
			adapting.Clock = everyBatchAWindow()
			got := runRows(t, f, rows, adapting, 97)

			if got.out != want.out {
				t.Errorf("output differs from one worker's: %d bytes, want %d; first difference at byte %d",
					len(got.out), len(want.out), firstDiff(got.out, want.out))
			}
			if !slices.Equal(got.warnings, want.warnings) {
				t.Errorf("warnings %q, want %q", got.warnings, want.warnings)
			}
			if errText(got.err) != errText(want.err) || (want.err != nil) != tc.stops {
				t.Errorf("error %v, want %v", got.err, want.err)
			}
			if !tc.stops && got.counts != want.counts {
				t.Errorf("counts %+v, want %+v", got.counts, want.counts)
			}
			used := 0
			for _, s := range got.shares {
				if s.Windows > 0 {
					used++
				}
			}
			if got.moves < 20 || used < 2 {
				t.Errorf("%d level changes, %d levels used (%+v): the test did not make it adapt", got.moves, used, got.shares)
			}
		})
	}
}

// TestAdaptingPipelineKeepsUnendingFiltersOffTheCaller: an expression
// whose time is not bounded by the row's is never run on the caller's
// goroutine, which must go on reading the network; it still stops when
// the context is cancelled. (Run on the caller, Flush would never return.)
func TestAdaptingPipelineKeepsUnendingFiltersOffTheCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	f, err := Compile(`last(range(. % 50))`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := runRows(t, f, numberRows(3000), PipelineOptions{MaxRows: 64, Clock: everyBatchAWindow()}, 97)
	if r.err != nil || r.moves < 20 || len(r.shares) != 2 || r.shares[0].Workers != 1 {
		t.Errorf("err %v, %d moves, shares %+v; want 1 and 2 workers tried, never the caller", r.err, r.moves, r.shares)
	}

	checkCancelStopsRunaway(t, PipelineOptions{MaxRows: 10})
}

// TestAdaptingPipelineStopsWhileChanging: a run stopped from outside
// while the level changes all the time ends (no barrier waits for ever),
// with the context's error, wherever the stop falls.
func TestAdaptingPipelineStopsWhileChanging(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	f, err := Compile(`.`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for stopAt := 1; stopAt <= 60; stopAt += 3 {
		ctx, cancel := context.WithCancel(context.Background())
		w := &cancellingLines{after: stopAt, cancel: cancel}
		p := NewPipeline(ctx, f, w, PipelineOptions{MaxRows: 16, Clock: everyBatchAWindow()})
		var werr error
		for i, row := range numberRows(5000) {
			if werr = p.Write([]byte(row)); werr != nil {
				break
			}
			if i%7 == 0 {
				if werr = p.Flush(); werr != nil {
					break
				}
			}
		}
		if werr != nil {
			p.Abort()
		} else {
			werr = p.Close()
		}
		if !errors.Is(werr, context.Canceled) {
			t.Errorf("stopped after %d writes: %v, want context.Canceled", stopAt, werr)
		}
		cancel()
	}
}

// cancellingLines cancels the run at its after-th write.
type cancellingLines struct {
	bufferLines
	mu     sync.Mutex
	n      int
	after  int
	cancel func()
}

func (c *cancellingLines) WriteLines(p []byte, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n++; c.n == c.after {
		c.cancel()
	}
	return nil
}

// TestFixedWorkersDoNotAdapt: an explicit number of workers is used as
// it is.
func TestFixedWorkersDoNotAdapt(t *testing.T) {
	f, err := Compile(`.`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3} {
		r := runRows(t, f, numberRows(2000), PipelineOptions{Workers: workers, MaxRows: 64, Clock: everyBatchAWindow()}, 97)
		if r.err != nil || r.moves != 0 || r.shares != nil {
			t.Errorf("%d workers: err %v, %d moves, shares %+v; want none", workers, r.err, r.moves, r.shares)
		}
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimSpace(err.Error())
}
