package filter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// numberRows returns n rows, the numbers 1…n.
func numberRows(n int) []string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = strconv.Itoa(i + 1)
	}
	return rows
}

// TestPipelineKeepsRowOrder runs rows with outputs of very different sizes
// and counts on several workers and checks the order.
func TestPipelineKeepsRowOrder(t *testing.T) {
	rows := numberRows(3000)
	for _, workers := range []int{1, 2, 4, 8} {
		lines, _, err := runFilter(t, `range(. % 7) as $i | [., $i, (if . % 13 == 0 then "x" * 5000 else "" end)] | tostring | .[0:20]`,
			Options{}, rows, Fail, workers)
		if err != nil {
			t.Fatal(err)
		}
		// Each line starts with its row and output numbers.
		k := 0
		for n := 1; n <= 3000; n++ {
			for i := range n % 7 {
				prefix := fmt.Sprintf(`"[%d,%d,`, n, i)
				if k >= len(lines) || !strings.HasPrefix(lines[k], prefix) {
					t.Fatalf("workers %d: line %d = %q, want prefix %s", workers, k, lines[min(k, len(lines)-1)], prefix)
				}
				k++
			}
		}
		if k != len(lines) {
			t.Fatalf("workers %d: %d lines, want %d", workers, len(lines), k)
		}
	}
}

// TestPipelineBoundsRowsInFlight checks that batches times rows per batch
// never exceed MaxRows, for every combination of sizes.
func TestPipelineBoundsRowsInFlight(t *testing.T) {
	f, err := Compile(`.`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, maxRows := range []int{1, 2, 3, 7, 100, 1000, 5000, 100000} {
		for _, workers := range []int{1, 2, 3, 16} {
			p := NewPipeline(context.Background(), f, &bufferLines{}, PipelineOptions{Workers: workers, MaxRows: maxRows})
			if got := p.rows * cap(p.slots); got > maxRows || p.rows < 1 || p.rows > maxBatchRows {
				t.Errorf("MaxRows %d, workers %d: %d batches of %d rows", maxRows, workers, cap(p.slots), p.rows)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPipelineFailStopsAtTheRow checks policy Fail: lines of earlier rows
// and the failing row's outputs before the error are written, nothing
// after, and the error names the row.
func TestPipelineFailStopsAtTheRow(t *testing.T) {
	rows := append(numberRows(50), `"x"`, `60`, `61`)
	for _, workers := range []int{1, 3} {
		lines, _, err := runFilter(t, `"before", . + 1`, Options{}, rows, Fail, workers)
		var re *RowError
		if !errors.As(err, &re) || re.Row != 51 || !strings.Contains(err.Error(), "jq error on row 51: ") {
			t.Fatalf("err = %v, want a RowError on row 51", err)
		}
		if len(lines) != 101 || lines[99] != "51" || lines[100] != `"before"` {
			t.Fatalf("%d lines, ending %q", len(lines), lines[max(len(lines)-3, 0):])
		}
	}
	// The lines before the error are flushed, not left in a buffer.
	f, _ := Compile(`if . == 3 then error("x") else . end`, Options{})
	w := &eventLines{}
	p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: 1, MaxRows: 100})
	for _, r := range numberRows(5) {
		_ = p.Write([]byte(r))
	}
	if err := p.Close(); err == nil {
		t.Fatal("no error")
	}
	if want := []string{"lines 2", "flush"}; !slices.Equal(w.events, want) {
		t.Errorf("events %q, want %q", w.events, want)
	}
}

// TestPipelineSkip checks policy Skip: the failing rows' outputs are
// dropped whole, one warning per distinct message, a summary at the end,
// and the counters.
func TestPipelineSkip(t *testing.T) {
	f, err := Compile(`"before", (if . % 10 == 0 then error("ten \(. % 20)") elif . % 3 == 0 then empty else . end)`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &bufferLines{}
	var warnings []string
	p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: 2, MaxRows: 16, Policy: Skip,
		Warn: func(m string) { warnings = append(warnings, m) }})
	for _, r := range numberRows(100) {
		if err := p.Write([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	c := p.Counts()
	// 10 rows fail; of the other 90, every one writes "before".
	if c.Rows != 100 || c.Skipped != 10 || c.Filtered != 0 || c.Lines != 90+60 {
		t.Errorf("counts %+v", c)
	}
	want := []string{
		"jq error on row 10, row skipped: error: ten 10",
		"jq error on row 20, row skipped: error: ten 0",
		"skipped 10 of 100 rows on jq errors (--on-jq-error skip)\n  5 × error: ten 10 — first on row 10\n  5 × error: ten 0 — first on row 20",
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings %q, want %q", warnings, want)
	}
	if strings.Contains(w.buf.String(), "\n10\n") || strings.Count(w.buf.String(), `"before"`) != 90 {
		t.Errorf("output of a skipped row was written")
	}
}

// TestPipelineSkipBoundsWarnings checks that endless distinct messages
// are counted, not all shown.
func TestPipelineSkipBoundsWarnings(t *testing.T) {
	_, warnings, err := runFilter(t, `error("e\(.)")`, Options{}, numberRows(30), Skip, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != maxWarned+2 || !strings.Contains(warnings[maxWarned], "another kind are counted") ||
		!strings.HasSuffix(warnings[maxWarned+1], "10 × other errors") {
		t.Errorf("warnings %q", warnings)
	}
}

// TestPipelineCountsFiltered checks the filtered counter: rows with no
// output.
func TestPipelineCountsFiltered(t *testing.T) {
	f, _ := Compile(`select(. % 4 == 0) | (., .)`, Options{})
	p := NewPipeline(context.Background(), f, &bufferLines{}, PipelineOptions{Workers: 2, MaxRows: 10})
	for _, r := range numberRows(40) {
		_ = p.Write([]byte(r))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if c := p.Counts(); c != (Counts{Rows: 40, Lines: 20, Filtered: 30}) {
		t.Errorf("counts %+v", c)
	}
}

// TestPipelineHalt checks halt and halt_error: the stream stops at the
// row, earlier lines stay, and the error carries jq's exit code and
// message.
func TestPipelineHalt(t *testing.T) {
	for _, tc := range []struct {
		expr string
		code int
		msg  string
	}{
		{`if . == 7 then halt else . end`, 0, ""},
		{`if . == 7 then "bye\n" | halt_error else . end`, 5, "bye\n"},
		{`if . == 7 then {a: 1} | halt_error(3) else . end`, 3, "{\"a\":1}\n"},
	} {
		lines, _, err := runFilter(t, tc.expr, Options{}, numberRows(20), Skip, 2)
		var he *HaltError
		if !errors.As(err, &he) || he.Code != tc.code || string(he.Message()) != tc.msg || he.Row != 7 {
			t.Errorf("%s: err %v (%+v)", tc.expr, err, he)
			continue
		}
		if !slices.Equal(lines, []string{"1", "2", "3", "4", "5", "6"}) {
			t.Errorf("%s: lines %q", tc.expr, lines)
		}
	}
}

// TestPipelineBadRow checks that text that is not JSON is an error of its
// row, like a jq error.
func TestPipelineBadRow(t *testing.T) {
	lines, _, err := runFilter(t, `.`, Options{}, []string{`1`, `{"a":`, `3`}, Fail, 1)
	var re *RowError
	if !errors.As(err, &re) || re.Row != 2 || !strings.Contains(err.Error(), "not valid JSON") || !slices.Equal(lines, []string{"1"}) {
		t.Errorf("lines %q, err %v", lines, err)
	}
}

// TestPipelineDeepRow checks that a row nested deeper than the decoder
// goes is an error of its row that says so, not one calling it invalid
// JSON (it is valid), with either policy, when the expression observes
// the deep part; one that does not (.a) reads the row, as it would the
// row a server narrowed to its observed part.
func TestPipelineDeepRow(t *testing.T) {
	deep := `{"x":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`
	rows := []string{`{"a":1}`, deep, `{"a":3}`}
	if lines, _, err := runFilter(t, ".a", Options{}, rows, Fail, 1); err != nil || !slices.Equal(lines, []string{"1", "null", "3"}) {
		t.Errorf(".a: lines %q, err %v; want 1, null, 3", lines, err)
	}
	want := "the row is JSON nested more than 10000 levels deep (at byte 10004), too deep for --jq"
	// . and .x build the deep part.
	for _, expr := range []string{".", ".x"} {
		lines, _, err := runFilter(t, expr, Options{}, rows, Fail, 1)
		var re *RowError
		var de *DepthError
		if !errors.As(err, &re) || re.Row != 2 || !errors.As(err, &de) || err.Error() != "jq error on row 2: "+want || len(lines) != 1 {
			t.Errorf("%s: lines %q, err %v; want row 2 failing with %q", expr, lines, err, want)
		}
		lines, warnings, err := runFilter(t, expr, Options{}, rows, Skip, 2)
		if err != nil || len(lines) != 2 || len(warnings) == 0 || !strings.Contains(warnings[0], want) {
			t.Errorf("%s, skip: lines %q, warnings %q, err %v", expr, lines, warnings, err)
		}
	}
}

// TestPipelineFlush checks that Flush pushes the output of the rows sent
// so far, after writing them.
func TestPipelineFlush(t *testing.T) {
	f, _ := Compile(`.`, Options{})
	w := &eventLines{}
	p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: 2, MaxRows: 1000})
	_ = p.Write([]byte(`1`))
	_ = p.Write([]byte(`2`))
	_ = p.Flush()
	_ = p.Flush() // nothing new: no second flush
	_ = p.Write([]byte(`3`))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"lines 2", "flush", "lines 1", "flush"}; !slices.Equal(w.events, want) {
		t.Errorf("events %q, want %q", w.events, want)
	}
}

// eventLines records what a LineWriter is asked to do.
type eventLines struct {
	mu     sync.Mutex
	events []string
	err    error
}

func (e *eventLines) WriteLines(p []byte, n int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, fmt.Sprintf("lines %d", n))
	return e.err
}

func (e *eventLines) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, "flush")
	return nil
}

// TestPipelineWriteErrorStops checks that a destination error (a closed
// pipe) reaches the producer and Close, and stops the filter.
func TestPipelineWriteErrorStops(t *testing.T) {
	f, _ := Compile(`repeat(.)`, Options{})
	w := &eventLines{err: syscall.EPIPE}
	p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: 2, MaxRows: 4})
	var err error
	for i := 0; err == nil; i++ {
		err = p.Write([]byte(`1`))
	}
	if !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Write: %v", err)
	}
	if err := p.Close(); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Close: %v", err)
	}
}

// TestPipelineCancelStopsRunawayFilter checks that a filter that never
// ends stops when the context is cancelled.
func TestPipelineCancelStopsRunawayFilter(t *testing.T) {
	checkCancelStopsRunaway(t, PipelineOptions{Workers: 2, MaxRows: 10})
}

// checkCancelStopsRunaway runs a filter that never ends on one row with
// opts and checks that cancelling the context stops it.
func checkCancelStopsRunaway(t *testing.T, opts PipelineOptions) {
	t.Helper()
	started := make(chan struct{})
	var once sync.Once
	f, err := Compile(`debug | last(range(1e18))`, Options{Stderr: writerFunc(func(p []byte) (int, error) {
		once.Do(func() { close(started) })
		return len(p), nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := NewPipeline(ctx, f, &bufferLines{}, opts)
	if err := p.Write([]byte(`1`)); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	if err := p.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestPipelineAbort checks that Abort returns with rows queued and
// nothing written.
func TestPipelineAbort(t *testing.T) {
	f, _ := Compile(`.`, Options{})
	w := &bufferLines{}
	p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: 2, MaxRows: 1000})
	_ = p.Write([]byte(`1`))
	p.Abort()
	if w.buf.Len() != 0 {
		t.Errorf("wrote %q", w.buf.String())
	}
	if err := p.Write([]byte(`2`)); err == nil {
		t.Error("Write after Abort succeeded")
	}
}

// TestRegexpPatternsFromRows: gojq caches compiled regular expressions by
// their pattern's text for the life of a worker's code. A pattern taken
// from a row must not be a view of bytes a later row is decoded over, or
// the cache returns an old row's regex for a new pattern. One worker, one
// row per batch (so that batches are recycled at once), patterns
// alternating.
func TestRegexpPatternsFromRows(t *testing.T) {
	for _, expr := range []string{
		`.p as $p | .s | test($p)`,
		`.s | [match(.; "g")] | length`,
		`.p as $p | .s | sub($p; "X")`,
	} {
		f, err := Compile(expr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !f.ownStrings {
			t.Fatalf("%s: strings not owned for an expression with a regular expression", expr)
		}
		var rows, want []string
		for i := range 400 {
			p := []string{"a", "b", "c"}[i%3]
			rows = append(rows, `{"p": "`+p+`", "s": "b"}`)
		}
		for _, r := range rows {
			got, _, err := runFilter(t, expr, Options{}, []string{r}, Fail, 1)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, got...)
		}
		w := &bufferLines{}
		p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: 1, MaxRows: 1})
		for _, r := range rows {
			if err := p.Write([]byte(r)); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
		if !slices.Equal(got, want) {
			for i := range got {
				if i < len(want) && got[i] != want[i] {
					t.Fatalf("%s: row %d (%s) gives %s, alone it gives %s", expr, i+1, rows[i], got[i], want[i])
				}
			}
			t.Fatalf("%s: %d lines, want %d", expr, len(got), len(want))
		}
	}
	if f, _ := Compile(`{id, email}`, Options{}); f.ownStrings {
		t.Error("{id, email} copies strings: it compiles no regular expression")
	}
}

// TestPipelineKeepInterleaved hands some rows over with Keep between rows
// given with Write: each kept row is a batch of its own, and the output
// keeps the rows' order and numbers.
func TestPipelineKeepInterleaved(t *testing.T) {
	f, err := Compile(`if .n % 7 == 0 then error("bad") else [.n, (.s | length)] end`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 4} {
		for _, maxRows := range []int{1, 3, 100} {
			w := &bufferLines{}
			var warnings []string
			p := NewPipeline(context.Background(), f, w, PipelineOptions{Workers: workers, MaxRows: maxRows, Policy: Skip,
				Warn: func(msg string) { warnings = append(warnings, msg) }})
			var want strings.Builder
			for n := 1; n <= 200; n++ {
				size := n % 3
				if n%5 == 0 {
					size = 3000 + n
				}
				row := []byte(fmt.Sprintf(`{"n":%d,"s":"%s"}`, n, strings.Repeat("y", size)))
				if n%5 == 0 {
					err = p.Keep(row)
				} else {
					err = p.Write(row)
				}
				if err != nil {
					t.Fatal(err)
				}
				if n%7 != 0 {
					fmt.Fprintf(&want, "[%d,%d]\n", n, size)
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if w.buf.String() != want.String() {
				t.Errorf("workers %d, MaxRows %d: output\n%s\nwant\n%s", workers, maxRows, w.buf.String(), want.String())
			}
			// The first skipped row is row 7: row numbers count kept rows.
			if len(warnings) == 0 || !strings.Contains(warnings[0], "row 7,") {
				t.Errorf("workers %d, MaxRows %d: warnings %q, want the first on row 7", workers, maxRows, warnings)
			}
			if c := p.Counts(); c.Skipped != 28 {
				t.Errorf("workers %d, MaxRows %d: %d rows skipped, want 28", workers, maxRows, c.Skipped)
			}
		}
	}
}
