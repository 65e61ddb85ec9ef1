package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// pushCase is one --jq pushdown comparison: fraise with pushdown (the
// default), with --no-pushdown, and psql | jq, on the same filter.
type pushCase struct {
	view, filter string
	// want is the speed-up over --no-pushdown issue 22 asks for; 0 for a
	// filter nothing of which can be pushed (unchanged within noise).
	want float64
}

// pushCases are issue 22's: a projection of a few paths of 1.7 KB
// values, a pushed select on 200-byte ones, and a select that cannot be
// pushed.
var pushCases = []pushCase{
	{"v_medium", "{id, email: .user.email}", 3},
	{"v_medium", ".user.email", 3},
	{"v_small", "select(.age > 30) | {id, email}", 1.5},
	{"v_small", "select(.id % 3 == 0) | {id, email}", 0},
}

// The commands of the pushdown comparison.
const (
	toolPushdown   = "fraise --jq (pushdown)"
	toolNoPushdown = "fraise --jq --no-pushdown"
)

// pushResult is the pushdown comparison on one case.
type pushResult struct {
	c       pushCase
	rows    int64
	floor   time.Duration // the server alone on the whole view
	tools   []string
	samples map[string][]sample
	// read is what each fraise command received (--stats): rows and
	// value bytes.
	read map[string][2]int64
}

// pushdown measures one case: the three commands alternately, fraise's
// two outputs checked byte-identical (CRC-32C) every run, then one run of
// each fraise command with --stats for the bytes it read.
func (b *bench) pushdown(ctx context.Context, c pushCase) (*pushResult, error) {
	rows, _, floor, err := b.floorQuery(ctx, c.view)
	if err != nil {
		return nil, err
	}
	_, jqArgv, err := b.jqTools(jqCase{view: c.view, filter: c.filter})
	if err != nil {
		return nil, err
	}
	fraise := []string{b.fraise, "stream", c.view, "--jq", c.filter}
	argv := map[string][]string{
		toolPushdown:   fraise,
		toolNoPushdown: append(slices.Clone(fraise), "--no-pushdown"),
		toolPsqlJQ:     jqArgv[toolPsqlJQ],
	}
	r := &pushResult{c: c, rows: rows, floor: floor, tools: []string{toolPushdown, toolNoPushdown, toolPsqlJQ}, read: map[string][2]int64{}}
	sums := map[string]uint32{}
	lines := int64(-1)
	check := func(name string, s sample) error {
		if lines < 0 {
			lines = s.outLines
		} else if s.outLines != lines {
			return fmt.Errorf("%s wrote %d lines, another command %d", name, s.outLines, lines)
		}
		if name == toolPsqlJQ {
			return nil // jq keeps constructed objects' key order, gojq sorts them
		}
		for other, sum := range sums {
			if sum != s.sum {
				return fmt.Errorf("%s wrote other bytes than %s (CRC-32C %08x, not %08x)", name, other, s.sum, sum)
			}
		}
		sums[name] = s.sum
		return nil
	}
	label := fmt.Sprintf("pushdown %s on %s", c.filter, c.view)
	b.logf("%s: warming up", label)
	if r.samples, err = b.alternate(ctx, label, r.tools, argv, runOpts{hash: true}, b.jqRounds(), nil, check); err != nil {
		return nil, err
	}
	for _, t := range r.tools[:2] {
		s, err := b.measure(ctx, append(slices.Clone(argv[t]), "--stats"), runOpts{keepStderr: true})
		if err != nil {
			return nil, err
		}
		var st struct {
			Rows  int64 `json:"rows_read"`
			Bytes int64 `json:"bytes_read"`
		}
		if err := json.Unmarshal(s.stderr, &st); err != nil {
			return nil, fmt.Errorf("%s --stats: %w (%q)", t, err, s.stderr)
		}
		r.read[t] = [2]int64{st.Rows, st.Bytes}
	}
	return r, nil
}

// table writes the case's table.
func (r *pushResult) table(w *strings.Builder) {
	fmt.Fprintf(w, "\n### `%s` on %s (%d rows)\n\n", r.c.filter, r.c.view, r.rows)
	fmt.Fprintf(w, "| command | median wall s | min–max s | user+sys s | peak RSS MiB | rows read | MB read | speed-up over --no-pushdown |\n|---|---|---|---|---|---|---|---|\n")
	base := median(walls(r.samples[toolNoPushdown]))
	for _, t := range r.tools {
		ws := walls(r.samples[t])
		wall := median(ws)
		rowsRead, mbRead := "", ""
		if rd, ok := r.read[t]; ok {
			rowsRead, mbRead = fmt.Sprint(rd[0]), fmt.Sprintf("%.2f", float64(rd[1])/1e6)
		}
		fmt.Fprintf(w, "| %s | %.3f | %.3f–%.3f | %.3f | %.1f | %s | %s | %.2f× |\n", t, wall.Seconds(),
			slices.Min(ws).Seconds(), slices.Max(ws).Seconds(), median(cpus(r.samples[t])).Seconds(),
			mib(maxRSS(r.samples[t])), rowsRead, mbRead, base.Seconds()/wall.Seconds())
	}
	push := median(walls(r.samples[toolPushdown]))
	speed := base.Seconds() / push.Seconds()
	want := "unchanged within noise wanted (nothing pushable)"
	if r.c.want > 0 {
		met := "met"
		if speed < r.c.want {
			met = "not met"
		}
		want = fmt.Sprintf("%.1f× wanted: %s", r.c.want, met)
	}
	fmt.Fprintf(w, "\nPushdown over --no-pushdown: %.2f× (%s). The server alone on the whole view (`sum(octet_length(data::text))`): %.3f s; pushdown's wall over it: %.2f.\n",
		speed, want, r.floor.Seconds(), push.Seconds()/r.floor.Seconds())
}

// pushdownSection writes the pushdown comparison.
func pushdownSection(w *strings.Builder, results []*pushResult, rounds int) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## --jq pushdown (%d rounds)\n\nThe server narrows what it sends for --jq (a projection of the paths the expression observes, select conditions that only drop rows jq certainly drops); fraise still runs the whole expression. Both fraise commands' outputs are checked byte-identical (CRC-32C) on every run; psql | jq's lines are counted (jq keeps the key order of objects it builds, gojq sorts it). Rows and bytes read are fraise's `--stats` (`rows_read`, `bytes_read`).\n", rounds)
	for _, r := range results {
		r.table(w)
	}
}
