package main

// Issue 6, bounded memory everywhere: fraise's peak RSS must not grow
// with the number of rows, with a consumer that reads late, or beyond a
// small multiple of the largest row; and a reader that goes away before
// the first row must end the run and the server's work at once.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// memVariant is one fraise command line of the memory comparison.
type memVariant struct {
	name string
	args []string // after `fraise stream VIEW [--limit N]`
	// small, mid, all and late are the runs on smallRows rows, on
	// midRows, on every row, and on every row with a reader that starts
	// late.
	small, mid, all, late []sample
}

// memResult compares fraise's peak RSS on a small and a full result, and
// on the full result read by a late consumer.
type memResult struct {
	view                        string
	smallRows, midRows, allRows int64
	lateAfter                   time.Duration // how long the late consumer waits before reading
	variants                    []*memVariant
}

// memVariants are the command lines measured: the raw values, a
// projection, and the identity filter that rebuilds every value.
var memVariants = []struct {
	name string
	args []string
}{
	{"fraise stream", nil},
	{"fraise stream --jq '{id, email}'", []string{"--jq", "{id, email}"}},
	{"fraise stream --jq .", []string{"--jq", "."}},
	{"fraise stream --jq .email", []string{"--jq", ".email"}},
}

// memGrowth is the growth of peak RSS over the small run's that the report
// still calls bounded.
const memGrowth = 1.10

// lateAfter is how long the slow consumer waits before its first read.
func (b *bench) lateAfter() time.Duration {
	if b.smoke {
		return 500 * time.Millisecond
	}
	return 5 * time.Second
}

// memory streams the first 10,000 rows of v_small (1% at smoke scale), the
// first 10% and all of it with each variant, alternately, then all of it
// again with a reader that only starts after lateAfter: bounded memory
// means the peaks match. The 10% run shows whether a peak above the small
// run's has levelled off.
func (b *bench) memory(ctx context.Context) (*memResult, error) {
	rows, _, _, err := b.floorQuery(ctx, "v_small")
	if err != nil {
		return nil, err
	}
	m := &memResult{view: "v_small", allRows: rows, smallRows: min(10_000, max(rows/100, 1)), midRows: max(rows/10, 1), lateAfter: b.lateAfter()}
	for _, v := range memVariants {
		m.variants = append(m.variants, &memVariant{name: v.name, args: v.args})
	}
	run := func(v *memVariant, limit int64, o runOpts) (sample, error) {
		want := m.allRows
		if limit >= 0 {
			want = limit
		}
		argv := append(fraiseArgv(b.fraise, m.view, int(limit)), v.args...)
		s, err := b.measure(ctx, argv, o)
		if err != nil {
			return s, fmt.Errorf("memory, %s: %w", v.name, err)
		}
		if s.outLines != want {
			return s, fmt.Errorf("memory, %s (limit %d): %d lines, want %d", v.name, limit, s.outLines, want)
		}
		return s, nil
	}
	rounds := max(b.rounds, 3)
	lateRounds := min(rounds, 2)
	for round := range rounds {
		for _, v := range m.variants {
			s, err := run(v, m.smallRows, runOpts{})
			if err != nil {
				return nil, err
			}
			v.small = append(v.small, s)
			if s, err = run(v, m.midRows, runOpts{}); err != nil {
				return nil, err
			}
			v.mid = append(v.mid, s)
			if s, err = run(v, -1, runOpts{}); err != nil {
				return nil, err
			}
			v.all = append(v.all, s)
			if round < lateRounds {
				if s, err = run(v, -1, runOpts{readAfter: m.lateAfter}); err != nil {
					return nil, err
				}
				v.late = append(v.late, s)
			}
		}
		b.logf("memory: round %d/%d done", round+1, rounds)
	}
	return m, nil
}

// hugeCase is one command streaming the huge row.
type hugeCase struct {
	name    string
	argv    []string
	want    int64 // exact output size
	samples []sample
	// idleArgv and idle are the same command on one row of v_tiny: the
	// peak RSS the huge row adds to.
	idleArgv []string
	idle     []sample
}

// hugeResult is the peak RSS of streaming one very large row.
type hugeResult struct {
	view    string
	chars   int   // the string's length
	size    int64 // the value's text size
	cases   []*hugeCase
	rounds  int
	created string // the view's definition
}

// hugeView is the view of one large jsonb string.
const hugeView = "v_huge"

// hugeRow (re)creates v_huge, one jsonb string of 50,000,000 'x' (5,000,000
// at smoke scale), and measures fraise streaming it raw, through --jq .
// (the string decoded and encoded again) and through --jq length (decoded
// only), with psql -At for reference.
func (b *bench) hugeRow(ctx context.Context) (*hugeResult, error) {
	h := &hugeResult{view: hugeView, chars: 50_000_000, rounds: min(max(b.rounds, 3), 5)}
	if b.smoke {
		h.chars, h.rounds = 5_000_000, 1
	}
	h.created = fmt.Sprintf("SELECT to_jsonb(repeat('x', %d)) AS data", h.chars)
	ddl := fmt.Sprintf("SET client_min_messages = warning;\nCREATE OR REPLACE VIEW %s AS %s;\nGRANT SELECT ON %s TO PUBLIC;\n", h.view, h.created, h.view)
	if _, err := b.srv.Psql(ctx, ddl); err != nil {
		return nil, fmt.Errorf("creating %s: %w", h.view, err)
	}
	rows, size, _, err := b.floorQuery(ctx, h.view)
	if err != nil {
		return nil, err
	}
	if rows != 1 || size != int64(h.chars)+2 {
		return nil, fmt.Errorf("%s: %d rows of %d bytes, want 1 of %d", h.view, rows, size, h.chars+2)
	}
	h.size = size
	raw := size + 1 // the quoted string and a newline
	fr := func(view string, limit int, args ...string) []string {
		return append(fraiseArgv(b.fraise, view, limit), args...)
	}
	h.cases = []*hugeCase{
		{name: "fraise stream", argv: fr(h.view, -1), idleArgv: fr(tinyView, 1), want: raw},
		{name: "fraise stream --jq .", argv: fr(h.view, -1, "--jq", "."), idleArgv: fr(tinyView, 1, "--jq", "."), want: raw},
		{name: "fraise stream --jq length", argv: fr(h.view, -1, "--jq", "length"), idleArgv: fr(tinyView, 1, "--jq", "length"),
			want: int64(len(strconv.Itoa(h.chars)) + 1)},
	}
	for _, t := range b.pick(toolAt) {
		h.cases = append(h.cases, &hugeCase{name: t.name + " (reference)", argv: t.argv(h.view, -1), idleArgv: t.argv(tinyView, 1), want: raw})
	}
	b.logf("%s: one row of %.1f MB", h.view, float64(size)/1e6)
	for round := range h.rounds {
		for i := range h.cases {
			c := h.cases[(i+round)%len(h.cases)]
			s, err := b.measure(ctx, c.argv, runOpts{})
			if err != nil {
				return nil, fmt.Errorf("%s, %s: %w", h.view, c.name, err)
			}
			if s.outLines != 1 || s.outBytes != c.want {
				return nil, fmt.Errorf("%s, %s: %d lines, %d bytes; want 1 line, %d bytes", h.view, c.name, s.outLines, s.outBytes, c.want)
			}
			c.samples = append(c.samples, s)
			if s, err = b.measure(ctx, c.idleArgv, runOpts{}); err != nil {
				return nil, fmt.Errorf("%s, %s: %w", tinyView, c.name, err)
			}
			if s.outLines != 1 {
				return nil, fmt.Errorf("%s, %s --limit 1: %d lines", tinyView, c.name, s.outLines)
			}
			c.idle = append(c.idle, s)
		}
	}
	return h, nil
}

// earlyCase is one command whose reader goes away before its first row.
type earlyCase struct {
	name string
	argv []string
	// exits and gones are, per round, the time from the reader's close to
	// the command's exit and to its backend leaving pg_stat_activity; -1
	// when that took longer than the cap.
	exits, gones []time.Duration
	codes        []string // exit statuses, one per round
	cancelled    int      // rounds the harness had to cancel the backend
}

// earlyResult is the reader-gone-before-the-first-row measurement.
type earlyResult struct {
	where string
	cap   time.Duration
	cases []*earlyCase
}

// earlyWhere makes the server sleep before each row: no row can arrive
// before the reader goes away.
const earlyWhere = "pg_sleep(30) IS NOT NULL"

// earlyExit starts each command on a query that sleeps before its first
// row, waits until its backend is sleeping, closes the read end of the
// command's stdout, and measures how long until the command exits and its
// backend is gone. A command that has not done both within the cap (10 s)
// is counted as such, its backend cancelled, and not run again.
func (b *bench) earlyExit(ctx context.Context) (*earlyResult, error) {
	e := &earlyResult{where: earlyWhere, cap: 10 * time.Second}
	if b.smoke {
		e.cap = 2 * time.Second
	}
	fr := fraiseArgv(b.fraise, tinyView, -1)
	e.cases = []*earlyCase{
		{name: "fraise stream", argv: append(slices.Clone(fr), "--where", earlyWhere)},
		{name: "fraise stream --jq .", argv: append(slices.Clone(fr), "--where", earlyWhere, "--jq", ".")},
	}
	for _, t := range b.pick(toolAt) {
		// The same statement as fraise's, without its transaction.
		argv := t.argv(tinyView+" WHERE "+earlyWhere, -1)
		e.cases = append(e.cases, &earlyCase{name: t.name, argv: argv})
	}
	seq := 0
	for round := range b.latencyRounds() {
		for _, c := range e.cases {
			if round > 0 && (slices.Contains(c.exits, -1) || slices.Contains(c.gones, -1)) {
				continue // once past the cap is enough
			}
			seq++
			app := "fraise-bench-early-" + strconv.Itoa(seq)
			exit, gone, code, cancelled, err := b.readerGone(ctx, c.argv, app, e.cap)
			if err != nil {
				return nil, fmt.Errorf("reader gone before the first row, %s: %w", c.name, err)
			}
			c.exits, c.gones, c.codes = append(c.exits, exit), append(c.gones, gone), append(c.codes, code)
			if cancelled {
				c.cancelled++
			}
		}
	}
	return e, nil
}

// readerGone runs argv with PGAPPNAME app and its stdout on a pipe that
// nobody reads, waits until its backend sleeps in pg_sleep, then closes the
// pipe's read end. It returns the time from the close to the command's
// exit and to its backend's departure (-1 for longer than limit), the
// command's exit status, and whether the harness had to cancel the backend
// itself.
func (b *bench) readerGone(ctx context.Context, argv []string, app string, limit time.Duration) (exit, gone time.Duration, code string, cancelled bool, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, "", false, err
	}
	defer r.Close()
	b.prog.runs++
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(b.env(), "PGAPPNAME="+app)
	cmd.Dir = b.work
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		return 0, 0, "", false, err
	}
	w.Close()
	done := make(chan struct{})
	var exitAt time.Time
	go func() {
		_ = cmd.Wait()
		exitAt = time.Now()
		close(done)
	}()
	exited := func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	stop := func() {
		if !exited() {
			_ = cmd.Process.Kill()
			<-done
		}
		_, _ = b.srv.Psql(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"+app+"'")
	}
	backends := func(cond string) (string, error) {
		out, err := b.srv.Psql(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"+app+"'"+cond)
		return strings.TrimSpace(out), err
	}

	// Wait until the query is running, sleeping before its first row.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := backends(" AND state = 'active' AND wait_event = 'PgSleep'")
		if err != nil {
			stop()
			return 0, 0, "", false, err
		}
		if n == "1" {
			break
		}
		if exited() {
			return 0, 0, "", false, fmt.Errorf("%s ended before its query ran: %v\n%s", argv[0], cmd.ProcessState, stderr.Bytes())
		}
		if time.Now().After(deadline) {
			stop()
			return 0, 0, "", false, fmt.Errorf("%s: no sleeping backend after 10 s", argv[0])
		}
		time.Sleep(5 * time.Millisecond)
	}

	closed := time.Now()
	if err := r.Close(); err != nil {
		stop()
		return 0, 0, "", false, err
	}
	exit, gone = -1, -1
	for time.Since(closed) < limit && (exit < 0 || gone < 0) {
		if exit < 0 && exited() {
			exit = exitAt.Sub(closed)
		}
		if gone < 0 {
			n, err := backends("")
			if err != nil {
				stop()
				return 0, 0, "", false, err
			}
			if n == "0" {
				gone = time.Since(closed)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	if exit < 0 && exited() {
		exit = exitAt.Sub(closed)
	}

	if gone < 0 || exit < 0 {
		// Past the cap: cancel the statement, as a user pressing ^C would,
		// and give the command a few seconds to go before killing it.
		cancelled = true
		if _, err := b.srv.Psql(ctx, "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '"+app+"'"); err != nil {
			stop()
			return 0, 0, "", false, err
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
	stop()
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.srv.Await(actx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"+app+"'", "0"); err != nil {
		return 0, 0, "", false, err
	}
	return exit, gone, exitStatus(cmd.ProcessState), cancelled, nil
}

// exitStatus describes how a process ended: its exit code, or the signal.
func exitStatus(ps *os.ProcessState) string {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal().String()
	}
	return "exit " + strconv.Itoa(ps.ExitCode())
}

// lifecycleSection writes the memory, huge-row and early-exit tables.
func lifecycleSection(w *strings.Builder, m *memResult, h *hugeResult, e *earlyResult) {
	if m == nil && h == nil && e == nil {
		return
	}
	fmt.Fprintf(w, "\n## Bounded memory and early exit (issue 6)\n\nPeak RSS is fraise's own (wait4 rusage), the largest of the runs.\n")
	if m != nil {
		m.table(w)
	}
	if h != nil {
		h.table(w)
	}
	if e != nil {
		e.table(w)
	}
}

// table writes the memory comparison: every peak against the small run's.
func (m *memResult) table(w *strings.Builder) {
	fmt.Fprintf(w, "\n### Peak RSS: %d rows vs all %d rows of %s, and all rows with a reader that starts %s late\n\n", m.smallRows, m.allRows, m.view, m.lateAfter)
	fmt.Fprintf(w, "\"ok\" when both all-rows peaks are within %.0f%% of the %d-row peak, \"GROWS\" otherwise: memory that grows with the rows grows tenfold from there. The %d-row peak is shown, not compared: so short a run may end before the --jq workers start, and its peak is lower for that, not for fewer rows. The late reader: the harness starts draining fraise's stdout pipe only %s after the start, so fraise blocks on a full pipe meanwhile.\n\n",
		100*(memGrowth-1), m.midRows, m.smallRows, m.lateAfter)
	fmt.Fprintf(w, "| command | %d rows MiB | %d rows MiB | all rows MiB | all / %d | all rows, late reader MiB | late / %d | bounded |\n|---|---|---|---|---|---|---|---|\n",
		m.smallRows, m.midRows, m.midRows, m.midRows)
	for _, v := range m.variants {
		mid, all, late := maxRSS(v.mid), maxRSS(v.all), maxRSS(v.late)
		ra, rl := float64(all)/float64(mid), float64(late)/float64(mid)
		verdict := "ok"
		if ra > memGrowth || rl > memGrowth {
			verdict = "GROWS"
		}
		fmt.Fprintf(w, "| `%s` | %.1f | %.1f | %.1f | %.2f | %.1f | %.2f | %s |\n", v.name, mib(maxRSS(v.small)), mib(mid), mib(all), ra, mib(late), rl, verdict)
	}
	if len(m.variants) > 0 {
		v := m.variants[0]
		fmt.Fprintf(w, "\nRuns of each command: %d on %d rows, %d on %d rows, %d on all rows, %d on all rows with the late reader.\n",
			len(v.small), m.smallRows, len(v.mid), m.midRows, len(v.all), len(v.late))
	}
}

// table writes the huge-row measurement.
func (h *hugeResult) table(w *strings.Builder) {
	fmt.Fprintf(w, "\n### One row of %.1f MB (%s: `%s`)\n\n", float64(h.size)/1e6, h.view, h.created)
	fmt.Fprintf(w, "Runs of each command: %d; output sizes checked exactly. RSS / row is the peak over the value's text size (%d bytes); the one-row peak is the same command on one row of %s, and the growth is the difference over the row's size.\n\n", h.rounds, h.size, tinyView)
	fmt.Fprintf(w, "| command | output bytes | median wall s | peak RSS MiB | RSS / row | one-row peak MiB | growth / row |\n|---|---|---|---|---|---|---|\n")
	for _, c := range h.cases {
		rss, idle := maxRSS(c.samples), maxRSS(c.idle)
		fmt.Fprintf(w, "| `%s` | %d | %.3f | %.1f | %.2f | %.1f | %.2f |\n", c.name, c.want, median(walls(c.samples)).Seconds(), mib(rss),
			float64(rss)/float64(h.size), mib(idle), float64(rss-idle)/float64(h.size))
	}
}

// table writes the early-exit measurement.
func (e *earlyResult) table(w *strings.Builder) {
	fmt.Fprintf(w, "\n### Reader gone before the first row\n\n")
	fmt.Fprintf(w, "The query sleeps before every row (`%s` on %s); once its backend sleeps, the harness closes the read end of the command's stdout pipe and times, from the close, the command's exit and its backend leaving pg_stat_activity (polled, so a few ms are the polling's). Waits are capped at %s; past it the harness cancels the backend (pg_cancel_backend) and runs that command no more.\n\n", e.where, tinyView, e.cap)
	fmt.Fprintf(w, "| command | rounds | exit after close, median ms | max ms | backend gone after close, median ms | max ms | exit status |\n|---|---|---|---|---|---|---|\n")
	for _, c := range e.cases {
		status := strings.Join(uniq(c.codes), ", ")
		if c.cancelled > 0 {
			status += fmt.Sprintf(" (after the harness's cancel, %d of %d rounds)", c.cancelled, len(c.codes))
		}
		fmt.Fprintf(w, "| `%s` | %d | %s | %s | %s | %s | %s |\n", c.name, len(c.exits),
			capped(c.exits, e.cap, true), capped(c.exits, e.cap, false), capped(c.gones, e.cap, true), capped(c.gones, e.cap, false), status)
	}
}

// capped formats the median or the maximum of durations in ms, any of
// which is -1 for past the cap: the maximum is then "> cap", and so is the
// median when the capped ones reach it.
func capped(xs []time.Duration, limit time.Duration, med bool) string {
	if len(xs) == 0 {
		return ""
	}
	s := slices.Clone(xs)
	for i, x := range s {
		if x < 0 {
			s[i] = time.Duration(1<<63 - 1)
		}
	}
	v := slices.Max(s)
	if med {
		v = median(s)
	}
	if v == time.Duration(1<<63-1) {
		return fmt.Sprintf("> %.0f", ms(limit))
	}
	return fmt.Sprintf("%.1f", ms(v))
}

// uniq returns the distinct strings of xs in first-seen order.
func uniq(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
