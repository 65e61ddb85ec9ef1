package filter

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// paceModel says, for a window and the level in use, how many MB of
// rows per second the pipeline does and what share of the time the
// rows' writer waits for rows.
type paceModel func(window, level int) (rate, wait float64)

// simulate runs a tuner over max workers for the given windows under m,
// on a clock of its own, observing four batches a window. It returns the
// level in use during each window, and the tuner.
func simulate(max, windows int, m paceModel) ([]int, *tuner) {
	var now time.Duration
	tn := newTuner(ladder(max, true), func() time.Duration { return now })
	var done float64
	var waited time.Duration
	level := tn.observe(0, 0)
	const step = tuneWindow / 4
	used := make([]int, 0, windows)
	for w := range windows {
		used = append(used, level)
		rate, wait := m(w, level)
		for range 4 {
			now += step
			done += rate * 1e6 * step.Seconds()
			waited += time.Duration(wait * float64(step))
			level = tn.observe(int64(done), waited)
		}
	}
	return used, tn
}

// rates returns a model where the rows never keep the pipeline waiting
// and each level has its own throughput, times a noise factor drawn
// uniformly within ±noise (with a fixed seed).
func rates(noise float64, byLevel map[int]float64) paceModel {
	rng := rand.New(rand.NewPCG(1, 2))
	return func(_, level int) (float64, float64) {
		return byLevel[level] * (1 + noise*(2*rng.Float64()-1)), 0
	}
}

// share returns the fraction of windows from the first given on that
// used level.
func share(used []int, from, level int) float64 {
	n := 0
	for _, l := range used[from:] {
		if l == level {
			n++
		}
	}
	return float64(n) / float64(len(used)-from)
}

// TestTunerFindsTheFastestLevel: whatever level is fastest, the tuner
// gets there and spends most of the run there, noise or not; probing the
// others costs fewer and fewer windows.
func TestTunerFindsTheFastestLevel(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
		m    paceModel
		want int
	}{
		{"the reader alone is fastest", 2, rates(0, map[int]float64{0: 100, 1: 90, 2: 80}), 0},
		{"one worker is fastest", 2, rates(0, map[int]float64{0: 100, 1: 130, 2: 110}), 1},
		{"every core helps", 8, rates(0, map[int]float64{0: 100, 1: 180, 2: 340, 4: 600, 8: 1000}), 8},
		{"one worker, noisy", 2, rates(0.08, map[int]float64{0: 100, 1: 140, 2: 110}), 1},
		{"every core helps, noisy", 4, rates(0.08, map[int]float64{0: 100, 1: 180, 2: 340, 4: 600}), 4},
		{"the reader alone, noisy", 2, rates(0.08, map[int]float64{0: 100, 1: 75, 2: 70}), 0},
		{"two workers, one no faster than none", 2, rates(0, map[int]float64{0: 100, 1: 100, 2: 120}), 2},
		{"two workers, one slower than none, noisy", 2, rates(0.05, map[int]float64{0: 100, 1: 95, 2: 115}), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			used, _ := simulate(tc.max, 300, tc.m)
			if s := share(used, 50, tc.want); s < 0.8 {
				t.Errorf("%.0f%% of windows 50-300 at level %d, want 80%% or more; levels %v", 100*s, tc.want, used)
			}
			if s := share(used, 200, tc.want); s < 0.85 {
				t.Errorf("%.0f%% of windows 200-300 at level %d, want 85%% or more (probes back off); levels %v", 100*s, tc.want, used[200:])
			}
		})
	}
}

// TestTunerClimbsFast: when every level is faster than the one below,
// the tuner reaches the top after a window at each level and a probe
// of the next.
func TestTunerClimbsFast(t *testing.T) {
	used, _ := simulate(16, 40, rates(0, map[int]float64{0: 100, 1: 190, 2: 370, 4: 720, 8: 1400, 16: 2700}))
	if i := slices.Index(used, 16); i < 0 || i > 10 {
		t.Errorf("at 16 workers from window %d on; want 10 at most; levels %v", i, used)
	}
}

// TestTunerStaysWhenRowsSetThePace: when the rows set the pace, no
// level is faster than another: the tuner stays where it costs least,
// its probes fewer and fewer. Waiting for rows while workers filter
// means that more workers cannot help: none are tried; waiting while
// the reader filters says nothing (the server stops while the reader
// filters), and is not heeded.
func TestTunerStaysWhenRowsSetThePace(t *testing.T) {
	for _, wait := range []float64{starvedAt, 0.5, 0.95} {
		used, tn := simulate(4, 200, func(_, _ int) (float64, float64) { return 100, wait })
		if s := share(used, 0, 0); s < 0.9 {
			t.Errorf("wait %.2f: %.0f%% of windows at level 0, want 90%% or more; levels %v", wait, 100*s, used)
		}
		if away := int((1-share(used, 100, 0))*100 + 0.5); away > 8 || tn.moves > 40 {
			t.Errorf("wait %.2f: %d moves, %d of windows 100-200 away from level 0; want probes backing off", wait, tn.moves, away)
		}
		// The reader alone is slower; workers are not, but wait for rows.
		used, _ = simulate(4, 200, func(_, level int) (float64, float64) {
			return map[int]float64{0: 80}[level] + 100*min(float64(level), 1), wait
		})
		if slices.ContainsFunc(used, func(l int) bool { return l > 1 }) || share(used, 10, 1) < 0.9 {
			t.Errorf("wait %.2f, workers waiting: levels %v; want 1 worker, and never more", wait, used)
		}
	}
}

// TestTunerFollowsAChange: a run whose filter sets the pace and then its
// rows (a slower part of the relation, another load on the server's
// machine): the workers go once they no longer help, even at some loss
// of measured speed, and come back when they help again.
func TestTunerFollowsAChange(t *testing.T) {
	m := func(w, level int) (float64, float64) {
		if w >= 100 && w < 200 {
			// The rows set the pace; fewer workers even measure slower.
			return 100 - 4*float64(level), 0.4
		}
		return map[int]float64{0: 100, 1: 150, 2: 200}[level], 0
	}
	used, _ := simulate(2, 300, m)
	if s := share(used, 50, 2); s < 0.3 {
		t.Errorf("%.0f%% of windows 50-100 at 2 workers, want most", 100*share(used[:100], 50, 2))
	}
	if s := share(used[:200], 130, 0); s < 0.95 {
		t.Errorf("%.0f%% of windows 130-200 at level 0, want all but probes; levels %v", 100*s, used[100:200])
	}
	if s := share(used, 250, 2); s < 0.85 {
		t.Errorf("%.0f%% of windows 250-300 at 2 workers, want 85%% or more; levels %v", 100*s, used[200:])
	}
}

// TestTunerDecidesPerWindow: within a window nothing changes, however
// many batches go by.
func TestTunerDecidesPerWindow(t *testing.T) {
	var now time.Duration
	tn := newTuner(ladder(2, true), func() time.Duration { return now })
	var done int64
	for i := range 1000 {
		now += tuneWindow / 1000
		done += 1000
		if got := tn.observe(done, 0); got != 0 {
			t.Fatalf("batch %d of the first window: level %d, want 0 until the window ends", i, got)
		}
	}
	if tn.moves != 0 {
		t.Errorf("%d moves within the first window", tn.moves)
	}
	now += tuneWindow
	if got := tn.observe(done+100000, 0); got != 1 {
		t.Errorf("once the window is over: level %d, want a probe at 1", got)
	}
}

// TestLadder checks the levels tried for each number of workers, with
// and without the rows' writer.
func TestLadder(t *testing.T) {
	for _, tc := range []struct {
		max  int
		here bool
		want []int
	}{
		{1, true, []int{0, 1}},
		{2, true, []int{0, 1, 2}},
		{3, true, []int{0, 1, 2, 3}},
		{4, true, []int{0, 1, 2, 4}},
		{6, true, []int{0, 1, 2, 4, 6}},
		{16, true, []int{0, 1, 2, 4, 8, 16}},
		{1, false, []int{1}},
		{2, false, []int{1, 2}},
		{16, false, []int{1, 2, 4, 8, 16}},
	} {
		if got := ladder(tc.max, tc.here); !slices.Equal(got, tc.want) {
			t.Errorf("ladder(%d, %v) = %v, want %v", tc.max, tc.here, got, tc.want)
		}
	}
}
