package pushdown

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/itchyny/gojq"
)

// mutation, set by tests only, breaks one rule of the translation, so
// that the differential tests can show they catch it: "collate" compares
// strings in the database's collation, "types" drops rows whose value is
// not of the literal's type, "margin" compares numbers exactly where
// float64 rounding could turn the answer.
var mutation string

// Target is the column a plan is written for.
type Target struct {
	// Column is the column's name, unquoted.
	Column string
	// JSONB is set for a jsonb column, clear for json.
	JSONB bool
	// UTF8 is set when the server's encoding is UTF8: strings are then
	// compared by code point with COLLATE "C"; otherwise string
	// comparisons stay on the client.
	UTF8 bool
	// FirstParam is the number of the first parameter the plan may bind
	// ($FirstParam): the user's come before.
	FirstParam int
}

// Render writes the plan for t: the narrowing, the parameters it binds
// (from $t.FirstParam on) and notes on what was left out. A plan that
// narrows nothing gives a nil narrowing.
func (p *Plan) Render(t Target) (*query.Narrowing, []string, []string) {
	w := &writer{t: t, params: map[string]int{}}
	col := query.QuoteIdent(t.Column)
	n := &query.Narrowing{}
	var notes []string
	if p.observed != nil {
		n.Select = w.guard(col, w.project(col, p.observed), col)
		n.SelectNote = "fraise --jq pushdown: only " + describe(p.observed)
	}
	for _, c := range p.conds {
		if !t.UTF8 && comparesStrings(c) {
			notes = append(notes, "selection: select("+c.String()+") stays on the client: the server's encoding is not UTF8, so its strings cannot be compared by code point")
			continue
		}
		_, d := w.cond(c)
		n.Where = append(n.Where, query.Narrow{
			SQL:  "(" + w.guard(col, "NOT COALESCE("+d+", false)", "TRUE") + ")",
			Note: "fraise --jq pushdown: rows select(" + c.String() + ") certainly drops",
		})
	}
	if n.Select == "" && len(n.Where) == 0 {
		return nil, nil, notes
	}
	return n, w.list, notes
}

// writer writes SQL for one target, binding keys and literals as
// parameters.
type writer struct {
	t      Target
	params map[string]int // "cast:value" → parameter number
	list   []string
}

// param binds value and returns its placeholder, cast.
func (w *writer) param(value, cast string) string {
	k := cast + ":" + value
	n, ok := w.params[k]
	if !ok {
		n = w.t.FirstParam + len(w.list)
		w.params[k] = n
		w.list = append(w.list, value)
	}
	return "$" + strconv.Itoa(n) + "::" + cast
}

// fn names a json function: jsonb_typeof or json_typeof.
func (w *writer) fn(name string) string {
	if w.t.JSONB {
		return "jsonb_" + name
	}
	return "json_" + name
}

func (w *writer) typeOf(e string) string { return w.fn("typeof") + "(" + e + ")" }

// guard returns e, except that, on a json column, a row whose text holds
// a \u escape gives instead: the server's json operators fail on a row
// holding \u0000 or a lone surrogate anywhere, where fraise streams it.
func (w *writer) guard(col, e, instead string) string {
	if w.t.JSONB {
		return e
	}
	return "CASE WHEN strpos(" + col + "::text, '\\u') > 0 THEN " + instead + " ELSE " + e + " END"
}

// field is e -> key.
func (w *writer) field(e, key string) string { return "(" + e + " -> " + w.param(key, "text") + ")" }

// at is the value at p in the row col (SQL NULL when a key is absent or
// the value there is not an object).
func (w *writer) at(col string, p path) string {
	e := col
	for _, k := range p {
		e = w.field(e, k)
	}
	return e
}

// project writes the value at e narrowed to o: in an object, the
// observed keys only, absent keys absent; anything else whole. On jsonb
// the absent keys are deleted from the object built; json has no such
// operator, so an object missing an observed key is sent whole.
func (w *writer) project(e string, o *filter.Observed) string {
	if o.Whole {
		return e
	}
	keys := slices.Sorted(maps.Keys(o.Keys))
	isObject := w.typeOf(e) + " = 'object'"
	if len(keys) == 0 {
		return "CASE WHEN " + isObject + " THEN '{}'::" + w.fn("")[:len(w.fn(""))-1] + " ELSE " + e + " END"
	}
	args := make([]string, 0, 2*len(keys))
	absent := make([]string, 0, len(keys))
	present := make([]string, 0, len(keys))
	for _, k := range keys {
		v := w.field(e, k)
		args = append(args, w.param(k, "text"), w.project(v, o.Keys[k]))
		absent = append(absent, "CASE WHEN "+v+" IS NULL THEN "+w.param(k, "text")+" END")
		present = append(present, v+" IS NOT NULL")
	}
	build := w.fn("build_object") + "(" + strings.Join(args, ", ") + ")"
	if w.t.JSONB {
		return "CASE WHEN " + isObject + " THEN " + build + " - ARRAY[" + strings.Join(absent, ", ") + "]::text[] ELSE " + e + " END"
	}
	return "CASE WHEN " + isObject + " AND " + strings.Join(present, " AND ") + " THEN " + build + " ELSE " + e + " END"
}

// cond writes SQL for c: t is true only when c certainly yields one true
// value and no error on the row, d only when it certainly yields one
// false or null value and no error. Neither is ever NULL.
func (w *writer) cond(c cond) (t, d string) {
	col := query.QuoteIdent(w.t.Column)
	switch c := c.(type) {
	case boolCond:
		ta, da := w.cond(c.a)
		tb, db := w.cond(c.b)
		if c.and {
			// false and _ is false without running _.
			return "(" + ta + " AND " + tb + ")", "(" + da + " OR (" + ta + " AND " + db + "))"
		}
		return "(" + ta + " OR (" + da + " AND " + tb + "))", "(" + da + " AND " + db + ")"
	case notCond:
		t, d := w.cond(c.c)
		return d, t
	case truthCond:
		v := w.at(col, c.p)
		ok := w.reaches(col, c.p)
		ts := [rankObject + 1]string{"FALSE", "FALSE", "TRUE", "TRUE", "TRUE", "TRUE", "TRUE"}
		ds := [rankObject + 1]string{"TRUE", "TRUE", "FALSE", "FALSE", "FALSE", "FALSE", "FALSE"}
		return w.sure(ok + " AND " + w.byType(v, ts)), w.sure(ok + " AND " + w.byType(v, ds))
	case hasCond:
		v := w.at(col, c.p)
		ok := w.reaches(col, c.p) + " AND " + w.typeOf(v) + " = 'object'"
		k := w.field(v, c.key)
		return w.sure(ok + " AND " + k + " IS NOT NULL"), w.sure(ok + " AND " + k + " IS NULL")
	case cmpCond:
		return w.compare(col, c)
	}
	panic("pushdown: unknown condition")
}

// sure turns a condition that may be NULL into one that is true only
// when it is.
func (w *writer) sure(e string) string { return "COALESCE(" + e + ", false)" }

// reaches is true when evaluating the path p on the row cannot fail:
// every value it indexes is an object, null or absent.
func (w *writer) reaches(col string, p path) string {
	if len(p) == 0 {
		return "TRUE"
	}
	var parts []string
	for i := range p {
		v := w.at(col, p[:i])
		parts = append(parts, "("+v+" IS NULL OR "+w.typeOf(v)+" IN ('object', 'null'))")
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// isFalse is true when the json value v is false.
func (w *writer) isFalse(v string) string {
	if w.t.JSONB {
		return "(" + v + " = 'false'::jsonb)"
	}
	return "(" + w.typeOf(v) + " = 'boolean' AND btrim(" + v + "::text) = 'false')"
}

// comparesStrings reports whether c compares a value with a string.
func comparesStrings(c cond) bool {
	switch c := c.(type) {
	case boolCond:
		return comparesStrings(c.a) || comparesStrings(c.b)
	case notCond:
		return comparesStrings(c.c)
	case cmpCond:
		return c.l.kind == litString
	}
	return false
}

// Ranks of jq's types, in its order; a boolean's is its literal kind's.
const (
	rankNull   = 0
	rankFalse  = 1
	rankTrue   = 2
	rankNumber = 3
	rankString = 4
	rankArray  = 5
	rankObject = 6
)

// compare writes PATH OP LITERAL: by jq's order of types when the value's
// type is not the literal's, else by value.
func (w *writer) compare(col string, c cmpCond) (t, d string) {
	v := w.at(col, c.p)
	rl := c.l.kind.rank()
	// outcome gives the condition for a value of rank r.
	outcome := func(r int) (string, string) {
		if r != rl || c.l.kind < litNumber {
			if mutation == "types" && r != rl {
				return "FALSE", "TRUE"
			}
			if ranked(r, rl, c.op) {
				return "TRUE", "FALSE"
			}
			return "FALSE", "TRUE"
		}
		if c.l.kind == litNumber {
			return w.numbers(v, c)
		}
		return w.strings(v, c)
	}
	var ts, ds [rankObject + 1]string
	for r := range ts {
		ts[r], ds[r] = outcome(r)
	}
	ok := w.reaches(col, c.p)
	return w.sure(ok + " AND " + w.byType(v, ts)), w.sure(ok + " AND " + w.byType(v, ds))
}

// byType writes the condition of each rank for the value v, an absent
// value being null: one CASE on its type, arms that give the same as an
// absent value left to ELSE.
func (w *writer) byType(v string, by [rankObject + 1]string) string {
	boolean := by[rankTrue]
	if by[rankFalse] != by[rankTrue] {
		boolean = "CASE WHEN " + w.isFalse(v) + " THEN " + by[rankFalse] + " ELSE " + by[rankTrue] + " END"
	}
	arms := []struct{ name, sql string }{
		{"null", by[rankNull]}, {"boolean", boolean}, {"number", by[rankNumber]},
		{"string", by[rankString]}, {"array", by[rankArray]}, {"object", by[rankObject]},
	}
	var b strings.Builder
	b.WriteString("CASE " + w.typeOf(v))
	for _, a := range arms {
		if a.sql != by[rankNull] {
			b.WriteString(" WHEN '" + a.name + "' THEN " + a.sql)
		}
	}
	b.WriteString(" ELSE " + by[rankNull] + " END")
	return b.String()
}

// ranked is jq's answer to a OP b for values of ranks a and b where the
// ranks decide (different ranks, or equal null or boolean values).
func ranked(a, b int, op gojq.Operator) bool {
	switch op {
	case gojq.OpEq:
		return a == b
	case gojq.OpNe:
		return a != b
	case gojq.OpLt:
		return a < b
	case gojq.OpLe:
		return a <= b
	case gojq.OpGt:
		return a > b
	}
	return a >= b
}

// numbers compares two numbers. jq (gojq) compares integers exactly and
// other numbers as float64, rounding each side to the nearest: rounding
// keeps a <= b, so an exact a <= b proves jq's; it may make a < b equal,
// so a strict answer is proven only past a margin wider than any
// rounding of numbers up to maxMagnitude (1e-14 of the literal, and 1e-300
// for those that round to zero).
func (w *writer) numbers(v string, c cmpCond) (t, d string) {
	n := "(" + v + ")::numeric"
	if !w.t.JSONB {
		n = "(" + v + ")::text::numeric"
	}
	l := w.param(c.l.text, "numeric")
	margin := "(abs(" + l + ") * 1e-14 + 1e-300)"
	if mutation == "margin" {
		margin = "0"
	}
	apart := func(a, b string) string { return "(" + a + " - " + b + " > " + margin + ")" }
	switch c.op {
	case gojq.OpLt:
		return apart(l, n), n + " >= " + l
	case gojq.OpLe:
		return n + " <= " + l, apart(n, l)
	case gojq.OpGt:
		return apart(n, l), n + " <= " + l
	case gojq.OpGe:
		return n + " >= " + l, apart(l, n)
	case gojq.OpEq:
		return n + " = " + l, "(abs(" + n + " - " + l + ") > " + margin + ")"
	}
	return "(abs(" + n + " - " + l + ") > " + margin + ")", n + " = " + l
}

// strings compares two strings by code point, as jq does: byte order of
// UTF-8, which COLLATE "C" is.
func (w *writer) strings(v string, c cmpCond) (t, d string) {
	s := "((" + v + " #>> '{}') COLLATE \"C\")"
	if mutation == "collate" {
		s = "(" + v + " #>> '{}')"
	}
	l := w.param(c.l.text, "text")
	ops := map[gojq.Operator][2]string{
		gojq.OpEq: {"=", "<>"}, gojq.OpNe: {"<>", "="},
		gojq.OpLt: {"<", ">="}, gojq.OpLe: {"<=", ">"},
		gojq.OpGt: {">", "<="}, gojq.OpGe: {">=", "<"},
	}[c.op]
	return s + " " + ops[0] + " " + l, s + " " + ops[1] + " " + l
}
