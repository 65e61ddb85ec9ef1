// Choosing the number of workers while the rows flow. Where the filter
// runs best depends on what it costs per row, on how fast the rows come,
// and on who else wants the cores (a server on the same machine needs one
// of its own), none of which is known before the run: on two cores shared
// with the server, two workers lose to one on some filters, and when the
// server sets the pace, handing batches to a worker costs more than
// filtering them where they are read. So the pipeline measures its
// throughput and tries: it runs at one level, now and then spends one
// window at another, and stays there if that moved the rows faster.

package filter

import (
	"runtime"
	"time"
)

// Tuning constants. A window is long enough to hold many collections and
// scheduler slices, short enough for a run of a few seconds to try every
// level a few times. A probe of more workers must win clearly, one of
// fewer only not lose much: fewer workers take less CPU from everyone
// else. When workers filter, a window in which the network reader waited
// for rows starvedAt of the time or more is one where the rows, not the
// filter, set the pace: more workers cannot help, and fewer do as well if
// the rows still keep the reader waiting. (When the reader filters, its
// waits say nothing of the kind: while it filters, the server fills the
// socket and stops, and then the reader waits for it.) A level that loses
// a probe is tried again after probeBackoff times as many windows as
// before, up to maxProbeWait, so that a run that has found its level
// spends few windows away from it.
const (
	tuneWindow   = 100 * time.Millisecond
	starvedAt    = 0.10
	upMargin     = 0.03
	downMargin   = 0.01
	probeBackoff = 4
	maxProbeWait = 32
)

// tuner chooses the level of an adapting pipeline: the number of workers
// that filter its batches, 0 being the goroutine that writes the rows. It
// is told at each batch the bytes of rows done so far and the time that
// goroutine has spent waiting for rows, and answers the level for the
// next batch. It is used by that goroutine only.
type tuner struct {
	levels []int                // ascending
	clock  func() time.Duration // monotonic
	window time.Duration

	at      int // index in levels of the level in use
	started bool
	start   time.Duration // when the current window began
	done0   int64         // bytes done when it began
	waited0 time.Duration // time waited for rows when it began

	probing bool
	from    int        // the level a probe left (index)
	base    float64    // throughput of the last window at from, bytes/s
	wait    []int      // per level: windows to spend elsewhere before probing it
	since   int        // windows spent at the level since the last probe
	upward  bool       // the direction of the last probe that won
	moves   int        // level changes, probes included
	shares  [][2]int64 // per level: bytes done, windows
}

// newTuner returns a tuner over levels (ascending) that starts at the
// first. A nil clock is the monotonic clock.
func newTuner(levels []int, clock func() time.Duration) *tuner {
	if clock == nil {
		epoch := time.Now()
		clock = func() time.Duration { return time.Since(epoch) }
	}
	t := &tuner{levels: levels, clock: clock, window: tuneWindow, upward: true}
	t.wait = make([]int, len(levels))
	t.shares = make([][2]int64, len(levels))
	t.resetWaits()
	return t
}

// ladder returns the levels tried up to max workers, ascending: 1, 2, 4,
// … and max, after 0 if here is set.
func ladder(max int, here bool) []int {
	var levels []int
	if here {
		levels = append(levels, 0)
	}
	for n := 1; n < max; n *= 2 {
		levels = append(levels, n)
	}
	return append(levels, max)
}

// defaultMaxWorkers is the most workers an adapting pipeline uses.
func defaultMaxWorkers() int { return runtime.GOMAXPROCS(0) }

// level returns the level in use.
func (t *tuner) level() int { return t.levels[t.at] }

// observe takes the bytes of rows done and the time waited for rows so
// far, and returns the level for the next batch.
func (t *tuner) observe(done int64, waited time.Duration) int {
	now := t.clock()
	if !t.started {
		t.started, t.start, t.done0, t.waited0 = true, now, done, waited
		return t.level()
	}
	elapsed := now - t.start
	if elapsed < t.window {
		return t.level()
	}
	rate := float64(done-t.done0) / elapsed.Seconds()
	// Waits for rows tell only when workers filter (see tuneWindow).
	starved := t.level() > 0 && float64(waited-t.waited0) >= starvedAt*float64(elapsed)
	t.shares[t.at][0] += done - t.done0
	t.shares[t.at][1]++
	t.start, t.done0, t.waited0 = now, done, waited
	if t.probing {
		t.settle(rate, starved)
		return t.level()
	}
	t.base = rate
	t.since++
	if i, ok := t.due(starved); ok {
		t.probing, t.from = true, t.at
		t.moveTo(i)
	}
	return t.level()
}

// settle ends a probe: the level probed stays if its window's throughput
// beat the one before it by the margin of its direction, or, for fewer
// workers, if the rows kept them waiting.
func (t *tuner) settle(rate float64, starved bool) {
	upward := t.at > t.from
	var kept bool
	if upward {
		kept = rate > t.base*(1+upMargin)
	} else {
		kept = starved || rate >= t.base*(1-downMargin)
	}
	t.probing, t.since = false, 0
	if kept {
		t.resetWaits()
		t.upward = upward
		t.base = rate
		return
	}
	t.wait[t.at] = min(probeBackoff*t.wait[t.at], maxProbeWait)
	t.moveTo(t.from)
}

// resetWaits makes every level due a window from now.
func (t *tuner) resetWaits() {
	for i := range t.wait {
		t.wait[i] = 1
	}
}

// due returns the level to probe now, if any: of those whose wait has
// passed (none with more workers while the rows keep the workers
// waiting), the one that lost least lately, then the nearest, then the
// one in the direction of the last probe that won (so that a run gaining
// from more workers climbs a level every other window).
func (t *tuner) due(starved bool) (int, bool) {
	best := -1
	for i := range t.levels {
		if i == t.at || t.since < t.wait[i] || starved && i > t.at {
			continue
		}
		if best < 0 || t.before(i, best) {
			best = i
		}
	}
	return best, best >= 0
}

// before reports whether level i is to be probed before level j.
func (t *tuner) before(i, j int) bool {
	if t.wait[i] != t.wait[j] {
		return t.wait[i] < t.wait[j]
	}
	di, dj := abs(i-t.at), abs(j-t.at)
	if di != dj {
		return di < dj
	}
	return (i > t.at) == t.upward
}

func abs(n int) int { return max(n, -n) }

func (t *tuner) moveTo(i int) {
	t.at = i
	t.moves++
}
