package pushdown

import (
	"fmt"
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
	// JSONB is set for a jsonb column, clear for json: nothing is pushed
	// on json (see jsonNote).
	JSONB bool
	// UTF8 is set when the server's encoding is UTF8. Otherwise nothing
	// is pushed: a key or string the encoding cannot hold would fail the
	// statement, and strings would not compare by code point.
	UTF8 bool
	// FirstParam is the number of the first parameter the plan may bind
	// ($FirstParam): the user's come before.
	FirstParam int
	// Width is the planner's estimate of a row's bytes, 0 when unknown:
	// below MinProjectWidth the projection is not pushed.
	Width int64
}

// jsonNote says why nothing is pushed on a json column: the server
// parses a json value's text again for each operator applied to it (on
// v_medium_json, 1.7 KB values, select(.id > 100000) pushed took 4.6 s
// against 0.7 s sent whole, {id, email: .user.email} 13 s against 2.3 s),
// where sending json costs it nearly nothing.
const jsonNote = "none: the column is json, whose text the server parses again for every operator applied to it: narrowing costs it more than sending the rows (a view casting the column to jsonb has --jq pushed down)"

// MinProjectWidth is the planner's row width from which the projection
// is pushed. Building even a small object costs the server about as much
// as writing a 250-byte document as text (bench v_small: 1.6 s against
// 1.0 s for a million rows), while it saves five times that on 1.7 KB
// ones (v_medium); the planner's width is that of the column's
// statistics, or a default of 32 bytes without them, which is taken as
// unknown.
const MinProjectWidth = 512

// defaultWidth is the planner's width for a json or jsonb column without
// statistics.
const defaultWidth = 32

// Render writes the plan for t: the narrowing, the parameters it binds
// (from $t.FirstParam on) and notes on what it pushes and leaves out (the
// plan's Notes among them). A plan that narrows nothing gives a nil
// narrowing.
func (p *Plan) Render(t Target) (*query.Narrowing, []string, []string) {
	if !t.JSONB {
		return nil, nil, []string{jsonNote}
	}
	if !t.UTF8 {
		return nil, nil, []string{"none: the server's encoding is not UTF8, which every key and string of the expression may not fit"}
	}
	w := &writer{t: t, params: map[string]int{}}
	col := query.QuoteIdent(t.Column)
	n := &query.Narrowing{Select: col}
	notes := slices.Clone(p.notes)
	if p.observed != nil {
		why := projectable(p.observed, 0)
		switch {
		case why != "":
			notes = append(notes, "projection: not pushed, "+why)
		case t.Width > defaultWidth && t.Width < MinProjectWidth:
			notes = append(notes, "projection: not pushed, the planner puts rows at "+strconv.FormatInt(t.Width, 10)+" bytes: building a narrower value costs the server more than sending rows under "+strconv.Itoa(MinProjectWidth))
		default:
			n.Select = w.projection(col, p.observed)
			n.Notes = append(n.Notes, "fraise --jq pushdown: only "+describe(p.observed))
			notes = append(notes, "projection: the server sends only "+describe(p.observed))
		}
	}
	// select(A) | select(B) certainly drops a row when A certainly drops
	// it, or when A certainly keeps it and B certainly drops it: B's
	// condition alone could drop a row on which A fails.
	var before, drops []string
	for _, c := range p.conds {
		tc, d := w.cond(c)
		if len(before) > 0 {
			d = "(" + strings.Join(before, " AND ") + " AND " + d + ")"
		}
		before = append(before, tc)
		drops = append(drops, d)
		n.Notes = append(n.Notes, "fraise --jq pushdown: a row select("+c.String()+") certainly drops is sent as NULL")
	}
	if len(drops) > 0 {
		// Every D is true or false, never NULL (see cond).
		n.Select = "CASE WHEN " + strings.Join(drops, " OR ") + " THEN NULL ELSE COALESCE(" + n.Select + ", 'null') END"
		n.DropsRows = true
	}
	if len(n.Notes) == 0 {
		return nil, nil, notes
	}
	return n, w.list, notes
}

// maxPairs is the most keys one jsonb_build_object takes: a function
// takes at most 100 arguments.
const maxPairs = 50

// projectable says why o cannot be narrowed on the server, "" when it can:
// a key a server cannot take as text (jsonb holds none such, but the
// statement would fail), or a path deeper than maxPath.
func projectable(o *filter.Observed, depth int) string {
	if o.Whole {
		return ""
	}
	if depth > maxPath {
		return fmt.Sprintf("it observes paths deeper than %d keys", maxPath)
	}
	for k, c := range o.Keys {
		if !sendable(k) {
			return "it observes a key holding NUL or invalid UTF-8"
		}
		if why := projectable(c, depth+1); why != "" {
			return why
		}
	}
	return ""
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

// typeOf is the type of the jsonb value e, as jsonb_typeof names it.
func (w *writer) typeOf(e string) string { return "jsonb_typeof(" + e + ")" }

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

// projection writes the row col narrowed to o. Most rows hold every
// observed key: for them one json_build_object of the observed values is
// cheapest (building json text, not jsonb); the others take the exact
// narrowing (project).
func (w *writer) projection(col string, o *filter.Observed) string {
	exact := w.project(col, o)
	var present []string
	build, ok := w.buildAll(col, o, nil, &present)
	if !ok {
		return exact
	}
	exact = "(" + exact + ")::json"
	return "CASE WHEN " + strings.Join(present, " AND ") + " THEN " + build + " ELSE " + exact + " END"
}

// buildAll writes the json object of the observed values below p,
// assuming every observed key present, and adds the conditions that say
// they are to present (a key read with -> on something that is not an
// object gives NULL, so they also say that every value on the way is an
// object). It is not ok when some object is observed without a key.
func (w *writer) buildAll(col string, o *filter.Observed, p path, present *[]string) (string, bool) {
	if o.Whole {
		v := w.at(col, p)
		*present = append(*present, v+" IS NOT NULL")
		return v, true
	}
	if len(o.Keys) == 0 || len(o.Keys) > maxPairs {
		return "", false
	}
	var args []string
	for _, k := range slices.Sorted(maps.Keys(o.Keys)) {
		v, ok := w.buildAll(col, o.Keys[k], append(slices.Clip(p), k), present)
		if !ok {
			return "", false
		}
		args = append(args, w.param(k, "text"), v)
	}
	return "json_build_object(" + strings.Join(args, ", ") + ")", true
}

// project writes the value at e narrowed to o: in an object, the
// observed keys only, absent keys absent (deleted from the object built);
// anything else whole.
func (w *writer) project(e string, o *filter.Observed) string {
	if o.Whole {
		return e
	}
	keys := slices.Sorted(maps.Keys(o.Keys))
	isObject := w.typeOf(e) + " = 'object'"
	if len(keys) == 0 {
		return "CASE WHEN " + isObject + " THEN '{}'::jsonb ELSE " + e + " END"
	}
	var builds, args, absent []string
	for i, k := range keys {
		v := w.field(e, k)
		args = append(args, w.param(k, "text"), w.project(v, o.Keys[k]))
		absent = append(absent, "CASE WHEN "+v+" IS NULL THEN "+w.param(k, "text")+" END")
		if len(args) == 2*maxPairs || i == len(keys)-1 {
			builds = append(builds, "jsonb_build_object("+strings.Join(args, ", ")+")")
			args = nil
		}
	}
	build := strings.Join(builds, " || ")
	return "CASE WHEN " + isObject + " THEN " + build + " - ARRAY[" + strings.Join(absent, ", ") + "]::text[] ELSE " + e + " END"
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
	return "(" + v + " = 'false'::jsonb)"
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
	for _, a := range arms {
		if a.sql != by[rankNull] {
			b.WriteString(" WHEN '" + a.name + "' THEN " + a.sql)
		}
	}
	if b.Len() == 0 {
		// Every type gives the same (.a >= null), but a CASE needs a WHEN;
		// and v stays written, for the parameters it binds are sent.
		b.WriteString(" WHEN 'null' THEN " + by[rankNull])
	}
	return "CASE " + w.typeOf(v) + b.String() + " ELSE " + by[rankNull] + " END"
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
	l := w.param(c.l.text, "numeric")
	margin := "(abs(" + l + ") * 1e-14 + 1e-300)"
	if mutation == "margin" {
		margin = "0"
	}
	// The row's number is only compared, never computed with: a huge one
	// would overflow numeric's arithmetic.
	below := n + " < (" + l + " - " + margin + ")" // certainly below l for jq
	above := n + " > (" + l + " + " + margin + ")" // certainly above l for jq
	switch c.op {
	case gojq.OpLt:
		return below, n + " >= " + l
	case gojq.OpLe:
		return n + " <= " + l, above
	case gojq.OpGt:
		return above, n + " <= " + l
	case gojq.OpGe:
		return n + " >= " + l, below
	case gojq.OpEq:
		return n + " = " + l, "(" + below + " OR " + above + ")"
	}
	return "(" + below + " OR " + above + ")", n + " = " + l
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
