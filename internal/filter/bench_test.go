package filter

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// benchRows reads a fixture of NDJSON rows (from the benchmark data sets).
func benchRows(b *testing.B, name string) [][]byte {
	b.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// filterCases are the expressions the benchmarks run.
var filterCases = []struct{ name, rows, expr string }{
	{"small/email", "small.ndjson", ".email"},
	{"small/select", "small.ndjson", "select(.age > 30) | {id, email}"},
	{"small/identity", "small.ndjson", "."},
	{"medium/email", "medium.ndjson", ".user.email"},
	{"medium/select", "medium.ndjson", "select(.id % 2 == 0) | {id, email: .user.email}"},
	{"medium/identity", "medium.ndjson", "."},
}

// BenchmarkFilter measures rows through a pipeline with one worker: the
// per-row cost (decode, evaluation, encoding) that more workers spread
// over cores.
func BenchmarkFilter(b *testing.B) {
	for _, bc := range filterCases {
		b.Run(bc.name, func(b *testing.B) { benchPipeline(b, bc.rows, bc.expr, 1) })
	}
}

// BenchmarkPipeline measures rows through the pipeline as the CLI runs it
// by default, choosing its workers as it goes.
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range filterCases {
		b.Run(bc.name, func(b *testing.B) { benchPipeline(b, bc.rows, bc.expr, 0) })
	}
}

func benchPipeline(b *testing.B, rowsFile, expr string, workers int) {
	rows := benchRows(b, rowsFile)
	f, err := Compile(expr, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, row := range rows {
		n += int64(len(row))
	}
	b.SetBytes(n / int64(len(rows)))
	w := &discardLines{}
	p := NewPipeline(context.Background(), f, w, PipelineOptions{MaxRows: 1000, Workers: workers})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := p.Write(rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDecode measures decoding alone.
func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"small.ndjson", "medium.ndjson"} {
		b.Run(name, func(b *testing.B) {
			rows := benchRows(b, name)
			var d decoder
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := d.decode(rows[i%len(rows)], nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discardLines is a LineWriter that counts and drops lines.
type discardLines struct{ lines, bytes int }

func (d *discardLines) WriteLines(p []byte, n int) error {
	d.lines += n
	d.bytes += len(p)
	return nil
}

func (d *discardLines) Flush() error { return nil }
