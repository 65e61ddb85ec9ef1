// Command bench measures fraise against the tools its users would pick
// instead — psql (COPY, -At, -At with FETCH_COUNT) and a minimal pgx v5
// program — in one run, on the data sets of product.md, and writes a
// markdown report to bench/results/, with SVG charts of the rows per
// second beside it (chart.go).
//
//	go run ./bench            full run (seeds a kept cluster once, 5 rounds)
//	go run ./bench -smoke     tiny data, one round, temporary cluster (CI):
//	                          one line of output unless it fails
//
// Commands run alternately, round after round, each writing to a pipe
// that the harness drains; wall time, CPU and peak RSS come from the
// process's own rusage (wait4). Every run's output is checked: row counts
// for all, exact byte counts for the raw-value commands, and a checksum
// of the bytes in the --parallel section.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &progress{w: os.Stderr, start: time.Now()}
	if err := run(ctx, p); err != nil {
		p.failed(err, time.Since(p.start))
		os.Exit(1)
	}
}

// bench holds what every measurement needs.
type bench struct {
	smoke   bool
	rounds  int
	srv     *pgtest.Server
	work    string // scratch directory: binaries, HOME of the commands
	fraise  string
	pgxloop string
	// baseline is an optional second fraise binary.
	baseline string
	// toolFilter limits the peers measured (-tools).
	toolFilter string
	readBuf    []byte
	logf       func(string, ...any)
	// prog counts the commands measured and what was skipped.
	prog *progress
}

// run measures what the flags select and writes the report; p says how
// it goes (quietly with -smoke).
func run(ctx context.Context, p *progress) error {
	smoke := flag.Bool("smoke", false, "tiny data sets, one round, a temporary cluster: checks the harness itself")
	rounds := flag.Int("rounds", 5, "rounds of alternating runs per data set")
	dir := flag.String("dir", "/var/tmp/fraise-bench", "where the kept benchmark cluster lives (ignored with -smoke)")
	out := flag.String("out", "bench/results", "directory for the markdown report and its SVG charts")
	only := flag.String("only", "", "comma-separated views to stream (default: all)")
	noTLS := flag.Bool("no-tls", false, "skip the runs over TLS ("+strings.Join(tlsViews, ", ")+" a second time, sslmode=verify-full)")
	baseline := flag.String("baseline", "", "other fraise binaries to measure beside this one, as a comma-separated list of [name=]path, to show a change's effect")
	toolFilter := flag.String("tools", "", "comma-separated substrings: measure only the commands whose names contain one (fraise always runs)")
	skipLatency := flag.Bool("no-latency", false, "skip the memory, huge-row, early-exit, first-row and connection measurements")
	skipJQ := flag.Bool("no-jq", false, "skip the --jq comparison with psql | jq")
	skipOutput := flag.Bool("no-output", false, "skip the output-file and compression comparison")
	skipPushdown := flag.Bool("no-pushdown", false, "skip the --jq pushdown comparison")
	skipParallel := flag.Bool("no-parallel", false, "skip the --parallel measurements ("+parallelViewNames()+")")
	skipResume := flag.Bool("no-resume", false, "skip the --resume measurements: its cost on an uninterrupted run, and a run killed half-way then resumed ("+resumeViewNames()+")")
	flag.Parse()
	p.quiet = *smoke
	if _, err := os.Stat("bench/pgxloop/go.mod"); err != nil {
		return fmt.Errorf("run me from the repository root (go run ./bench): %w", err)
	}
	sets, err := selected(*only)
	if err != nil {
		return err
	}
	b := &bench{smoke: *smoke, rounds: *rounds, baseline: *baseline, toolFilter: *toolFilter, readBuf: make([]byte, 1<<20), logf: p.logf, prog: p}
	if b.smoke {
		b.rounds = 1
	}
	if b.rounds < 1 {
		return fmt.Errorf("-rounds must be at least 1")
	}
	work, err := os.MkdirTemp("", "fraise-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b.work = work
	if err := b.build(ctx); err != nil {
		return err
	}

	opts := pgtest.Options{NoFixtures: true, Settings: serverSettings(b.smoke), TLS: true}
	if !b.smoke {
		opts.Dir = *dir
	}
	b.logf("starting PostgreSQL (%s)", map[bool]string{true: "temporary", false: "kept in " + *dir}[b.smoke])
	srv, err := pgtest.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	b.srv = srv
	if err := seed(ctx, srv, b.smoke, b.logf); err != nil {
		return err
	}
	if err := keyed(ctx, srv, b.logf); err != nil {
		return err
	}

	rep := &report{started: time.Now(), smoke: b.smoke, rounds: b.rounds}
	if err := rep.describe(ctx, b); err != nil {
		return err
	}
	if !*noTLS {
		for _, d := range sets {
			if slices.Contains(tlsViews, d.view) {
				d.tls = true
				sets = append(sets, d)
			}
		}
	}
	for _, d := range sets {
		r, err := b.throughput(ctx, d)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name(), err)
		}
		rep.sets = append(rep.sets, r)
	}
	if !*skipParallel {
		if rep.parallel, err = b.parallelAll(ctx, *only); err != nil {
			return err
		}
	}
	if !*skipJQ {
		for _, c := range jqCases {
			if *only != "" && !slices.Contains(strings.Split(*only, ","), c.view) {
				continue
			}
			r, err := b.jqThroughput(ctx, c)
			if err != nil {
				return fmt.Errorf("jq %s on %s: %w", c.filter, c.view, err)
			}
			rep.jq = append(rep.jq, r)
		}
		rep.jqRounds = b.jqRounds()
	}
	if !*skipPushdown {
		for _, c := range pushCases {
			if *only != "" && !slices.Contains(strings.Split(*only, ","), c.view) {
				continue
			}
			r, err := b.pushdown(ctx, c)
			if err != nil {
				return fmt.Errorf("pushdown %s on %s: %w", c.filter, c.view, err)
			}
			rep.pushdown = append(rep.pushdown, r)
		}
		rep.jqRounds = b.jqRounds()
	}
	if !*skipLatency {
		if rep.memory, err = b.memory(ctx); err != nil {
			return err
		}
		if rep.huge, err = b.hugeRow(ctx); err != nil {
			return err
		}
		if rep.early, err = b.earlyExit(ctx); err != nil {
			return err
		}
		if rep.firstRow, err = b.firstRow(ctx); err != nil {
			return err
		}
		if rep.connect, err = b.connect(ctx); err != nil {
			return err
		}
	}
	if !*skipResume {
		if rep.resume, err = b.resumeAll(ctx, *only); err != nil {
			return err
		}
	}
	// Last: reading the files back grows the harness, and a child's peak
	// RSS counts the harness's until it execs (vfork shares the memory).
	if !*skipOutput {
		for _, v := range outputViews {
			if *only != "" && !slices.Contains(strings.Split(*only, ","), v) || b.smoke && v != "v_small" {
				continue
			}
			r, err := b.outputs(ctx, v)
			if err != nil {
				return fmt.Errorf("output %s: %w", v, err)
			}
			rep.outputs = append(rep.outputs, r)
		}
	}
	var echo io.Writer = p.w // a full run prints its report too
	if p.quiet {
		echo = nil
	}
	files, err := rep.write(*out, echo)
	if err != nil {
		return err
	}
	if p.quiet {
		fmt.Fprintln(p.w, p.summary(files, time.Since(p.start), b.toolFilter))
		return nil
	}
	b.logf("report written to %s", files[0])
	if len(files) > 1 {
		b.logf("charts written to %s", strings.Join(files[1:], ", "))
	}
	return nil
}

// serverSettings tune the server for repeatable streaming: everything in
// shared buffers, no JIT, no parallel plans, no background vacuum.
func serverSettings(smoke bool) map[string]string {
	s := map[string]string{
		"jit":                             "off",
		"max_parallel_workers_per_gather": "0",
		"autovacuum":                      "off",
	}
	if !smoke {
		s["shared_buffers"] = "2GB"
	}
	return s
}

// build compiles fraise and the pgx baseline into the scratch directory.
func (b *bench) build(ctx context.Context) error {
	b.fraise = filepath.Join(b.work, "fraise")
	b.pgxloop = filepath.Join(b.work, "pgxloop")
	steps := [][]string{
		{"go", "build", "-trimpath", "-o", b.fraise, "./cmd/fraise"},
		{"go", "build", "-C", "bench/pgxloop", "-trimpath", "-o", b.pgxloop, "."},
	}
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, s[0], s[1:]...)
		// As releases are built (and make build): static, no cgo, so the
		// peak RSS measured is the one users get.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %w\n%s", s, err, out)
		}
	}
	return nil
}

// tlsEnv points a command at the server over TCP with verified TLS, as a
// careful remote client connects.
func (b *bench) tlsEnv() []string {
	return []string{"PGHOST=localhost", "PGSSLMODE=verify-full", "PGSSLROOTCERT=" + b.srv.TLS.CACert}
}

// env is the environment of every measured command: the PG* variables of
// the trust role over the socket, and a HOME without rc files.
func (b *bench) env() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + b.work,
		"LC_ALL=C.UTF-8",
		"PGHOST=" + b.srv.SocketDir,
		"PGPORT=" + strconv.Itoa(b.srv.Port),
		"PGDATABASE=" + pgtest.Database,
		"PGUSER=" + pgtest.RoleTrust,
		"PGCLIENTENCODING=UTF8",
		"PGAPPNAME=fraise-bench",
	}
}
