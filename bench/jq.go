package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"
)

// jqCase is one --jq comparison: fraise against psql piped into jq.
type jqCase struct {
	view, filter string
}

// jqCases are issue 5's filters on v_small and v_medium (where .email and
// .age are absent, so they measure decoding), plus v_medium's own email,
// and the identity on v_medium: every value built and written again, the
// worst case.
var jqCases = []jqCase{
	{"v_small", ".email"},
	{"v_small", "select(.age > 30) | {id, email}"},
	{"v_medium", ".email"},
	{"v_medium", "select(.age > 30) | {id, email}"},
	{"v_medium", ".user.email"},
	{"v_medium", "select(.id % 3 == 0) | {id, email: .user.email}"},
	{"v_medium", "."},
}

// The commands of the jq comparison: fraise choosing its workers (the
// default), fraise with one worker and with one per CPU (the default
// before fraise chose), and the pipeline.
const (
	toolFraiseJQ  = "fraise --jq"
	toolFraiseJQ1 = "fraise --jq --jq-workers 1"
	toolPsqlJQ    = "psql -At FETCH_COUNT=1000 | jq -c"
)

// toolFraiseJQN is fraise with one worker per CPU.
func toolFraiseJQN() string { return fmt.Sprintf("fraise --jq --jq-workers %d", runtime.NumCPU()) }

// jqResult is the jq comparison on one case.
type jqResult struct {
	c       jqCase
	rows    int64
	lines   int64
	tools   []string
	samples map[string][]sample
}

// jqTools returns the compared command lines for a case, and -baseline's
// default --jq after them. The pipeline runs under bash, whose rusage
// includes both of its processes.
func (b *bench) jqTools(c jqCase) ([]string, map[string][]string, error) {
	jq, err := exec.LookPath("jq")
	if err != nil {
		return nil, nil, fmt.Errorf("the jq comparison needs jq (apt-get install jq): %w", err)
	}
	psql := shellQuote(b.srv.PsqlPath) + " -X -q -v ON_ERROR_STOP=1 -At -v FETCH_COUNT=1000 -c " + shellQuote("SELECT data FROM "+c.view)
	fraise := func(bin string, extra ...string) []string {
		return append([]string{bin, "stream", c.view, "--jq", c.filter}, extra...)
	}
	names := []string{toolFraiseJQ, toolFraiseJQ1}
	argv := map[string][]string{
		toolFraiseJQ:  fraise(b.fraise),
		toolFraiseJQ1: fraise(b.fraise, "--jq-workers", "1"),
		toolPsqlJQ:    {"/bin/bash", "-c", "set -o pipefail; " + psql + " | " + shellQuote(jq) + " -c " + shellQuote(c.filter)},
	}
	if n := runtime.NumCPU(); n > 1 {
		names = append(names, toolFraiseJQN())
		argv[toolFraiseJQN()] = fraise(b.fraise, "--jq-workers", fmt.Sprint(n))
	}
	names = append(names, toolPsqlJQ)
	for _, bl := range b.baselines() {
		name := "fraise (" + bl[0] + ") --jq"
		names = append(names, name)
		argv[name] = fraise(bl[1])
	}
	return names, argv, nil
}

// jqThroughput measures one jq case, alternating the commands after a
// warm-up run of each, and checks that they wrote the same number of lines.
func (b *bench) jqThroughput(ctx context.Context, c jqCase) (*jqResult, error) {
	rows, _, _, err := b.floorQuery(ctx, c.view)
	if err != nil {
		return nil, err
	}
	names, argv, err := b.jqTools(c)
	if err != nil {
		return nil, err
	}
	r := &jqResult{c: c, rows: rows, tools: names, lines: -1}
	check := func(name string, s sample) error {
		if r.lines < 0 {
			r.lines = s.outLines
		} else if s.outLines != r.lines {
			return fmt.Errorf("%s wrote %d lines, another command %d", name, s.outLines, r.lines)
		}
		return nil
	}
	label := fmt.Sprintf("jq %s on %s", c.filter, c.view)
	b.logf("%s: warming up", label)
	if r.samples, err = b.alternate(ctx, label, names, argv, runOpts{}, b.jqRounds(), nil, check); err != nil {
		return nil, err
	}
	return r, nil
}

// jqRounds is the rounds of the jq comparison: at most 3, the pipelines
// being slow.
func (b *bench) jqRounds() int { return min(b.rounds, 3) }

// table writes the case's table; the speed-up is the other command's wall
// time over fraise's.
func (r *jqResult) table(w *strings.Builder) {
	fmt.Fprintf(w, "\n### `%s` on %s (%d rows in, %d lines out)\n\n", r.c.filter, r.c.view, r.rows, r.lines)
	fmt.Fprintf(w, "| command | median wall s | min–max s | rows/s | user+sys s | peak RSS MiB | fraise speed-up |\n|---|---|---|---|---|---|---|\n")
	fr := median(walls(r.samples[r.tools[0]]))
	for _, t := range r.tools {
		ws := walls(r.samples[t])
		wall := median(ws)
		fmt.Fprintf(w, "| %s | %.3f | %.3f–%.3f | %.0f | %.3f | %.1f | %.2f× |\n", t, wall.Seconds(),
			slices.Min(ws).Seconds(), slices.Max(ws).Seconds(), float64(r.rows)/wall.Seconds(),
			median(cpus(r.samples[t])).Seconds(), mib(maxRSS(r.samples[t])), wall.Seconds()/fr.Seconds())
	}
	fixed := median(walls(r.samples[toolFraiseJQ1]))
	if s, ok := r.samples[toolFraiseJQN()]; ok {
		fixed = min(fixed, median(walls(s)))
	}
	fmt.Fprintf(w, "\nThe default's wall time over the better of 1 and %d workers': %.3f (1.03 at most wanted); psql | jq's over the default's: %.2f (4 at least wanted).\n",
		runtime.NumCPU(), fr.Seconds()/fixed.Seconds(), median(walls(r.samples[toolPsqlJQ])).Seconds()/fr.Seconds())
}

// jqSection writes the jq comparison, after image (the markdown of its
// chart) unless that is empty.
func jqSection(w *strings.Builder, results []*jqResult, rounds int, image string) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## --jq against psql | jq (%d rounds)\n\nfraise applies the filter itself: by default it chooses as the rows flow between its network reader and up to %d workers; `--jq-workers` fixes the number (%d, one per CPU, was the default before). The pipeline runs under bash, its CPU and RSS are both processes'. Lines are checked equal (values differ only in key order).\n", rounds, runtime.NumCPU(), runtime.NumCPU())
	if image != "" {
		fmt.Fprintf(w, "\n%s\n", image)
	}
	for _, r := range results {
		r.table(w)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
