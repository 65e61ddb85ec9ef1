package filter

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// bufferLines is a LineWriter that keeps what it is given.
type bufferLines struct {
	buf     bytes.Buffer
	lines   int
	flushes int
}

func (b *bufferLines) WriteLines(p []byte, n int) error {
	b.buf.Write(p)
	b.lines += n
	return nil
}

func (b *bufferLines) Flush() error {
	b.flushes++
	return nil
}

// runFilter compiles expr with opts and runs it over rows (JSON texts; a
// nil entry is SQL NULL) through a pipeline with the given policy and
// workers. It returns the output lines (without their newlines), the
// warnings, and Close's error.
func runFilter(t testing.TB, expr string, opts Options, rows []string, pol Policy, workers int) (lines, warnings []string, err error) {
	t.Helper()
	f, err := Compile(expr, opts)
	if err != nil {
		return nil, nil, err
	}
	return runCompiled(t, f, rows, pol, workers)
}

// runCompiled is runFilter with the filter compiled already.
func runCompiled(t testing.TB, f *Filter, rows []string, pol Policy, workers int) (lines, warnings []string, err error) {
	t.Helper()
	w := &bufferLines{}
	p := NewPipeline(context.Background(), f, w, PipelineOptions{
		Workers: workers, MaxRows: 8, Policy: pol,
		Warn: func(msg string) { warnings = append(warnings, msg) },
	})
	for _, r := range rows {
		var row []byte
		if r != sqlNull {
			row = []byte(r)
		}
		if err = p.Write(row); err != nil {
			break
		}
	}
	if err != nil {
		p.Abort()
	} else {
		err = p.Close()
	}
	out := strings.TrimSuffix(w.buf.String(), "\n")
	if out != "" {
		lines = strings.Split(out, "\n")
	}
	if w.lines != len(lines) && !f.raw {
		t.Errorf("writer was told %d lines, got %d", w.lines, len(lines))
	}
	return lines, warnings, err
}

// sqlNull stands for a SQL NULL row in runFilter's rows.
const sqlNull = "\x00NULL"
