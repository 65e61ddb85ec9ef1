package filter

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestPipelineNullDropped: with NullDropped, an SQL NULL row is a row the
// server dropped: it keeps its number (the errors of the rows after it
// say the same row as without the drop), counts as filtered, and is
// never run (error, halt or output); with any number of workers, in runs
// of drops longer than a batch, and at a batch's end.
func TestPipelineNullDropped(t *testing.T) {
	// Rows 1..200; the multiples of 3 are dropped (nil); row 100 fails.
	rows := make([][]byte, 200)
	for i := range rows {
		n := i + 1
		switch {
		case n%3 == 0 || n > 150 && n < 190:
		case n == 100:
			rows[i] = []byte(`"bad"`)
		default:
			rows[i] = []byte(strconv.Itoa(n))
		}
	}
	for _, workers := range []int{0, 1, 3} {
		f, err := Compile(`if type == "string" then error("no") else . end`, Options{})
		if err != nil {
			t.Fatal(err)
		}
		w := &bufferLines{}
		p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: workers, MaxRows: 7, NullDropped: true})
		for _, r := range rows {
			if err := p.Write(r); err != nil {
				break
			}
		}
		err = p.Close()
		var re *RowError
		if !errors.As(err, &re) || re.Row != 100 {
			t.Fatalf("workers %d: %v, want row 100 failing", workers, err)
		}
		var want []string
		for i := 1; i < 100; i++ {
			if i%3 != 0 {
				want = append(want, strconv.Itoa(i))
			}
		}
		if got := strings.Fields(w.buf.String()); !slices.Equal(got, want) {
			t.Errorf("workers %d: lines %q, want %q", workers, got, want)
		}
	}
	f, err := Compile(`.`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &bufferLines{}
	p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: 2, MaxRows: 5, NullDropped: true})
	for _, r := range rows {
		if r == nil || string(r) != `"bad"` {
			if err := p.Write(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, r := range rows {
		if r == nil {
			dropped++
		}
	}
	if c := p.Counts(); c.Rows != 199 || c.Filtered != int64(dropped) || c.Lines != int64(199-dropped) || strings.Contains(w.buf.String(), "null") {
		t.Errorf("counts %+v (dropped %d), output has null: %v", c, dropped, strings.Contains(w.buf.String(), "null"))
	}
}
