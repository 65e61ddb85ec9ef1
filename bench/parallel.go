package main

// Issue 21, --parallel: fraise streaming one view on 1 to 4 connections
// that share a snapshot, split by an indexed key and, on v_small, by an
// expression no index serves. The whole machine's busy CPU is measured
// beside fraise's own, to show where the time goes: the server's
// backends, or fraise.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parallelView is one view of the --parallel section.
type parallelView struct {
	view string // the keyed twin streamed
	base string // the data set it is a twin of, which -only names
	// unindexed also measures the base view split by an expression of
	// its data: a key no index serves.
	unindexed string
}

// parallelViews are the views of the --parallel section.
var parallelViews = []parallelView{
	{view: "v_small_keyed", base: "v_small", unindexed: "(data->>'id')::int"},
	{view: "v_medium_keyed", base: "v_medium"},
}

// parallelCmd is one measured command of the section.
type parallelCmd struct {
	name string // the command line, as the report shows it
	argv []string
	n    int // connections
	// ref names the one-connection command whose output this one's must
	// equal, byte for byte.
	ref string
}

// parallelStats is the part of --stats' parallel object the report
// shows.
type parallelStats struct {
	Connections   int     `json:"connections"`
	Ranges        int     `json:"ranges"`
	SplitKey      string  `json:"split_key"`
	SplitFrom     string  `json:"split_from"`
	Skew          float64 `json:"skew"`
	SpilledRanges int     `json:"spilled_ranges"`
}

// parallelResult is the section's measurements on one view.
type parallelResult struct {
	pv              parallelView
	rows, dataBytes int64
	cmds            []parallelCmd
	samples         map[string][]sample
	floor           []time.Duration
	stats           map[string]*parallelStats // one --stats run's, for N > 1
	sums            map[string]uint32         // the output's CRC-32C, by ref
}

// parallelCounts are the connection counts measured: 1 to 4, or 1 and 2
// in smoke runs.
func (b *bench) parallelCounts() []int {
	if b.smoke {
		return []int{1, 2}
	}
	return []int{1, 2, 3, 4}
}

// parallelCmds returns the commands measured on pv: the keyed view by id
// on each connection count, then the base view by the unindexed key on 1
// and 2. Each group's one-connection command comes first.
func (b *bench) parallelCmds(pv parallelView) []parallelCmd {
	group := func(view, key, shown string, counts []int) []parallelCmd {
		var out []parallelCmd
		for _, n := range counts {
			c := parallelCmd{argv: []string{b.fraise, "stream", view, "--order-by", key}, n: n,
				name: "fraise stream " + view + " --order-by " + shown}
			if n > 1 {
				c.argv = append(c.argv, "--parallel", strconv.Itoa(n))
				c.name += " --parallel " + strconv.Itoa(n)
			}
			if len(out) > 0 {
				c.ref = out[0].name
			} else {
				c.ref = c.name
			}
			out = append(out, c)
		}
		return out
	}
	cmds := group(pv.view, "id", "id", b.parallelCounts())
	if pv.unindexed != "" {
		cmds = append(cmds, group(pv.base, pv.unindexed, `"`+pv.unindexed+`"`, []int{1, 2})...)
	}
	return cmds
}

// parallel measures pv's commands alternately after a warm-up run of
// each, the server-alone query before each round, then runs each
// parallel command once more with --stats for its split.
func (b *bench) parallel(ctx context.Context, pv parallelView) (*parallelResult, error) {
	r := &parallelResult{pv: pv, cmds: b.parallelCmds(pv), stats: map[string]*parallelStats{}, sums: map[string]uint32{}}
	var err error
	if r.rows, r.dataBytes, _, err = b.floorQuery(ctx, pv.view); err != nil {
		return nil, err
	}
	names, argv, byName := []string{}, map[string][]string{}, map[string]parallelCmd{}
	for _, c := range r.cmds {
		names = append(names, c.name)
		argv[c.name], byName[c.name] = c.argv, c
	}
	opts := runOpts{hash: true, machine: true}
	label := "parallel " + pv.view
	b.logf("%s: %d rows, %.1f MB; warming up", label, r.rows, float64(r.dataBytes)/1e6)
	r.samples, err = b.alternate(ctx, label, names, argv, opts, b.rounds,
		func() error {
			_, _, fl, err := b.floorQuery(ctx, pv.view)
			r.floor = append(r.floor, fl)
			return err
		},
		func(n string, s sample) error { return r.check(byName[n], s) })
	if err != nil {
		return nil, err
	}
	for _, c := range r.cmds {
		if c.n == 1 {
			continue
		}
		s, err := b.measure(ctx, append(slices.Clone(c.argv), "--stats"), runOpts{hash: true, keepStderr: true})
		if err != nil {
			return nil, err
		}
		if err := r.check(c, s); err != nil {
			return nil, err
		}
		if r.stats[c.name], err = parseParallelStats(s.stderr); err != nil {
			return nil, fmt.Errorf("%s --stats: %w", c.name, err)
		}
	}
	return r, nil
}

// check verifies one run's output: every row, the values' bytes and a
// newline each, and the same bytes as the other runs of its group (the
// first run of the group, the warm-up of the one-connection command,
// sets the checksum).
func (r *parallelResult) check(c parallelCmd, s sample) error {
	if s.outLines != r.rows || s.outBytes != r.dataBytes+r.rows {
		return fmt.Errorf("%s wrote %d lines and %d bytes, want %d and %d", c.name, s.outLines, s.outBytes, r.rows, r.dataBytes+r.rows)
	}
	want, ok := r.sums[c.ref]
	if !ok {
		r.sums[c.ref] = s.sum
	} else if s.sum != want {
		return fmt.Errorf("%s wrote other bytes than %s (CRC-32C %08x, not %08x)", c.name, c.ref, s.sum, want)
	}
	return nil
}

// parseParallelStats reads the parallel object of the --stats line, the
// last line of stderr that is a JSON object.
func parseParallelStats(stderr []byte) (*parallelStats, error) {
	lines := bytes.Split(bytes.TrimSpace(stderr), []byte{'\n'})
	for i := len(lines) - 1; i >= 0; i-- {
		if !bytes.HasPrefix(lines[i], []byte{'{'}) {
			continue
		}
		var l struct {
			Parallel *parallelStats `json:"parallel"`
		}
		if err := json.Unmarshal(lines[i], &l); err != nil {
			return nil, err
		}
		if l.Parallel == nil {
			return nil, fmt.Errorf("no parallel object in %s", lines[i])
		}
		return l.Parallel, nil
	}
	return nil, fmt.Errorf("no stats line in %q", stderr)
}

// parallelSection writes the --parallel tables.
func parallelSection(w *strings.Builder, results []*parallelResult) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Past one backend: --parallel (issue 21)\n\n"+
		"Every run's output is checked: every row, and the same bytes (CRC-32C) as the one-connection run of its key. "+
		"Speed-up is the one-connection run's median wall time over the command's. "+
		"*fraise CPU* is its user+sys (wait4 rusage); *machine busy* is the whole machine's user+nice+system+irq+softirq over the run (/proc/stat), "+
		"so that machine busy − fraise CPU ≈ the server's backends and the harness draining the pipe: *server share* is that over machine busy "+
		"(anything else running on the machine counts too; /proc/stat counts in 10 ms ticks, so short runs read coarsely). Ranges, split from, skew (the busiest connection's rows over the mean) and spilled ranges "+
		"are from one more run with `--stats`.\n")
	for _, r := range results {
		r.table(w)
	}
}

// table writes one view's table.
func (r *parallelResult) table(w *strings.Builder) {
	fmt.Fprintf(w, "\n### %s (%d rows, %.1f MB of values)\n\n", r.pv.view, r.rows, float64(r.dataBytes)/1e6)
	fmt.Fprintf(w, "| command | N | median wall s | speed-up vs N=1 | fraise CPU s | machine busy CPU s | server share | peak RSS MiB | ranges | split from | skew | spilled ranges |\n"+
		"|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.cmds {
		xs := r.samples[c.name]
		wall, base := median(walls(xs)), median(walls(r.samples[c.ref]))
		cpu, busy := median(cpus(xs)), median(busies(xs))
		share := "—"
		if busy > 0 {
			share = fmt.Sprintf("%.0f%%", 100*max(0, (busy-cpu).Seconds())/busy.Seconds())
		}
		split := "| — | — | — | — |"
		if st := r.stats[c.name]; st != nil {
			split = fmt.Sprintf("| %d | %s | %.2f | %d |", st.Ranges, st.SplitFrom, st.Skew, st.SpilledRanges)
		}
		fmt.Fprintf(w, "| `%s` | %d | %.3f | %.2f× | %.3f | %.3f | %s | %.1f %s\n", c.name, c.n, wall.Seconds(), base.Seconds()/wall.Seconds(),
			cpu.Seconds(), busy.Seconds(), share, mib(maxRSS(xs)), split)
	}
	fl := median(r.floor)
	fmt.Fprintf(w, "| *server alone: `sum(octet_length(data::text))`* | | %.3f | %.2f× | | | | | | | | |\n",
		fl.Seconds(), median(walls(r.samples[r.cmds[0].name])).Seconds()/fl.Seconds())
}

// busies returns the samples' machine busy CPU times.
func busies(xs []sample) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = x.busy
	}
	return out
}

// parallelAll measures the views of parallelViews whose data sets only
// (comma-separated, as -only) names, or all.
func (b *bench) parallelAll(ctx context.Context, only string) ([]*parallelResult, error) {
	var out []*parallelResult
	for _, pv := range parallelViews {
		if only != "" && !slices.Contains(strings.Split(only, ","), pv.base) {
			continue
		}
		r, err := b.parallel(ctx, pv)
		if err != nil {
			return nil, fmt.Errorf("parallel %s: %w", pv.view, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// parallelViewNames lists the section's views for -no-parallel's help.
func parallelViewNames() string {
	var names []string
	for _, pv := range parallelViews {
		names = append(names, pv.view)
	}
	return strings.Join(names, ", ")
}
