package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The compared commands.
const (
	toolFraise = "fraise stream"
	toolPgx    = "pgx v5 loop"
	toolCopy   = "psql COPY TO STDOUT"
	toolAt     = "psql -At"
	toolFetch  = "psql -At FETCH_COUNT=1000"
)

// tool is one command the benchmarks compare.
type tool struct {
	name string
	// argv returns the command line streaming sql's single column, or,
	// for fraise, streaming view with the given row limit (-1: none).
	argv func(view string, limit int) []string
	// raw reports whether the output is each value as the server sent it
	// plus a newline, so its size can be checked exactly.
	raw bool
}

// tools returns the compared commands that -tools selects; fraise comes
// first.
func (b *bench) tools() []tool {
	ts := b.allTools()
	if b.toolFilter == "" {
		return ts
	}
	var keep []tool
	for _, t := range ts {
		if strings.HasPrefix(t.name, "fraise") {
			keep = append(keep, t)
			continue
		}
		for _, f := range strings.Split(b.toolFilter, ",") {
			if f != "" && strings.Contains(t.name, f) {
				keep = append(keep, t)
				break
			}
		}
	}
	return keep
}

// pick returns the named commands, in that order.
func (b *bench) pick(names ...string) []tool {
	var out []tool
	for _, n := range names {
		for _, t := range b.allTools() {
			if t.name == n {
				out = append(out, t)
			}
		}
	}
	return out
}

// allTools returns every compared command; fraise comes first.
func (b *bench) allTools() []tool {
	sel := func(view string, limit int) string {
		if limit >= 0 {
			return fmt.Sprintf("SELECT data FROM %s LIMIT %d", view, limit)
		}
		return "SELECT data FROM " + view
	}
	psql := []string{b.srv.PsqlPath, "-X", "-q", "-v", "ON_ERROR_STOP=1"}
	ts := []tool{
		{name: toolFraise, raw: true, argv: func(v string, limit int) []string {
			return fraiseArgv(b.fraise, v, limit)
		}},
		{name: toolPgx, raw: true, argv: func(v string, limit int) []string {
			return []string{b.pgxloop, sel(v, limit)}
		}},
		{name: toolCopy, argv: func(v string, limit int) []string {
			return append(slices.Clone(psql), "-c", "COPY ("+sel(v, limit)+") TO STDOUT")
		}},
		{name: toolAt, raw: true, argv: func(v string, limit int) []string {
			return append(slices.Clone(psql), "-At", "-c", sel(v, limit))
		}},
		{name: toolFetch, raw: true, argv: func(v string, limit int) []string {
			return append(slices.Clone(psql), "-At", "-v", "FETCH_COUNT=1000", "-c", sel(v, limit))
		}},
	}
	for _, bl := range b.baselines() {
		ts = append(ts, tool{name: "fraise (" + bl[0] + ")", raw: true, argv: func(v string, limit int) []string {
			return fraiseArgv(bl[1], v, limit)
		}})
	}
	return ts
}

// fraiseArgv returns the command line of a fraise binary streaming view
// with the given row limit (-1: none).
func fraiseArgv(bin, view string, limit int) []string {
	a := []string{bin, "stream", view}
	if limit >= 0 {
		a = append(a, "--limit", fmt.Sprint(limit))
	}
	return a
}

// sample is one measured run of a command.
type sample struct {
	wall      time.Duration
	cpu       time.Duration // user + system
	maxRSS    int64         // bytes
	outBytes  int64
	outLines  int64
	firstLine time.Duration // until the first newline reached the reader
	// busy is the whole machine's busy CPU time over the run, with
	// runOpts.machine.
	busy time.Duration
	// sum is the output's CRC-32C, with runOpts.hash.
	sum uint32
	// stderr is what the command wrote there, with runOpts.keepStderr.
	stderr []byte
}

// runOpts adjusts one run.
type runOpts struct {
	env []string
	// stopAfterFirst closes the read end of the pipe as soon as the first
	// line has arrived, as `| head -n 1` does.
	stopAfterFirst bool
	// readAfter delays the first read of the pipe, as a consumer busy at
	// first: the command blocks once the pipe's buffer is full.
	readAfter time.Duration
	// hash has the drain checksum the output (CRC-32C, which the CPU
	// computes at many GB/s), so that equal outputs can be told apart
	// from outputs of equal size.
	hash bool
	// machine records the machine's busy CPU time over the run.
	machine bool
	// keepStderr keeps the command's standard error in the sample.
	keepStderr bool
}

// crc32c is the Castagnoli table: hardware-computed on amd64 and arm64.
var crc32c = crc32.MakeTable(crc32.Castagnoli)

// measure runs argv with its standard output on a pipe that the harness
// drains (counting bytes and lines), and returns the wall time, the
// process's rusage and what it wrote.
func (b *bench) measure(ctx context.Context, argv []string, o runOpts) (sample, error) {
	var s sample
	b.prog.runs++
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(b.env(), o.env...)
	cmd.Dir = b.work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return s, err
	}
	var busy time.Duration
	if o.machine {
		busy = machineBusy()
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return s, err
	}
	if o.readAfter > 0 {
		select {
		case <-time.After(o.readAfter):
		case <-ctx.Done():
		}
	}
	if err := b.drain(out, o, start, &s); err != nil {
		return s, err
	}
	_ = out.Close()
	werr := cmd.Wait()
	s.wall = time.Since(start)
	if o.machine {
		s.busy = machineBusy() - busy
	}
	s.cpu, s.maxRSS = usage(cmd.ProcessState)
	if o.keepStderr {
		s.stderr = stderr.Bytes()
	}
	if werr != nil && !(o.stopAfterFirst && killedByPipe(werr)) {
		return s, fmt.Errorf("%s: %w\n%s", argv[0], werr, stderr.Bytes())
	}
	return s, nil
}

// drain reads the command's output until its end (or its first line,
// with stopAfterFirst) into s's counts.
func (b *bench) drain(out io.Reader, o runOpts, start time.Time, s *sample) error {
	buf := b.readBuf
	for {
		n, rerr := out.Read(buf)
		if n > 0 {
			if s.outLines == 0 {
				if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
					s.firstLine = time.Since(start)
					if o.stopAfterFirst {
						s.outBytes += int64(i + 1)
						s.outLines = 1
						return nil
					}
				}
			}
			s.outBytes += int64(n)
			s.outLines += int64(bytes.Count(buf[:n], []byte{'\n'}))
			if o.hash {
				s.sum = crc32.Update(s.sum, crc32c, buf[:n])
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// machineBusy returns the whole machine's busy CPU time since boot, from
// /proc/stat's first line: user, nice, system, irq and softirq, counted
// in USER_HZ ticks (100 a second on Linux, whatever the kernel's HZ);
// zero where there is no /proc/stat.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0
		}
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / 100)
}

// killedByPipe reports whether a command ended from SIGPIPE, which is how
// psql and Go programs without a handler end when their reader goes away.
func killedByPipe(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGPIPE
}

// median returns the median of xs (the lower middle for an even count).
func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// baselines returns the -baseline binaries as name, path pairs; a path
// without a "name=" prefix is named "baseline".
func (b *bench) baselines() [][2]string {
	var out [][2]string
	for _, f := range strings.Split(b.baseline, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		name, path, ok := strings.Cut(f, "=")
		if !ok {
			name, path = "baseline", f
		}
		out = append(out, [2]string{name, path})
	}
	return out
}
