package cli

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/pgtest"
)

// discardLines is a filter.LineWriter that keeps nothing.
type discardLines struct{}

func (discardLines) WriteLines([]byte, int) error { return nil }
func (discardLines) Flush() error                 { return nil }

// TestFilterSinkGrowsOnLongerRows: the sink reports each row longer than
// any before it, and only those, before the row goes in.
func TestFilterSinkGrowsOnLongerRows(t *testing.T) {
	f, err := filter.Compile(".", filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := filter.NewPipeline(context.Background(), f, discardLines{}, filter.PipelineOptions{Workers: 1, MaxRows: 10})
	defer p.Abort()
	var grown []int64
	s := &filterSink{p: p, grow: func(n int64) { grown = append(grown, n) }}
	for _, row := range []string{`1`, `22`, `3`, `4444`, `55`, `4444`} {
		if err := s.WriteValue([]byte(row)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int64{1, 2, 4}; len(grown) != len(want) || grown[0] != 1 || grown[1] != 2 || grown[2] != 4 {
		t.Errorf("grow called with %v, want %v", grown, want)
	}
}

// TestJQMemoryLimitRestored: --jq sets a soft memory limit for its run
// only (unless GOMEMLIMIT decides), and puts the previous one back.
func TestJQMemoryLimitRestored(t *testing.T) {
	srv := pgtest.Require(t)
	t.Setenv("GOMEMLIMIT", "") // restored at the end; unset meanwhile
	_ = os.Unsetenv("GOMEMLIMIT")
	const before = math.MaxInt64 - 1 // a limit of the test's own, to see it come back
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(before))
	var out, errb discardWriter
	code := Run(context.Background(), []string{"stream", "v_seq", "--limit", "10", "--jq", ".id",
		"-d", srv.ConnString(pgtest.RoleTrust, false)}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("memory limit after the run = %d, want %d", after, before)
	}
}

type discardWriter struct{ n int }

func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// TestTuneGC: under --jq the collector runs on a memory limit alone unless
// GOGC or GOMEMLIMIT is set, the user's settings win, and everything is put
// back afterwards.
func TestTuneGC(t *testing.T) {
	f, err := filter.Compile(".", filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := filter.NewPipeline(context.Background(), f, discardLines{}, filter.PipelineOptions{Workers: 1, MaxRows: 10})
	defer p.Abort()
	const myPercent, myLimit = 77, math.MaxInt64 - 1
	ours := jqMemoryBase + p.Holds(0)
	for _, tc := range []struct {
		name              string
		gogc, memlimit    bool
		percent           int
		limit             int64
		growsWithLongRows bool
	}{
		{"neither set", false, false, -1, ours, true},
		{"GOGC set", true, false, myPercent, ours, true},
		{"GOMEMLIMIT set", false, true, jqGCPercent, myLimit, false},
		{"both set", true, true, myPercent, myLimit, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, set := range map[string]bool{"GOGC": tc.gogc, "GOMEMLIMIT": tc.memlimit} {
				t.Setenv(name, "")
				if !set {
					_ = os.Unsetenv(name)
				}
			}
			defer debug.SetGCPercent(debug.SetGCPercent(myPercent))
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(myLimit))
			sink := &filterSink{p: p}
			restore := tuneGC(p, sink)
			percent, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
			debug.SetGCPercent(percent)
			if percent != tc.percent || limit != tc.limit {
				t.Errorf("during the run: GOGC %d, limit %d; want %d, %d", percent, limit, tc.percent, tc.limit)
			}
			if (sink.grow != nil) != tc.growsWithLongRows {
				t.Errorf("limit follows the longest row: %v, want %v", sink.grow != nil, tc.growsWithLongRows)
			}
			if sink.grow != nil {
				sink.grow(50 << 20)
				if got, want := debug.SetMemoryLimit(-1), jqMemoryBase+p.Holds(50<<20); got != want {
					t.Errorf("limit after a 50 MiB row = %d, want %d", got, want)
				}
			}
			restore()
			if percent, limit := debug.SetGCPercent(myPercent), debug.SetMemoryLimit(-1); percent != myPercent || limit != myLimit {
				t.Errorf("after the run: GOGC %d, limit %d; want %d, %d back", percent, limit, myPercent, myLimit)
			}
		})
	}
}
