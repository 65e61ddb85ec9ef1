package main

// Issue 23, --resume: what a resumable output costs a run that is not
// cut, against the same output written plainly, and what a run killed
// half-way and then resumed costs, against one resumable run that is not
// cut.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/klauspost/compress/zstd"
)

// resumeView is one view of the --resume section.
type resumeView struct {
	view string // the keyed twin streamed, --order-by id
	base string // the data set it is a twin of, which -only names
}

// resumeViews are the views of the --resume section.
var resumeViews = []resumeView{
	{view: "v_small_keyed", base: "v_small"},
	{view: "v_medium_keyed", base: "v_medium"},
}

// resumeExts are the outputs of the cost comparison: uncompressed, and
// zstd (whose frames differ between the two modes: one per segment with
// --resume).
var resumeExts = []string{".ndjson", ".ndjson.zst"}

// The section's targets: --resume's wall time over the plain run's, and
// a killed and resumed run's total over an uninterrupted --resume run's.
const (
	resumeCostTarget = 1.03
	resumeCutTarget  = 1.1
)

// resumePoll is how often the manifest of a run to be killed is read.
const resumePoll = 2 * time.Millisecond

// resumeCmd is one command of the cost comparison.
type resumeCmd struct {
	name   string // as the report shows it
	ext    string
	resume bool
	file   string // the output file
	argv   []string
}

// resumeCut is one run killed half-way and the run that resumed it.
type resumeCut struct {
	killed  sample // from the start until the killed process was reaped
	resumed sample
	// sealed are the rows of the segments the killed run sealed (its
	// manifest, once it is dead); read are the rows the resumed run read
	// (--stats rows_read); segments are the output's sealed segments
	// (--stats resume.segments).
	sealed, read int64
	segments     int
}

// resumeResult is the section's measurements on one view.
type resumeResult struct {
	rv              resumeView
	rows, dataBytes int64
	// sum is the CRC-32C of the output's content (decompressed), which the
	// first file checked sets and every other must match; sumBy names
	// that file's command.
	sum   uint32
	sumBy string
	cmds  []resumeCmd
	cost  map[string][]sample // the cost comparison's runs, by command name
	whole []sample            // the uninterrupted --resume runs beside the cuts
	cuts  []resumeCut
	// segRows is, in smoke runs, the rows per segment of the test build
	// the cuts run; 0: the release build's bounds.
	segRows int64
	buf     []byte // for reading files back
}

// resumeRun is how the cuts run fraise: the binary and its environment.
type resumeRun struct {
	bin string
	env []string
	// segRows is the test build's rows per segment; 0 for the release
	// build.
	segRows int64
}

// resumeAll measures the views of resumeViews whose data sets only
// (comma-separated, as -only) names, or all.
func (b *bench) resumeAll(ctx context.Context, only string) ([]*resumeResult, error) {
	var out []*resumeResult
	var testBuild string
	for _, rv := range resumeViews {
		if only != "" && !slices.Contains(strings.Split(only, ","), rv.base) {
			continue
		}
		run := resumeRun{bin: b.fraise}
		if b.smoke {
			// The smoke data fits in one segment of the release build
			// (50,000 rows or 8 MiB of values), which leaves nothing to
			// kill half-way: the cuts run a test build of fraise that seals
			// every twentieth of the rows.
			if testBuild == "" {
				var err error
				if testBuild, err = b.buildSegmented(ctx); err != nil {
					return nil, err
				}
			}
			rows, _, _, err := b.floorQuery(ctx, rv.view)
			if err != nil {
				return nil, err
			}
			run.bin, run.segRows = testBuild, max(rows/20, 1)
			run.env = []string{"FRAISE_TEST_AS_MAIN=1", "FRAISE_TEST_SEGMENT_ROWS=" + strconv.FormatInt(run.segRows, 10)}
		}
		r, err := b.resume(ctx, rv, run)
		if err != nil {
			return nil, fmt.Errorf("resume %s: %w", rv.view, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// buildSegmented compiles internal/cli's test binary, which runs as
// fraise with FRAISE_TEST_AS_MAIN=1 and seals every
// FRAISE_TEST_SEGMENT_ROWS rows.
func (b *bench) buildSegmented(ctx context.Context) (string, error) {
	bin := filepath.Join(b.work, "fraise-segmented")
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-trimpath", "-o", bin, "./internal/cli")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the segmented test build: %w\n%s", err, out)
	}
	return bin, nil
}

// resume measures one view: the cost comparison, its commands alternating
// after a warm-up run of each, then rounds of an uninterrupted --resume
// run and a cut (killed at half the rows, then resumed), in turns.
func (b *bench) resume(ctx context.Context, rv resumeView, run resumeRun) (*resumeResult, error) {
	r := &resumeResult{rv: rv, segRows: run.segRows, buf: b.readBuf}
	var err error
	if r.rows, r.dataBytes, _, err = b.floorQuery(ctx, rv.view); err != nil {
		return nil, err
	}
	dir := filepath.Join(b.work, "resume")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	stream := []string{"stream", rv.view, "--order-by", "id", "-o"}
	for _, ext := range resumeExts {
		for _, resume := range []bool{false, true} {
			c := resumeCmd{ext: ext, resume: resume, name: "fraise stream " + rv.view + " --order-by id -o FILE" + ext}
			c.file = filepath.Join(dir, "plain"+ext)
			if resume {
				c.file = filepath.Join(dir, "resume"+ext)
				c.name += " --resume"
			}
			c.argv = append(append([]string{b.fraise}, stream...), c.file)
			if resume {
				c.argv = append(c.argv, "--resume")
			}
			r.cmds = append(r.cmds, c)
		}
	}
	names, argv, byName := []string{}, map[string][]string{}, map[string]resumeCmd{}
	for _, c := range r.cmds {
		names = append(names, c.name)
		argv[c.name], byName[c.name] = c.argv, c
		if err := clearOutput(c.file); err != nil {
			return nil, err
		}
	}
	label := "resume " + rv.view
	b.logf("%s: %d rows, %.1f MB; warming up", label, r.rows, float64(r.dataBytes)/1e6)
	r.cost, err = b.alternate(ctx, label+" (cost)", names, argv, runOpts{}, b.rounds, nil,
		func(n string, s sample) error { return r.checkRun(n, byName[n].file, s) })
	if err != nil {
		return nil, err
	}

	whole := filepath.Join(dir, "whole.ndjson")
	cut := filepath.Join(dir, "cut.ndjson")
	cutArgv := func(file string) []string {
		return append(append([]string{run.bin}, stream...), file, "--resume")
	}
	for _, f := range []string{whole, cut} {
		if err := clearOutput(f); err != nil {
			return nil, err
		}
	}
	for round := range b.rounds {
		for i := range 2 {
			if (i+round)%2 == 0 {
				s, err := b.measure(ctx, cutArgv(whole), runOpts{env: run.env})
				if err != nil {
					return nil, err
				}
				if err := r.checkRun("uninterrupted --resume", whole, s); err != nil {
					return nil, err
				}
				r.whole = append(r.whole, s)
				continue
			}
			c, err := b.cut(ctx, r, cutArgv(cut), run.env, cut)
			if err != nil {
				return nil, err
			}
			r.cuts = append(r.cuts, c)
		}
		b.logf("%s (killed and resumed): round %d/%d done, %d of %d rows sealed before the kill", label, round+1, b.rounds,
			r.cuts[len(r.cuts)-1].sealed, r.rows)
	}
	return r, nil
}

// cut runs argv until its manifest records half the view's rows sealed,
// kills it (SIGKILL), then runs it again with --stats to the end, and
// checks what the two runs did and the file they made.
func (b *bench) cut(ctx context.Context, r *resumeResult, argv, env []string, file string) (resumeCut, error) {
	var c resumeCut
	manifest := filepath.Join(output.ResumeDir(file), "segments")
	var err error
	if c.killed, err = b.killAt(ctx, argv, env, manifest, (r.rows+1)/2); err != nil {
		return c, err
	}
	m, err := readManifest(manifest)
	if err != nil {
		return c, fmt.Errorf("after the kill: %w", err)
	}
	c.sealed = m.rows()
	if c.sealed < (r.rows+1)/2 {
		return c, fmt.Errorf("killed with %d rows sealed, fewer than half of %d", c.sealed, r.rows)
	}
	if _, err := os.Stat(file); err == nil {
		return c, fmt.Errorf("the killed run had already published %s: the kill came too late to cut it (too few segments for the view?)", file)
	}
	c.resumed, err = b.measure(ctx, append(slices.Clone(argv), "--stats"), runOpts{env: env, keepStderr: true})
	if err != nil {
		return c, err
	}
	st, err := parseResumeStats(c.resumed.stderr)
	if err != nil {
		return c, fmt.Errorf("resumed run's --stats: %w", err)
	}
	c.read, c.segments = st.RowsRead, st.Resume.Segments
	var runRows int64
	for _, run := range st.Resume.Runs {
		runRows += run.Rows
	}
	switch {
	case c.sealed+c.read != r.rows:
		return c, fmt.Errorf("%d rows sealed before the kill and %d read on resuming; the view has %d", c.sealed, c.read, r.rows)
	case len(st.Resume.Runs) != 2 || st.Resume.Runs[1].Rows != c.read || runRows != r.rows:
		return c, fmt.Errorf("--stats says the runs sealed %+v; want the killed run's %d rows and this run's %d", st.Resume.Runs, c.sealed, c.read)
	}
	return c, r.checkRun("resumed --resume", file, c.resumed)
}

// killAt starts argv and kills it (SIGKILL) once the manifest records at
// least rows rows sealed, read every resumePoll; the sample's wall time
// runs until the process is reaped. A run that ends on its own is an
// error: it left nothing to resume.
func (b *bench) killAt(ctx context.Context, argv, env []string, manifest string, rows int64) (sample, error) {
	var s sample
	b.prog.runs++
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(b.env(), env...)
	cmd.Dir = b.work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return s, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(resumePoll)
	defer tick.Stop()
	var werr error
poll:
	for {
		select {
		case werr = <-done:
			break poll
		case <-tick.C:
			if m, err := readManifest(manifest); err == nil && m.rows() >= rows {
				_ = cmd.Process.Kill()
				werr = <-done
				break poll
			}
		}
	}
	s.wall = time.Since(start)
	s.cpu, s.maxRSS = usage(cmd.ProcessState)
	if err := ctx.Err(); err != nil {
		return s, err // killed by the context, not here
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return s, nil
		}
	}
	if werr == nil {
		return s, fmt.Errorf("%s ended before its manifest recorded %d rows sealed: nothing was left to resume (segments too large for the view?)", argv[0], rows)
	}
	return s, fmt.Errorf("%s: %w\n%s", argv[0], werr, stderr.Bytes())
}

// resumeManifest is the part of a resumable output's records the
// section reads: its sealed segments.
type resumeManifest struct {
	Segments []struct {
		Rows int64 `json:"rows"`
	}
}

// rows are the rows of the sealed segments.
func (m resumeManifest) rows() int64 {
	var n int64
	for _, s := range m.Segments {
		n += s.Rows
	}
	return n
}

// readManifest reads the journal of sealed segments (one JSON line each,
// appended; a last line without its newline is not yet whole).
func readManifest(path string) (resumeManifest, error) {
	var m resumeManifest
	data, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return m, nil
		}
		var seg struct {
			Rows int64 `json:"rows"`
		}
		if err := json.Unmarshal(data[:i], &seg); err != nil {
			return m, err
		}
		m.Segments = append(m.Segments, seg)
		data = data[i+1:]
	}
}

// resumeStats is the part of the --stats line the section reads.
type resumeStats struct {
	RowsRead int64 `json:"rows_read"`
	Resume   *struct {
		Segments int `json:"segments"`
		Runs     []struct {
			Rows     int64  `json:"rows"`
			Lines    int64  `json:"lines"`
			Snapshot string `json:"snapshot"`
		} `json:"runs"`
	} `json:"resume"`
}

// parseResumeStats reads the --stats line, the last line of stderr that
// is a JSON object, which must have a resume object.
func parseResumeStats(stderr []byte) (*resumeStats, error) {
	lines := bytes.Split(bytes.TrimSpace(stderr), []byte{'\n'})
	for i := len(lines) - 1; i >= 0; i-- {
		if !bytes.HasPrefix(lines[i], []byte{'{'}) {
			continue
		}
		var st resumeStats
		if err := json.Unmarshal(lines[i], &st); err != nil {
			return nil, err
		}
		if st.Resume == nil {
			return nil, fmt.Errorf("no resume object in %s", lines[i])
		}
		return &st, nil
	}
	return nil, fmt.Errorf("no stats line in %q", stderr)
}

// checkRun verifies a run that wrote file: nothing on stdout, no resume
// directory left, and the file holding, decompressed, every value and a
// newline each, the same bytes (CRC-32C) as every other run's; then it
// removes the file.
func (r *resumeResult) checkRun(name, file string, s sample) error {
	if s.outBytes != 0 {
		return fmt.Errorf("%s wrote %d bytes to stdout, want none", name, s.outBytes)
	}
	if _, err := os.Stat(output.ResumeDir(file)); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %s is left after a successful run (%v)", name, output.ResumeDir(file), err)
	}
	sum, n, lines, err := contentSum(file, r.buf)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if n != r.dataBytes+r.rows || lines != r.rows {
		return fmt.Errorf("%s: %s holds %d bytes and %d lines, want %d and %d", name, file, n, lines, r.dataBytes+r.rows, r.rows)
	}
	switch {
	case r.sumBy == "":
		r.sum, r.sumBy = sum, name
	case sum != r.sum:
		return fmt.Errorf("%s: %s holds other bytes than %s's file (CRC-32C %08x, not %08x)", name, file, r.sumBy, sum, r.sum)
	}
	return clearOutput(file)
}

// contentSum returns the CRC-32C, size and lines of file's content,
// decompressed if its name ends in .zst, read through buf.
func contentSum(file string, buf []byte) (sum uint32, n, lines int64, err error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	var rd io.Reader = f
	if strings.HasSuffix(file, ".zst") {
		z, err := zstd.NewReader(f, zstd.WithDecoderLowmem(true), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return 0, 0, 0, err
		}
		defer func() {
			z.Close()
			// Give the decoder's memory back before the next child starts:
			// until it execs, a child's RSS is the harness's.
			debug.FreeOSMemory()
		}()
		rd = z
	}
	for {
		k, rerr := rd.Read(buf)
		sum = crc32.Update(sum, crc32c, buf[:k])
		n += int64(k)
		lines += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if rerr == io.EOF {
			return sum, n, lines, nil
		}
		if rerr != nil {
			return 0, 0, 0, fmt.Errorf("reading %s back: %w", file, rerr)
		}
	}
}

// clearOutput removes file and its resume directory, if there.
func clearOutput(file string) error {
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(output.ResumeDir(file))
}

// resumeViewNames lists the section's views for -no-resume's help.
func resumeViewNames() string {
	var names []string
	for _, rv := range resumeViews {
		names = append(names, rv.view)
	}
	return strings.Join(names, ", ")
}
