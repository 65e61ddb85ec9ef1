package cli

import (
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

func TestParseSplit(t *testing.T) {
	tests := []struct {
		name             string
		splitBy, orderBy string
		parallel         int64
		notGiven         bool // --parallel not set at all
		want             splitPlan
		wantErr          []string // parts of a usage error's message; nil: no error
		wantErrIs        error
	}{
		{name: "one connection", parallel: 1},
		{name: "one connection ignores the order", orderBy: "a, b USING <", parallel: 1},
		{name: "--split-by without --parallel", splitBy: "k", parallel: 1, notGiven: true,
			wantErr: []string{"--split-by applies to a parallel run", "--parallel N"}},
		{name: "--split-by with --parallel 1", splitBy: "k", parallel: 1},
		{name: "--order-by without a key", orderBy: "DESC", parallel: 2,
			wantErr: []string{"finds no key", `"DESC"`, "--split-by"}},
		{name: "--split-by alone", splitBy: "k", parallel: 4, want: splitPlan{key: "k"}},
		{name: "--split-by an expression", splitBy: "(data->>'id')::int", parallel: 2, want: splitPlan{key: "(data->>'id')::int"}},
		{name: "--order-by one key", orderBy: "k", parallel: 4, want: splitPlan{key: "k"}},
		{name: "--order-by ASC", orderBy: "k ASC", parallel: 4, want: splitPlan{key: "k"}},
		{name: "--order-by DESC: NULLs first", orderBy: "k DESC", parallel: 4, want: splitPlan{key: "k", desc: true, nullsFirst: true}},
		{name: "--order-by ASC NULLS FIRST", orderBy: "k asc nulls first", parallel: 4, want: splitPlan{key: "k", nullsFirst: true}},
		{name: "--order-by DESC NULLS LAST", orderBy: "k DESC NULLS LAST", parallel: 4, want: splitPlan{key: "k", desc: true}},
		{name: "--order-by NULLS LAST", orderBy: "k NULLS LAST", parallel: 4, want: splitPlan{key: "k"}},
		{name: "--order-by an expression", orderBy: "data->>'a,b' DESC", parallel: 4, want: splitPlan{key: "data->>'a,b'", desc: true, nullsFirst: true}},
		{name: "several expressions without --split-by", orderBy: "a, b", parallel: 4,
			wantErr: []string{"several expressions", `"a, b"`, "--split-by"}},
		{name: "several expressions with --split-by the first", splitBy: "a", orderBy: "a DESC, b", parallel: 4,
			want: splitPlan{key: "a", desc: true, nullsFirst: true}},
		{name: "--split-by spelled otherwise than the first", splitBy: "A", orderBy: "a  NULLS FIRST, b", parallel: 4,
			want: splitPlan{key: "A", nullsFirst: true}},
		{name: "--split-by one key and --order-by the same", splitBy: "k", orderBy: "k desc", parallel: 4,
			want: splitPlan{key: "k", desc: true, nullsFirst: true}},
		{name: "--split-by not the first expression", splitBy: "b", orderBy: "a, b", parallel: 4,
			wantErr: []string{`--split-by "b" must be the first expression of --order-by`, `"a"`}},
		{name: "--split-by not the only expression", splitBy: "b", orderBy: "a", parallel: 4,
			wantErr: []string{`--split-by "b" must be the first expression`}},
		{name: "USING", orderBy: "k USING <", parallel: 4,
			wantErr: []string{"--parallel cannot follow --order-by", "USING", "ASC or DESC"}, wantErrIs: query.ErrOrderUsing},
		{name: "USING with --split-by", splitBy: "k", orderBy: "k USING >, b", parallel: 4,
			wantErr: []string{"--parallel cannot follow --order-by"}, wantErrIs: query.ErrOrderUsing},
		{name: "nothing: id", parallel: 4, want: splitPlan{key: "id", defaultID: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSplit(tt.splitBy, tt.orderBy, tt.parallel, !tt.notGiven)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("parseSplit(%q, %q, %d): %v", tt.splitBy, tt.orderBy, tt.parallel, err)
				}
				if got != tt.want {
					t.Errorf("parseSplit(%q, %q, %d) = %+v, want %+v", tt.splitBy, tt.orderBy, tt.parallel, got, tt.want)
				}
				return
			}
			checkLimitUsageError(t, err, tt.wantErr...)
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErrIs)
			}
			if got != (splitPlan{}) {
				t.Errorf("a plan %+v came with the error", got)
			}
		})
	}
}

// rangeText shows r for a failure: [lo, hi), or NULL.
func rangeText(r keyRange) string {
	if r.null {
		return "NULL"
	}
	lo, hi := "-inf", "+inf"
	if r.lo != nil {
		lo = *r.lo
	}
	if r.hi != nil {
		hi = *r.hi
	}
	return "[" + lo + ", " + hi + ")"
}

func rangesText(rs []keyRange) string {
	var s []string
	for _, r := range rs {
		s = append(s, rangeText(r))
	}
	return strings.Join(s, " ")
}

func TestRangesFrom(t *testing.T) {
	tests := []struct {
		name string
		cuts []string
		plan splitPlan
		want string
	}{
		{"ascending", []string{"10", "20", "30"}, splitPlan{key: "k"}, "[-inf, 10) [10, 20) [20, 30) [30, +inf) NULL"},
		{"ascending nulls first", []string{"10", "20"}, splitPlan{key: "k", nullsFirst: true}, "NULL [-inf, 10) [10, 20) [20, +inf)"},
		{"descending", []string{"10", "20", "30"}, splitPlan{key: "k", desc: true, nullsFirst: true}, "NULL [30, +inf) [20, 30) [10, 20) [-inf, 10)"},
		{"descending nulls last", []string{"10", "20"}, splitPlan{key: "k", desc: true}, "[20, +inf) [10, 20) [-inf, 10) NULL"},
		{"one cut", []string{"b"}, splitPlan{key: "k"}, "[-inf, b) [b, +inf) NULL"},
		{"no cuts", nil, splitPlan{key: "k"}, "[-inf, +inf) NULL"},
		{"no cuts, descending", nil, splitPlan{key: "k", desc: true, nullsFirst: true}, "NULL [-inf, +inf)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := rangesFrom(tt.cuts, tt.plan)
			if got := rangesText(rs); got != tt.want {
				t.Fatalf("rangesFrom(%q, %+v) = %s, want %s", tt.cuts, tt.plan, got, tt.want)
			}
			checkCover(t, rs, tt.plan)
		})
	}
}

// checkCover checks that rs covers the key once, in the plan's order: one
// range of NULL keys, first or last; the others from unbounded to
// unbounded, each starting where the one before it ends.
func checkCover(t *testing.T, rs []keyRange, p splitPlan) {
	t.Helper()
	if len(rs) < 2 {
		t.Fatalf("%d ranges: at least the non-NULL keys' and the NULL keys' are wanted", len(rs))
	}
	var nulls []int
	for i, r := range rs {
		if r.null {
			if r.lo != nil || r.hi != nil {
				t.Errorf("the NULL range %d has bounds", i)
			}
			nulls = append(nulls, i)
		}
	}
	nullAt := len(rs) - 1
	if p.nullsFirst {
		nullAt = 0
	}
	if len(nulls) != 1 || nulls[0] != nullAt {
		t.Fatalf("NULL ranges at %v, want one at %d: %s", nulls, nullAt, rangesText(rs))
	}
	keys := slices.Delete(slices.Clone(rs), nullAt, nullAt+1)
	if p.desc {
		slices.Reverse(keys)
	}
	// Ascending now.
	if keys[0].lo != nil || keys[len(keys)-1].hi != nil {
		t.Errorf("the ends are bounded: %s", rangesText(rs))
	}
	for i := 1; i < len(keys); i++ {
		prev, r := keys[i-1], keys[i]
		if prev.hi == nil || r.lo == nil || *prev.hi != *r.lo {
			t.Errorf("ranges %s and %s do not meet", rangeText(prev), rangeText(r))
		}
	}
}

func TestKeyRangeSpec(t *testing.T) {
	lo, hi := "10", "20"
	tests := []struct {
		r      keyRange
		want   query.Range
		params []string
	}{
		{keyRange{lo: &lo, hi: &hi}, query.Range{Key: "k", Lo: true, Hi: true, Param: 3}, []string{"10", "20"}},
		{keyRange{lo: &lo}, query.Range{Key: "k", Lo: true, Param: 3}, []string{"10"}},
		{keyRange{hi: &hi}, query.Range{Key: "k", Hi: true, Param: 3}, []string{"20"}},
		{keyRange{}, query.Range{Key: "k", Param: 3}, nil},
		{keyRange{null: true}, query.Range{Key: "k", Null: true, Param: 3}, nil},
	}
	for _, tt := range tests {
		qr, params := tt.r.spec("k", 3)
		if *qr != tt.want || !slices.Equal(params, tt.params) {
			t.Errorf("%s: spec = %+v %q, want %+v %q", rangeText(tt.r), *qr, params, tt.want, tt.params)
		}
	}
}

// checkCuts checks that cuts are integers strictly increasing, strictly
// inside (lo, hi], and at most n-1 of them.
func checkCuts(t *testing.T, cuts []string, lo, hi string, n int) {
	t.Helper()
	l, _ := new(big.Int).SetString(lo, 10)
	h, _ := new(big.Int).SetString(hi, 10)
	last := l
	for _, c := range cuts {
		v, ok := new(big.Int).SetString(c, 10)
		if !ok {
			t.Fatalf("cut %q is not an integer", c)
		}
		if v.Cmp(last) <= 0 || v.Cmp(h) > 0 {
			t.Fatalf("intCuts(%s, %s, %d) = %q: %s is not after %s and at most %s", lo, hi, n, cuts, c, last, hi)
		}
		last = v
	}
	if len(cuts) > max(n-1, 0) {
		t.Fatalf("intCuts(%s, %s, %d): %d cuts, want at most %d", lo, hi, n, len(cuts), n-1)
	}
}

func TestIntCuts(t *testing.T) {
	const maxInt8, minInt8 = "9223372036854775807", "-9223372036854775808"
	tests := []struct {
		name   string
		lo, hi string
		n      int
		want   []string
	}{
		{"even", "0", "100", 4, []string{"25", "50", "75"}},
		{"uneven", "1", "10", 4, []string{"3", "5", "7"}},
		{"negative", "-100", "-20", 4, []string{"-80", "-60", "-40"}},
		{"across zero", "-10", "10", 4, []string{"-5", "0", "5"}},
		{"span of 1", "5", "6", 8, nil}, // two values: one range
		{"span of 1, negative", "-1", "0", 8, nil},
		{"span of 2", "0", "2", 8, []string{"1"}},
		{"span of 2, negative", "-2", "0", 8, []string{"-1"}},
		{"n larger than the span", "0", "5", 16, []string{"1", "2", "3", "4"}},
		{"n equal to the span", "10", "14", 4, []string{"11", "12", "13"}},
		{"one part", "0", "100", 1, nil},
		{"no parts", "0", "100", 0, nil},
		{"lo = hi", "7", "7", 4, nil},
		{"lo > hi", "9", "7", 4, nil},
		{"not integers", "1.5", "7", 4, nil},
		{"int8 extent", minInt8, maxInt8, 4, []string{"-4611686018427387905", "-1", "4611686018427387903"}},
		{"int8 near the top", "9223372036854775800", maxInt8, 4, []string{"9223372036854775801", "9223372036854775803", "9223372036854775805"}},
		{"int8 near the bottom", minInt8, "-9223372036854775806", 64, []string{"-9223372036854775807"}},
		{"int8 top, span of 1", "9223372036854775806", maxInt8, 64, nil},
		{"int8 bottom, span of 3", minInt8, "-9223372036854775805", 4, []string{"-9223372036854775807", "-9223372036854775806"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cuts := intCuts(tt.lo, tt.hi, tt.n)
			if !slices.Equal(cuts, tt.want) {
				t.Fatalf("intCuts(%s, %s, %d) = %q, want %q", tt.lo, tt.hi, tt.n, cuts, tt.want)
			}
			checkCuts(t, cuts, tt.lo, tt.hi, tt.n)
		})
	}
	// Spans of every width up to a few times the ranges, near both ends
	// of int8 and around zero, against the ranges of --parallel 1 to 64.
	for _, base := range []string{minInt8, "-50", "0", "9223372036854775100"} { // + 600 < maxInt8
		b, _ := new(big.Int).SetString(base, 10)
		for span := int64(1); span <= 600; span += 7 {
			lo := new(big.Int).Set(b)
			hi := new(big.Int).Add(lo, big.NewInt(span))
			for n := rangesPerWorker; n <= maxParallel*rangesPerWorker; n *= 2 {
				cuts := intCuts(lo.String(), hi.String(), n)
				checkCuts(t, cuts, lo.String(), hi.String(), n)
				if want := min(int64(n-1), span-1); int64(len(cuts)) < want {
					t.Errorf("intCuts(%s, %s, %d): %d cuts, want %d", lo, hi, n, len(cuts), want)
				}
			}
		}
	}
	if cuts := intCuts("0", "1000000", 256); len(cuts) != 255 {
		t.Errorf("intCuts(0, 1000000, 256): %d cuts, want 255", len(cuts))
	}
}

func TestPickCuts(t *testing.T) {
	ints := func(lo, hi int) []string {
		var s []string
		for i := lo; i <= hi; i++ {
			s = append(s, big.NewInt(int64(i)).String())
		}
		return s
	}
	tests := []struct {
		name   string
		bounds []string
		n      int
		want   []string
	}{
		{"101 bounds in 4", ints(0, 100), 4, []string{"25", "50", "75"}},
		{"101 bounds in 3", ints(0, 100), 3, []string{"33", "67"}},
		{"two bounds", []string{"a", "z"}, 4, []string{"a", "z"}},
		{"three bounds in 2", []string{"a", "m", "z"}, 2, []string{"m"}},
		{"one part", ints(0, 100), 1, nil},
		{"repeated bounds", []string{"1", "1", "1", "1", "2", "2", "2", "2", "3"}, 8, []string{"1", "2"}},
		{"all bounds the same", []string{"x", "x", "x", "x", "x"}, 8, []string{"x"}},
		{"more parts than bounds", []string{"10", "20", "30", "40"}, 64, []string{"10", "20", "30", "40"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cuts := pickCuts(tt.bounds, tt.n)
			if !slices.Equal(cuts, tt.want) {
				t.Fatalf("pickCuts(%q, %d) = %q, want %q", tt.bounds, tt.n, cuts, tt.want)
			}
			checkPicked(t, cuts, tt.bounds, tt.n)
		})
	}
	// Every shape of histogram PostgreSQL keeps (2 to 101 bounds, here
	// with runs of repeats) against the number of ranges of --parallel 2
	// to 64.
	for nb := 2; nb <= 101; nb += 3 {
		var bounds []string
		for i := range nb {
			bounds = append(bounds, big.NewInt(int64(i/3)).String())
		}
		for n := 2 * rangesPerWorker; n <= maxParallel*rangesPerWorker; n *= 2 {
			checkPicked(t, pickCuts(bounds, n), bounds, n)
		}
	}
}

// checkPicked checks that cuts are among bounds, in their order, with no
// repeats, at most n-1 of them.
func checkPicked(t *testing.T, cuts, bounds []string, n int) {
	t.Helper()
	if len(cuts) > max(n-1, 0) {
		t.Fatalf("pickCuts(%q, %d): %d cuts, want at most %d", bounds, n, len(cuts), n-1)
	}
	at := -1
	for _, c := range cuts {
		i := slices.Index(bounds[at+1:], c)
		if i < 0 {
			t.Fatalf("pickCuts(%q, %d) = %q: %q is not a later bound (repeated or out of order)", bounds, n, cuts, c)
		}
		at += 1 + i
		// Past the run of equal bounds: the next cut must be greater.
		for at+1 < len(bounds) && bounds[at+1] == c {
			at++
		}
	}
}

func TestFinite(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0", true},
		{"-1.5e300", true},
		{"2024-01-01", true},
		{"2024-01-01 00:00:00+00", true},
		{"infinity", false},  // date, timestamp
		{"-infinity", false}, // date, timestamp
		{"Infinity", false},  // float, numeric
		{"-Infinity", false}, // float, numeric
		{"NaN", false},       // float, numeric
	}
	for _, tt := range tests {
		if got := finite(tt.in); got != tt.want {
			t.Errorf("finite(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
