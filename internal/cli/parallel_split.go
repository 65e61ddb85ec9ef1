package cli

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// rangesPerWorker is how many ranges a parallel run cuts its key into per
// connection: ranges are taken from a queue, so that a skewed key, whose
// ranges differ in size, does not leave connections idle.
const rangesPerWorker = 4

// maxParallel is the most connections --parallel opens, the leader aside.
const maxParallel = 64

// splitPlan is how a parallel run cuts its rows: the split key, and the
// order in which its ranges are written (that of --order-by's first item,
// which the key is).
type splitPlan struct {
	key        string
	desc       bool
	nullsFirst bool
	// defaultID is set when the key is the relation's id column, chosen
	// for want of --split-by and --order-by: checked once connected.
	defaultID bool
}

// parseSplit decides the split key from --split-by and --order-by.
// parallelGiven says whether --parallel was set at all: --split-by without
// it is a mistake, with --parallel 1 a run on one connection.
func parseSplit(splitBy, orderBy string, parallel int64, parallelGiven bool) (splitPlan, error) {
	if splitBy != "" && !parallelGiven {
		return splitPlan{}, &usageError{errors.New("--split-by applies to a parallel run: give --parallel N as well, or leave --split-by out")}
	}
	if parallel == 1 {
		return splitPlan{}, nil
	}
	var ok query.OrderKey
	if orderBy != "" {
		var err error
		if ok, err = query.LeadingOrderKey(orderBy); err != nil {
			return splitPlan{}, &usageError{fmt.Errorf("--parallel cannot follow --order-by %q: %w; sort with ASC or DESC", orderBy, err)}
		}
	}
	switch {
	case splitBy != "" && orderBy != "" && !query.SameExpr(splitBy, ok.Expr):
		return splitPlan{}, &usageError{fmt.Errorf("--split-by %q must be the first expression of --order-by (%q) for the ranges to come out in order: "+
			"give --order-by %q, …, or leave --order-by out", splitBy, ok.Expr, splitBy)}
	case splitBy != "":
		return splitPlan{key: splitBy, desc: ok.Desc, nullsFirst: ok.NullsFirst}, nil
	case orderBy != "" && ok.Expr == "":
		return splitPlan{}, &usageError{fmt.Errorf("--parallel finds no key in --order-by %q: give --split-by", orderBy)}
	case orderBy != "" && ok.Alone:
		return splitPlan{key: ok.Expr, desc: ok.Desc, nullsFirst: ok.NullsFirst}, nil
	case orderBy != "":
		return splitPlan{}, &usageError{fmt.Errorf("--parallel splits the rows by ranges of one key, and --order-by %q has several expressions: "+
			"give --split-by with its first one", orderBy)}
	}
	return splitPlan{key: "id", defaultID: true}, nil
}

// keyRange is one range of the split key: its bounds as the server's text
// (nil: unbounded), or the rows whose key is NULL.
type keyRange struct {
	lo, hi *string
	null   bool
}

// spec returns the query.Range of r, its first bound's parameter $first.
func (r keyRange) spec(key string, first int) (*query.Range, []string) {
	qr := &query.Range{Key: key, Lo: r.lo != nil, Hi: r.hi != nil, Null: r.null, Param: first}
	var params []string
	if r.lo != nil {
		params = append(params, *r.lo)
	}
	if r.hi != nil {
		params = append(params, *r.hi)
	}
	return qr, params
}

// rangesFrom cuts the key at cuts (in ascending order) into the ranges of
// a run, in the order they are written: ascending or descending as
// --order-by says, and the NULL keys' range first or last.
func rangesFrom(cuts []string, p splitPlan) []keyRange {
	rs := make([]keyRange, 0, len(cuts)+2)
	var lo *string
	for i := range cuts {
		rs = append(rs, keyRange{lo: lo, hi: &cuts[i]})
		lo = &cuts[i]
	}
	rs = append(rs, keyRange{lo: lo})
	if p.desc {
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
	}
	null := keyRange{null: true}
	if p.nullsFirst {
		return append([]keyRange{null}, rs...)
	}
	return append(rs, null)
}

// Type OIDs of the split keys cut by their extent (pg_type.dat).
const (
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidFloat4      = 700
	oidFloat8      = 701
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
)

// interpolations are the SQL that cuts a key's extent, $1 to $2, into $3
// parts, by the key's type: fraise's own text, never the server's.
var interpolations = map[int64]struct{ typ, expr string }{
	oidNumeric:     {"numeric", "$1::numeric + ($2::numeric - $1::numeric) * g / $3::int"},
	oidFloat4:      {"float4", "($1::float8 + ($2::float8 - $1::float8) * g / $3::int)::float4"},
	oidFloat8:      {"float8", "$1::float8 + ($2::float8 - $1::float8) * g / $3::int"},
	oidDate:        {"date", "$1::date + (($2::date - $1::date)::float8 * g / $3::int)::int"},
	oidTimestamp:   {"timestamp", "$1::timestamp + ($2::timestamp - $1::timestamp) * (g::float8 / $3::int)"},
	oidTimestamptz: {"timestamptz", "$1::timestamptz + ($2::timestamptz - $1::timestamptz) * (g::float8 / $3::int)"},
}

// cutter finds where to cut the split key, under the leader's snapshot.
type cutter struct {
	snap   *wire.Snapshot
	spec   query.Spec // the user's statement, without its range
	params []string
	plan   splitPlan
	parts  int // ranges wanted, NULL keys' aside
	conns  int // the connections that stream
	// how says how the cuts were found, for --verbose and --stats.
	how string
	// uncut is set when the key has several values but no way was found
	// to cut it.
	uncut bool
}

// cuts returns the cut points of the key, ascending, strictly increasing.
func (c *cutter) cuts(ctx context.Context) ([]string, error) {
	st, err := query.BuildExtent(c.spec, c.plan.key)
	if err != nil {
		return nil, err
	}
	var oid int64
	var lo, hi *string
	err = c.snap.Query(ctx, st.SQL, c.params, func(v [][]byte) error {
		if len(v) == 3 {
			_, _ = fmt.Sscan(string(v[0]), &oid)
			lo, hi = textOrNil(v[1]), textOrNil(v[2])
		}
		return nil
	})
	if err != nil {
		return nil, withStatement(err, &st)
	}
	if lo == nil || hi == nil || *lo == *hi {
		c.how = "extent: at most one key value"
		return nil, nil
	}
	indexed, err := c.indexed(ctx, *lo, *hi)
	if err != nil {
		return nil, err
	}
	if !indexed {
		// Every range scans the whole relation: one per connection.
		c.parts = c.conns
		defer func() { c.how += "; the key has no index: one range per connection" }()
	}
	switch oid {
	case oidInt2, oidInt4, oidInt8:
		c.how = "extent (min, max), integer"
		return intCuts(*lo, *hi, c.parts), nil
	}
	if in, ok := interpolations[oid]; ok && finite(*lo) && finite(*hi) {
		c.how = "extent (min, max), " + in.typ
		return c.interpolate(ctx, in.typ, in.expr, *lo, *hi)
	}
	return c.histogram(ctx)
}

// indexed reports whether the planner reads a range of the key through an
// index (an Index Cond in its plan), not by scanning every row: only then
// are many small ranges cheap.
func (c *cutter) indexed(ctx context.Context, lo, hi string) (bool, error) {
	spec := c.spec
	spec.Range = &query.Range{Key: c.plan.key, Lo: true, Hi: true, Param: len(c.params) + 1}
	st, err := query.Build(spec)
	if err != nil {
		return false, err
	}
	plan, err := c.snap.Plan(ctx, st.SQL, append(append([]string(nil), c.params...), lo, hi))
	if err != nil {
		return false, withStatement(err, &st)
	}
	return strings.Contains(plan, `"Index Cond"`), nil
}

// finite reports whether a key's text is not an infinity or NaN, which
// cannot be interpolated.
func finite(s string) bool {
	switch s {
	case "infinity", "-infinity", "Infinity", "-Infinity", "NaN":
		return false
	}
	return true
}

func textOrNil(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// intCuts cuts lo..hi, integers as text, into n parts of equal width.
func intCuts(lo, hi string, n int) []string {
	l, ok1 := new(big.Int).SetString(lo, 10)
	h, ok2 := new(big.Int).SetString(hi, 10)
	if !ok1 || !ok2 || l.Cmp(h) >= 0 {
		return nil
	}
	width := new(big.Int).Sub(h, l)
	var cuts []string
	last := new(big.Int).Set(l)
	for i := 1; i < n; i++ {
		v := new(big.Int).Mul(width, big.NewInt(int64(i)))
		v.Quo(v, big.NewInt(int64(n)))
		v.Add(v, l)
		if v.Cmp(last) > 0 && v.Cmp(h) <= 0 {
			cuts = append(cuts, v.String())
			last = v
		}
	}
	return cuts
}

// interpolate cuts lo..hi into parts of equal width in the server, in the
// key's type, and returns the distinct cuts strictly inside, ascending.
func (c *cutter) interpolate(ctx context.Context, typ, expr, lo, hi string) ([]string, error) {
	// Ordered by the value, not its text ("s.v": the bare name would be
	// the output column's).
	sql := "SELECT s.v::text AS cut FROM (SELECT DISTINCT " + expr + " AS v FROM generate_series(1, $3::int - 1) g) s" +
		" WHERE s.v > $1::" + typ + " AND s.v < $2::" + typ + " ORDER BY s.v"
	var cuts []string
	err := c.snap.Query(ctx, sql, []string{lo, hi, fmt.Sprint(c.parts)}, func(v [][]byte) error {
		if len(v) == 1 && v[0] != nil {
			cuts = append(cuts, string(v[0]))
		}
		return nil
	})
	return cuts, err
}

// histogramSQL finds the planner's histogram of the column the split key
// names: the relation's own (a table), or, for a view, that of the one
// column of the same name among those the view reads.
const histogramSQL = `WITH rel AS (SELECT $1::regclass AS oid),
cols AS (
  SELECT a.attrelid, a.attname FROM pg_attribute a, rel
  WHERE a.attrelid = rel.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
  UNION
  SELECT a.attrelid, a.attname FROM rel, pg_rewrite r
  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  WHERE r.ev_class = rel.oid AND d.refobjid <> rel.oid AND a.attname = $2 AND NOT a.attisdropped
)
SELECT c.oid::int8, b.v FROM cols
JOIN pg_class c ON c.oid = cols.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = cols.attname
CROSS JOIN LATERAL unnest(s.histogram_bounds::text::text[]) WITH ORDINALITY AS b(v, i)
WHERE s.histogram_bounds IS NOT NULL AND NOT s.inherited
ORDER BY c.oid, b.i`

// histogram cuts the key at the planner's histogram bounds, when the key
// is a column whose statistics the planner has; else it is not cut.
func (c *cutter) histogram(ctx context.Context) ([]string, error) {
	col, err := query.ParseColumn(c.plan.key)
	if err != nil {
		c.how, c.uncut = "not a column with statistics, nor a number, date or timestamp", true
		return nil, nil
	}
	var bounds []string
	var rel int64 = -1
	tables := 0
	err = c.snap.Query(ctx, histogramSQL, []string{c.spec.Relation.String(), col}, func(v [][]byte) error {
		var oid int64
		_, _ = fmt.Sscan(string(v[0]), &oid)
		if oid != rel {
			rel, tables = oid, tables+1
		}
		if v[1] != nil {
			bounds = append(bounds, string(v[1]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if tables != 1 || len(bounds) < 2 {
		c.how, c.uncut = "no statistics for its column: ANALYZE the table, or split by a number, date or timestamp", true
		return nil, nil
	}
	c.how = "histogram of the key's column (pg_stats)"
	return pickCuts(bounds, c.parts), nil
}

// pickCuts picks n-1 cuts spread evenly among the histogram's inner
// bounds, in order, without repeats.
func pickCuts(bounds []string, n int) []string {
	var cuts []string
	m := len(bounds) - 1
	for i := 1; i < n; i++ {
		b := bounds[(i*m+n/2)/n]
		if len(cuts) == 0 || cuts[len(cuts)-1] != b {
			cuts = append(cuts, b)
		}
	}
	return cuts
}
