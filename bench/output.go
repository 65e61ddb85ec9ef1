package main

// Issue 7, output files: what writing to a file costs against writing to
// a pipe, and what compression costs, against psql piped into the
// compressor programs when they are installed.

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// outputCase is one way of writing a view's rows.
type outputCase struct {
	name string
	argv []string
	file string // the file written, "" for the pipe
	// decode reads the file back, for the check of its content.
	decode func(io.Reader) (io.Reader, error)
}

// outputResult compares the cases on one view.
type outputResult struct {
	view            string
	rows, dataBytes int64
	cases           []outputCase
	samples         map[string][]sample
	sizes           map[string]int64 // file sizes
}

// outputViews are measured when selected (-only) or by default.
var outputViews = []string{"v_medium", "v_small"}

// outputs measures fraise writing view to stdout, to a file, and to .gz
// and .zst files, alternately; each file's content is checked.
func (b *bench) outputs(ctx context.Context, view string) (*outputResult, error) {
	rows, size, _, err := b.floorQuery(ctx, view)
	if err != nil {
		return nil, err
	}
	r := &outputResult{view: view, rows: rows, dataBytes: size, sizes: map[string]int64{}}
	dir := filepath.Join(b.work, "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fr := fraiseArgv(b.fraise, view, -1)
	plain := func(rd io.Reader) (io.Reader, error) { return rd, nil }
	gz := func(rd io.Reader) (io.Reader, error) { return gzip.NewReader(rd) }
	zst := func(rd io.Reader) (io.Reader, error) {
		return zstd.NewReader(rd, zstd.WithDecoderLowmem(true), zstd.WithDecoderConcurrency(1))
	}
	r.cases = []outputCase{
		{name: "fraise stream > pipe", argv: fr},
		{name: "fraise stream -o FILE.ndjson", argv: append(slices.Clone(fr), "-o", filepath.Join(dir, "f.ndjson")), file: filepath.Join(dir, "f.ndjson"), decode: plain},
		{name: "fraise stream -o FILE.ndjson.zst", argv: append(slices.Clone(fr), "-o", filepath.Join(dir, "f.ndjson.zst")), file: filepath.Join(dir, "f.ndjson.zst"), decode: zst},
		{name: "fraise stream -o FILE.ndjson.gz", argv: append(slices.Clone(fr), "-o", filepath.Join(dir, "f.ndjson.gz")), file: filepath.Join(dir, "f.ndjson.gz"), decode: gz},
	}
	psql := []string{"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"}
	sel := "SELECT data FROM " + view
	for _, c := range []struct{ prog, ext string }{{"zstd", "zst"}, {"gzip", "gz"}} {
		if _, err := exec.LookPath(c.prog); err != nil {
			b.prog.skipf("psql | %s > FILE (%s not installed)", c.prog, c.prog)
			continue
		}
		f := filepath.Join(dir, "p.ndjson."+c.ext)
		dec := zst
		if c.ext == "gz" {
			dec = gz
		}
		r.cases = append(r.cases, outputCase{
			name: "psql -At FETCH_COUNT=1000 | " + c.prog + " > FILE",
			argv: []string{"bash", "-o", "pipefail", "-c", strings.Join(psql, " ") + " -At -v FETCH_COUNT=1000 -c '" + sel + "' | " + c.prog + " -c > " + f},
			file: f, decode: dec,
		})
	}
	names := make([]string, len(r.cases))
	argv := map[string][]string{}
	byName := map[string]outputCase{}
	for i, c := range r.cases {
		names[i], argv[c.name], byName[c.name] = c.name, c.argv, c
	}
	b.logf("output: %s, %d rows; warming up", view, rows)
	r.samples, err = b.alternate(ctx, "output "+view, names, argv, runOpts{}, b.rounds, nil,
		func(n string, s sample) error { return r.check(byName[n], s) })
	if err != nil {
		return nil, err
	}
	return r, nil
}

// check verifies a run: the pipe gets every row; a file holds, once
// decoded, the values and a newline each, and nothing is left on stdout.
func (r *outputResult) check(c outputCase, s sample) error {
	want := r.dataBytes + r.rows
	if c.file == "" {
		if s.outBytes != want {
			return fmt.Errorf("%s wrote %d bytes, want %d", c.name, s.outBytes, want)
		}
		return nil
	}
	if s.outBytes != 0 {
		return fmt.Errorf("%s wrote %d bytes to stdout, want none", c.name, s.outBytes)
	}
	f, err := os.Open(c.file)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	r.sizes[c.name] = fi.Size()
	rd, err := c.decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	n, err := io.Copy(io.Discard, rd)
	if err != nil {
		return fmt.Errorf("%s: reading %s back: %w", c.name, c.file, err)
	}
	if z, ok := rd.(*zstd.Decoder); ok {
		z.Close()
	}
	// Give the decoders' memory back before the next child starts: until
	// it execs, a child's RSS is the harness's.
	debug.FreeOSMemory()
	if n != want {
		return fmt.Errorf("%s: %s holds %d bytes decoded, want %d", c.name, c.file, n, want)
	}
	return nil
}

// outputSection writes the output-file tables.
func outputSection(w *strings.Builder, results []*outputResult) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Output files and compression (issue 7)\n\nEach file's content is read back and checked (decompressed where compressed). The ratio is the command's median wall time over `fraise stream > pipe`'s.\n")
	for _, r := range results {
		fmt.Fprintf(w, "\n### %s (%d rows, %.1f MB of values)\n\n", r.view, r.rows, float64(r.dataBytes)/1e6)
		fmt.Fprintf(w, "| command | median wall s | min–max s | user+sys s | peak RSS MiB | file MB | ratio to pipe |\n|---|---|---|---|---|---|---|\n")
		base := median(walls(r.samples[r.cases[0].name]))
		for _, c := range r.cases {
			xs := r.samples[c.name]
			ws := walls(xs)
			wall := median(ws)
			size := "—"
			if c.file != "" {
				size = fmt.Sprintf("%.1f", float64(r.sizes[c.name])/1e6)
			}
			fmt.Fprintf(w, "| `%s` | %.3f | %.3f–%.3f | %.3f | %.1f | %s | %.2f× |\n", strings.ReplaceAll(c.name, "|", `\|`), wall.Seconds(),
				slices.Min(ws).Seconds(), slices.Max(ws).Seconds(), median(cpus(xs)).Seconds(), mib(maxRSS(xs)), size, wall.Seconds()/base.Seconds())
		}
	}
}
