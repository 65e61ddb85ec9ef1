package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fraiseql/fraise/internal/units"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressEvery is how often the bar is redrawn: often enough to look
// alive, rarely enough to cost nothing.
const progressEvery = 200 * time.Millisecond

// wantProgress decides whether a bar is shown: --progress always, or auto
// with stderr a terminal and stdout not one (the rows would be written
// over the bar); never with --quiet. mode is one of --progress's values
// (oneOf).
func wantProgress(mode string, quiet, toFile bool, stdout, stderr io.Writer) bool {
	switch mode {
	case "always":
		return !quiet
	case "never":
		return false
	}
	// auto: rows on the terminal leave no room for a bar; with -o FILE
	// they go elsewhere, whatever stdout is.
	return !quiet && isTerminal(stderr) && (toFile || !isTerminal(stdout))
}

// progress draws a bar on stderr from a run's counters, on a goroutine of
// its own: the stream only publishes counters it keeps anyway. The bar
// appears once the planner's estimate, its total, is known (before the
// statement runs), and says the total is an estimate.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar // nil until the estimate is known
	stats *runStats
	stop  chan struct{}
	done  chan struct{}
	what  string
	max   int64
}

// startProgress starts the bar for a stream of relation.
func startProgress(w io.Writer, relation string, stats *runStats) *progress {
	p := &progress{w: w, stats: stats, what: relation, stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.draw()
		}
	}
}

// draw shows the counters.
func (p *progress) draw() {
	est := p.stats.estimate.Load()
	if est < 0 {
		return
	}
	rows := p.stats.rows.Load()
	// The estimate is only an estimate: a run that passes it gets a total
	// that keeps up.
	want := max(est, rows, 1)
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(want,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.describe(rows)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(24),
			progressbar.OptionUseANSICodes(true),
		)
		p.max = want
	}
	if want != p.max {
		p.bar.ChangeMax64(want)
		p.max = want
	}
	p.bar.Describe(p.describe(rows) + " (total estimated)")
	_ = p.bar.Set64(rows)
}

// describe is the text before the bar: the relation, the bytes and the
// rate so far (rows over the time since the start: steady, unlike a rate
// between two redraws).
func (p *progress) describe(rows int64) string {
	rate := ""
	if sec := time.Since(p.stats.start).Seconds(); sec > 0 {
		rate = fmt.Sprintf(", %.0f rows/s", float64(rows)/sec)
	}
	return fmt.Sprintf("%s: %s%s", p.what, units.Bytes(p.stats.bytes.Load()), rate)
}

// finish stops the bar. A run that succeeded ends at its real count, as a
// full bar; a failed one is left where it stopped, or cleared when no row
// came. The line is ended, so what follows on stderr starts on its own.
func (p *progress) finish(ok bool) {
	close(p.stop)
	<-p.done
	rows := p.stats.rows.Load()
	if rows > 0 && p.bar == nil {
		p.stats.estimate.CompareAndSwap(-1, rows)
		p.draw()
	}
	switch {
	case p.bar == nil:
		return
	case ok && rows > 0:
		p.bar.Describe(p.describe(rows))
		p.bar.ChangeMax64(rows)
		_ = p.bar.Set64(rows)
		_ = p.bar.Finish()
	case rows > 0:
		if rows > p.max {
			p.bar.ChangeMax64(rows)
		}
		_ = p.bar.Set64(rows)
		_ = p.bar.Exit()
	default:
		_ = p.bar.Clear()
		return
	}
	_, _ = io.WriteString(p.w, "\n")
}
