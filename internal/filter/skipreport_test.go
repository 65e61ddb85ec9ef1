package filter

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSkipReportGroups runs expressions that fail on many rows with a
// different value each and checks the warnings: one per kind at its first
// row, in the order first seen, and a summary line per kind with its
// count, its first row and that row's values.
func TestSkipReportGroups(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		rows       int
		want       []string
	}{
		{"1000 rows, one kind", `. + "x"`, 1000, []string{
			`jq error on row 1, row skipped: cannot add: number (1) and string ("x")`,
			"skipped 1000 of 1000 rows on jq errors (--on-jq-error skip)\n" +
				`  1000 × cannot add: number (…) and string (…) — first on row 1: 1, "x"`,
		}},
		{"two kinds, first seen first, and kept rows", `if . % 5 == 0 then {a: .} | .[.a] elif . % 3 == 0 then tostring | tonumber + . else . end`, 30, []string{
			`jq error on row 3, row skipped: cannot add: number (3) and string ("3")`,
			`jq error on row 5, row skipped: expected an array but got: object ({"a":5})`,
			"skipped 14 of 30 rows on jq errors (--on-jq-error skip)\n" +
				`  8 × cannot add: number (…) and string (…) — first on row 3: 3, "3"` + "\n" +
				`  6 × expected an array but got: object (…) — first on row 5: {"a":5}`,
		}},
		{"a value cut short", `tostring * 9 | . + 1`, 3, []string{
			`jq error on row 1, row skipped: cannot add: string ("111111111") and number (1)`,
			"skipped 3 of 3 rows on jq errors (--on-jq-error skip)\n" +
				`  3 × cannot add: string (…) and number (…) — first on row 1: "111111111", 1`,
		}},
		{"no value", `if . > 1 then null | keys else . end`, 4, []string{
			`jq error on row 2, row skipped: keys cannot be applied to: null`,
			"skipped 3 of 4 rows on jq errors (--on-jq-error skip)\n" +
				`  3 × keys cannot be applied to: null — first on row 2`,
		}},
		{"the user's own messages, kept apart", `error("e\(. % 2)")`, 5, []string{
			`jq error on row 1, row skipped: error: e1`,
			`jq error on row 2, row skipped: error: e0`,
			"skipped 5 of 5 rows on jq errors (--on-jq-error skip)\n" +
				"  3 × error: e1 — first on row 1\n  2 × error: e0 — first on row 2",
		}},
	} {
		_, warnings, err := runFilter(t, tc.expr, Options{}, numberRows(tc.rows), Skip, 2)
		if err != nil || !slices.Equal(warnings, tc.want) {
			t.Errorf("%s: err %v, warnings\n%s\nwant\n%s", tc.name, err, strings.Join(warnings, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// TestSkipReportBounded checks that past maxWarned kinds, rows of new
// kinds are counted as other errors, and kinds seen before still counted
// in their group.
func TestSkipReportBounded(t *testing.T) {
	var warnings []string
	r := NewSkipReport(func(m string) { warnings = append(warnings, m) })
	for row := int64(1); row <= 100; row++ {
		// error("k<n>") for 30 kinds, each first on row n.
		r.Add(row, "error: k"+strconv.FormatInt((row-1)%30, 10))
	}
	r.Summarize(100)
	sum := warnings[len(warnings)-1]
	if len(warnings) != maxWarned+2 || !strings.Contains(sum, "\n  4 × error: k0 — first on row 1\n") ||
		!strings.HasSuffix(sum, "\n  3 × error: k19 — first on row 20\n  30 × other errors") {
		t.Errorf("warnings %q", warnings)
	}
}

// TestSkipReportMerged checks that a report given the groups of several
// runs of rows (a parallel run's ranges), their rows numbered after the
// runs before, says what one given every row says.
func TestSkipReportMerged(t *testing.T) {
	msgs := skipMessages(t, `if . % 7 == 0 then error("seven") elif . % 4 == 0 then . + "x" elif . % 3 == 0 then error(.) else empty end`, numberRows(300)...)
	rows := []int64{}
	for i := int64(1); i <= 300; i++ {
		if i%7 == 0 || i%4 == 0 || i%3 == 0 {
			rows = append(rows, i)
		}
	}
	if len(msgs) != len(rows) {
		t.Fatalf("%d messages for %d rows", len(msgs), len(rows))
	}
	var one, merged []string
	r := NewSkipReport(func(m string) { one = append(one, m) })
	for i, m := range msgs {
		r.Add(rows[i], m)
	}
	r.Summarize(300)
	m := NewSkipReport(func(m string) { merged = append(merged, m) })
	for _, cut := range [][2]int64{{0, 50}, {50, 51}, {51, 200}, {200, 300}} {
		// A range's rows, grouped by kind as a range keeps them.
		var groups []SkipGroup
		for i, msg := range msgs {
			if rows[i] <= cut[0] || rows[i] > cut[1] {
				continue
			}
			g := NewSkipGroup(rows[i]-cut[0], msg)
			if k := slices.IndexFunc(groups, func(h SkipGroup) bool { return h.Kind == g.Kind }); k >= 0 {
				groups[k].N++
				continue
			}
			groups = append(groups, g)
		}
		for _, g := range groups {
			g.Row += cut[0]
			m.AddGroup(g)
		}
	}
	m.Summarize(300)
	if !slices.Equal(one, merged) || len(one) != 4 {
		t.Errorf("one report:\n%s\nmerged:\n%s", strings.Join(one, "\n"), strings.Join(merged, "\n"))
	}
}

// TestShown checks what a report shows of a message: on one line,
// control characters escaped, bounded.
func TestShown(t *testing.T) {
	long := strings.Repeat("é", 150)
	for _, tc := range []struct{ in, want string }{
		{"plain (1)", "plain (1)"},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"\x1b[31mred\x7f\u0085", `\u001b[31mred\u007f\u0085`},
		{"bidi \u202e \u2066", `bidi \u202e \u2066`},
		{"bad \xff utf-8", `bad \xff utf-8`},
		{long, strings.Repeat("é", maxShown/2) + "…"},
		{strings.Repeat("\x01", 40), strings.Repeat(`\u0001`, maxShown/6) + "…"},
	} {
		if got := shown(tc.in); got != tc.want {
			t.Errorf("shown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
