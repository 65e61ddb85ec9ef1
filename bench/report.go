package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is one run's results, written as markdown.
type report struct {
	started  time.Time
	smoke    bool
	rounds   int
	machine  []string
	sets     []*setResult
	parallel []*parallelResult
	jq       []*jqResult
	pushdown []*pushResult
	jqRounds int
	memory   *memResult
	huge     *hugeResult
	early    *earlyResult
	firstRow *latency
	connect  *latency
	outputs  []*outputResult
	resume   []*resumeResult
}

// describe records the machine and the software versions.
func (r *report) describe(ctx context.Context, b *bench) error {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	pg, err := b.srv.Psql(ctx, "SELECT version()")
	if err != nil {
		return err
	}
	psql, _ := exec.CommandContext(ctx, b.srv.PsqlPath, "--version").Output()
	commit, _ := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output()
	r.machine = []string{
		fmt.Sprintf("CPU: %s, %d logical cores; memory %s; %s/%s", cpu, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH),
		"Server: " + strings.TrimSpace(pg) + ", Unix socket, shared_buffers holding the data, jit off, no parallel workers",
		"Clients: " + strings.TrimSpace(string(psql)) + "; pgx v5 (bench/pgxloop); " + runtime.Version() + "; fraise " + strings.TrimSpace(string(commit)),
		"Each command writes to a pipe that the harness drains; wall time is from start to exit, CPU and peak RSS are the command's own (wait4 rusage).",
	}
	return nil
}

// write saves the report under dir, with its charts beside it (see
// charts), and returns the files written, the report first; echo, unless
// nil, gets the report's text too.
func (r *report) write(dir string, echo io.Writer) ([]string, error) {
	name := r.started.UTC().Format("2006-01-02T150405Z")
	if r.smoke {
		name += "-smoke"
	}
	charts := r.charts(name)
	images := map[string]string{}
	for _, c := range charts {
		images[c.name] = c.image()
	}
	var w strings.Builder
	kind := "full run"
	if r.smoke {
		kind = "smoke run (tiny data, one round: checks the harness, not the speed)"
	}
	fmt.Fprintf(&w, "# fraise benchmarks, %s\n\n%s, %d rounds, commands alternating.\n\n", r.started.UTC().Format("2006-01-02 15:04 UTC"), kind, r.rounds)
	for _, m := range r.machine {
		fmt.Fprintf(&w, "- %s\n", m)
	}
	if img, ok := images[name+"-throughput.svg"]; ok {
		fmt.Fprintf(&w, "\n%s\n", img)
	}
	for _, s := range r.sets {
		s.table(&w)
	}
	parallelSection(&w, r.parallel)
	jqSection(&w, r.jq, r.jqRounds, images[name+"-jq.svg"])
	pushdownSection(&w, r.pushdown, r.jqRounds)
	outputSection(&w, r.outputs)
	resumeSection(&w, r.resume, r.rounds)
	lifecycleSection(&w, r.memory, r.huge, r.early)
	for _, l := range []*latency{r.firstRow, r.connect} {
		if l != nil {
			l.table(&w)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name+".md")
	if echo != nil {
		fmt.Fprint(echo, "\n"+w.String())
	}
	if err := os.WriteFile(path, []byte(w.String()), 0o644); err != nil {
		return nil, err
	}
	files := []string{path}
	for _, c := range charts {
		svg := c.c.svg()
		if err := wellFormed(svg); err != nil {
			return files, fmt.Errorf("%s: %w", c.name, err)
		}
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, svg, 0o644); err != nil {
			return files, err
		}
		files = append(files, p)
	}
	return files, nil
}

// table writes one data set's throughput table.
func (s *setResult) table(w *strings.Builder) {
	fmt.Fprintf(w, "\n## %s (%s, %d rows, %.1f MB of values: %s)\n\n", s.d.name(), s.d.typ, s.rows, float64(s.dataBytes)/1e6, s.d.comment)
	fmt.Fprintf(w, "| command | median wall s | min–max s | rows/s | MB/s | user+sys s | peak RSS MiB | fraise speed-up |\n|---|---|---|---|---|---|---|---|\n")
	fr := median(walls(s.samples[s.tools[0]]))
	for _, t := range s.tools {
		xs := s.samples[t]
		wall := median(walls(xs))
		ws := walls(xs)
		fmt.Fprintf(w, "| %s | %.3f | %.3f–%.3f | %.0f | %.1f | %.3f | %.1f | %.2f× |\n", t, wall.Seconds(),
			slices.Min(ws).Seconds(), slices.Max(ws).Seconds(), float64(s.rows)/wall.Seconds(), float64(s.dataBytes)/1e6/wall.Seconds(),
			median(cpus(xs)).Seconds(), mib(maxRSS(xs)), wall.Seconds()/fr.Seconds())
	}
	fl := median(s.floor)
	fmt.Fprintf(w, "| *server alone: `sum(octet_length(data::text))`* | %.3f | %.3f–%.3f | | | | | %.2f× |\n",
		fl.Seconds(), slices.Min(s.floor).Seconds(), slices.Max(s.floor).Seconds(), fl.Seconds()/fr.Seconds())
}

// table writes a latency table: one row per case, one column per tool,
// each cell the median and, for fraise's peers, fraise's ratio to it.
func (l *latency) table(w *strings.Builder) {
	fmt.Fprintf(w, "\n## %s\n\nMedians in milliseconds; the ratio is fraise's time over the tool's (below 1: fraise is faster).\n\n| case |", l.title)
	for _, t := range l.tools {
		fmt.Fprintf(w, " %s |", t)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", len(l.tools)))
	ttfr := len(l.gone) > 0
	for _, c := range l.cases {
		fmt.Fprintf(w, "| %s |", c)
		pick := func(t string) time.Duration {
			xs := l.samples[[2]string{c, t}]
			if ttfr {
				return median(firsts(xs))
			}
			return median(walls(xs))
		}
		fr := pick(l.tools[0])
		for i, t := range l.tools {
			v := pick(t)
			if i == 0 {
				fmt.Fprintf(w, " %.1f |", ms(v))
			} else {
				fmt.Fprintf(w, " %.1f (%.2f) |", ms(v), float64(fr)/float64(v))
			}
		}
		fmt.Fprintln(w)
	}
	if ttfr {
		fmt.Fprintf(w, "\nBackend gone after head exits: once the reader went away, every command's server backend was gone within (longest wait, including the polling itself):\n\n")
		for _, c := range l.cases {
			fmt.Fprintf(w, "- %s:", c)
			for _, t := range l.tools {
				fmt.Fprintf(w, " %s %.0f ms;", t, ms(l.gone[[2]string{c, t}]))
			}
			fmt.Fprintln(w)
		}
	}
}

func walls(xs []sample) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = x.wall
	}
	return out
}

func firsts(xs []sample) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = x.firstLine
	}
	return out
}

func cpus(xs []sample) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = x.cpu
	}
	return out
}

func maxRSS(xs []sample) int64 {
	var m int64
	for _, x := range xs {
		m = max(m, x.maxRSS)
	}
	return m
}

func mib(b int64) float64        { return float64(b) / (1 << 20) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
