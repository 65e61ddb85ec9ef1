package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// resumeSection writes the --resume tables.
func resumeSection(w *strings.Builder, results []*resumeResult, rounds int) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Resumable output: --resume (issue 23, %d rounds)\n\n"+
		"Every view is streamed `--order-by id` into a file. After every run the harness checks that nothing was written to stdout, that no `.FILE.fraise-resume` directory is left, "+
		"and that the file holds, decompressed, every value and a newline each, the same bytes (CRC-32C) as every other run's on the view (so plain and --resume files, "+
		"and the killed-and-resumed file and the uninterrupted one, are byte-identical once decompressed: zstd frames differ between the modes, one per segment with --resume); "+
		"then it removes the file. Peak RSS is the largest over the runs (wait4 rusage).\n", rounds)

	fmt.Fprintf(w, "\n### Cost on an uninterrupted run\n\nThe plain and --resume commands alternate, the order rotating between rounds, after a warm-up run of each.\n\n")
	fmt.Fprintf(w, "| view | output | plain median s | min–max s | --resume median s | min–max s | --resume / plain | target ≤ %.2f | peak RSS MiB plain | peak RSS MiB --resume |\n"+
		"|---|---|---|---|---|---|---|---|---|---|\n", resumeCostTarget)
	for _, r := range results {
		for _, ext := range resumeExts {
			var plain, res []sample
			for _, c := range r.cmds {
				if c.ext != ext {
					continue
				}
				if c.resume {
					res = r.cost[c.name]
				} else {
					plain = r.cost[c.name]
				}
			}
			pw, rw := walls(plain), walls(res)
			ratio := median(rw).Seconds() / median(pw).Seconds()
			fmt.Fprintf(w, "| %s (%d rows) | FILE%s | %.3f | %s | %.3f | %s | %.3f | %s | %.1f | %.1f |\n", r.rv.view, r.rows, ext,
				median(pw).Seconds(), spread(pw), median(rw).Seconds(), spread(rw), ratio, met(ratio <= resumeCostTarget), mib(maxRSS(plain)), mib(maxRSS(res)))
		}
	}

	fmt.Fprintf(w, "\n### Killed at half the rows, then resumed\n\n"+
		"Each round runs, in turns, one uninterrupted `--resume` run to FILE.ndjson, and a cut: the same command, killed (SIGKILL) once its manifest (read every %s) records at least half the view's rows in sealed segments, "+
		"then run again with `--resume --stats` to the end. The killed part's time runs until the process is reaped; the total is each round's killed plus resumed parts. "+
		"Rows sealed are the killed run's manifest's once it is dead; rows read are the resumed run's `--stats` `rows_read` (checked to add up to the view's rows, as the runs in `--stats` `resume.runs` are); segments are its `resume.segments`. Medians over the rounds.\n\n", resumePoll)
	fmt.Fprintf(w, "| view | segments | rows sealed before the kill | rows read on resume | killed part s | resumed part s | total s | uninterrupted --resume s | total / uninterrupted | target ≤ %.1f | peak RSS MiB killed | resumed | uninterrupted |\n"+
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", resumeCutTarget)
	var smoke, memory []string
	for _, r := range results {
		var killed, resumed, totals []time.Duration
		var sealed, read, segs []int64
		var ks, rs []sample
		for _, c := range r.cuts {
			killed, resumed = append(killed, c.killed.wall), append(resumed, c.resumed.wall)
			totals = append(totals, c.killed.wall+c.resumed.wall)
			sealed, read, segs = append(sealed, c.sealed), append(read, c.read), append(segs, int64(c.segments))
			ks, rs = append(ks, c.killed), append(rs, c.resumed)
		}
		whole := median(walls(r.whole))
		ratio := median(totals).Seconds() / whole.Seconds()
		fmt.Fprintf(w, "| %s (%d rows) | %d | %d (%.0f%%) | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %s | %.1f | %.1f | %.1f |\n", r.rv.view, r.rows, median(segs),
			median(sealed), 100*float64(median(sealed))/float64(r.rows), median(read), median(killed).Seconds(), median(resumed).Seconds(), median(totals).Seconds(),
			whole.Seconds(), ratio, met(ratio <= resumeCutTarget), mib(maxRSS(ks)), mib(maxRSS(rs)), mib(maxRSS(r.whole)))
		if r.segRows > 0 {
			smoke = append(smoke, fmt.Sprintf("%s a segment every %d rows", r.rv.view, r.segRows))
		}
		plain, resumable := int64(0), max(maxRSS(r.whole), maxRSS(ks), maxRSS(rs))
		for _, c := range r.cmds {
			if c.resume {
				resumable = max(resumable, maxRSS(r.cost[c.name]))
			} else {
				plain = max(plain, maxRSS(r.cost[c.name]))
			}
		}
		if plain > 0 {
			memory = append(memory, fmt.Sprintf("%s: peak RSS of any --resume run %.1f MiB, of any plain run %.1f MiB (%.2f×)", r.rv.view, mib(resumable), mib(plain), float64(resumable)/float64(plain)))
		}
	}
	if len(smoke) > 0 {
		fmt.Fprintf(w, "\nSmoke run: the smoke data fits in one segment of the release build (50,000 rows or 8 MiB of values), leaving nothing to kill half-way, "+
			"so the killed, resumed and uninterrupted runs of this table ran internal/cli's test build (FRAISE_TEST_AS_MAIN=1, FRAISE_TEST_SEGMENT_ROWS), sealing smaller segments: %s. The cost table ran the release build.\n", strings.Join(smoke, ", "))
	}
	if len(memory) > 0 {
		fmt.Fprintf(w, "\nBounded memory:\n\n")
		for _, m := range memory {
			fmt.Fprintf(w, "- %s\n", m)
		}
	}
}

// spread is the min–max of ds in seconds.
func spread(ds []time.Duration) string {
	return fmt.Sprintf("%.3f–%.3f", slices.Min(ds).Seconds(), slices.Max(ds).Seconds())
}

// met says whether a target is met.
func met(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}
