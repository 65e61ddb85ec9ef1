package main

// What the harness says while it runs. A full run logs each step and
// prints its report; a quiet run (-smoke, inside make test) keeps its
// steps to itself and prints one line at the end, or, when it fails,
// its last steps and the error.

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress is the harness's account of one run.
type progress struct {
	w     io.Writer
	quiet bool
	start time.Time
	// steps are a quiet run's log lines, shown if it fails.
	steps []string
	// runs counts the commands measured.
	runs int
	// skipped is what was not measured, and why.
	skipped []string
}

// lastSteps is how many of a quiet run's steps a failure shows.
const lastSteps = 8

// logf logs a step: at once, or kept in a quiet run.
func (p *progress) logf(format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	if p.quiet {
		p.steps = append(p.steps, line)
		return
	}
	fmt.Fprintf(p.w, "bench: %s\n", line)
}

// skipf logs something left unmeasured, which the summary names.
func (p *progress) skipf(format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	p.skipped = append(p.skipped, line)
	p.logf("%s", line)
}

// failed prints err; a quiet run first says it failed and shows the
// steps that led there.
func (p *progress) failed(err error, elapsed time.Duration) {
	if p.quiet {
		fmt.Fprintf(p.w, "bench smoke: FAILED after %s, %d commands measured", elapsed.Round(time.Second), p.runs)
		if len(p.steps) == 0 {
			fmt.Fprintln(p.w)
		} else {
			fmt.Fprintln(p.w, "; the last steps:")
		}
		for _, s := range p.steps[max(0, len(p.steps)-lastSteps):] {
			fmt.Fprintf(p.w, "  %s\n", s)
		}
	}
	fmt.Fprintln(p.w, "bench:", err)
}

// summary is a quiet run's one line: what ran, how long it took, what
// was left out (tools, the -tools filter), and the files written (the
// report first).
func (p *progress) summary(files []string, elapsed time.Duration, tools string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "bench smoke: %d commands measured in %s, every output checked; ", p.runs, elapsed.Round(time.Second))
	switch {
	case len(p.skipped) == 0 && tools != "":
		fmt.Fprintf(&b, "fraise and the tools -tools %q names ran", tools)
	case len(p.skipped) == 0:
		b.WriteString("all tools ran")
	default:
		b.WriteString("not measured: " + strings.Join(p.skipped, "; "))
	}
	if len(files) > 0 {
		fmt.Fprintf(&b, "; report %s", files[0])
	}
	if len(files) > 1 {
		fmt.Fprintf(&b, ", charts %s", strings.Join(files[1:], ", "))
	}
	return b.String()
}
