package cli

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/filter"
)

// discardLines is a filter.LineWriter that keeps nothing.
type discardLines struct{}

func (discardLines) WriteLines([]byte, int) error { return nil }
func (discardLines) Flush() error                 { return nil }

// TestRangeSkipsReplay cuts the rows an expression fails on (gojq's
// messages, a different value on each row) into ranges, each keeping its
// skips as a parallel run's range does, and checks that replaying them in
// order tells what one pipeline tells of the same rows: each kind once,
// at its first row in the whole output, with its count.
func TestRangeSkipsReplay(t *testing.T) {
	f, err := filter.Compile(`if .%7 == 0 then error("seven") elif .%4 == 0 then . + "x" elif .%3 == 0 then {a: .} | .[.a] else . end`, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const rows = 1000
	var one []string
	p := filter.NewPipeline(context.Background(), f, discardLines{}, filter.PipelineOptions{Workers: 1, MaxRows: 64, Policy: filter.Skip,
		Warn: func(m string) { one = append(one, m) }})
	for i := 1; i <= rows; i++ {
		if err := p.Write([]byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if len(one) != 4 || !strings.Contains(one[3], "\n  215 × cannot add: number (…) and string (…) — first on row 4: 4, \"x\"") {
		t.Fatalf("one pipeline:\n%s", strings.Join(one, "\n"))
	}

	var merged []string
	report := filter.NewSkipReport(func(m string) { merged = append(merged, m) })
	cuts := []int{0, 3, 4, 250, 251, 700, rows}
	for k := 1; k < len(cuts); k++ {
		var rs rangeSkips
		lo, hi := cuts[k-1], cuts[k]
		p := filter.NewPipeline(context.Background(), f, discardLines{}, filter.PipelineOptions{Workers: 2, MaxRows: 16, Policy: filter.Skip, OnSkip: rs.add})
		for i := lo + 1; i <= hi; i++ {
			if err := p.Write([]byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		// Kept by kind: a group each, not a message each.
		if len(rs.kinds) > 3 || rs.others != 0 {
			t.Errorf("rows %d to %d: %d kinds kept, %d others", lo+1, hi, len(rs.kinds), rs.others)
		}
		rs.replay(report, int64(lo))
	}
	report.Summarize(rows)
	if !slices.Equal(merged, one) {
		t.Errorf("ranges replayed:\n%s\none pipeline:\n%s", strings.Join(merged, "\n"), strings.Join(one, "\n"))
	}
}

// TestRangeSkipsLetGo: a range's skips, once replayed into the report,
// are let go, and a range told again adds nothing: a run with many ranges
// holds the kinds of the ranges still to write only.
func TestRangeSkipsLetGo(t *testing.T) {
	var rs rangeSkips
	for i := range 50 {
		rs.add(int64(i+1), "error: e"+strconv.Itoa(i))
	}
	var lines []string
	report := filter.NewSkipReport(func(m string) { lines = append(lines, m) })
	rs.replay(report, 0)
	if len(rs.kinds) != 0 || rs.index != nil || rs.others != 0 {
		t.Errorf("after replay the range still holds %d kinds, %d others", len(rs.kinds), rs.others)
	}
	rs.replay(report, 0)
	report.Summarize(50)
	if got := lines[len(lines)-1]; !strings.HasPrefix(got, "skipped 50 of 50 rows") {
		t.Errorf("summary after a second replay:\n%s\nwant 50 rows skipped, each told once", got)
	}
}
