package pushdown

import (
	"encoding/json"
	"math/rand"
	"strings"

	"github.com/fraiseql/fraise/internal/filter"
)

// The generators of the differential tests: JSON documents holding every
// type at every path the expressions read, and expressions from the
// grammar Analyze translates, with projections after them.

// scalarPool are the values a document holds at a path, as JSON text:
// every type, numbers float64 rounds or saturates, strings whose order
// differs between code points and a collation (é < f and Z > a under
// ICU en-US, the reverse by code point), NFC and NFD, escapes.
var scalarPool = []string{
	`null`, `true`, `false`,
	`0`, `-0`, `1`, `2`, `-1`, `1.10`, `1.1`, `0.1`, `1.0000000000000001`,
	`9223372036854775807`, `9223372036854775808`, `9007199254740993`,
	`1000000000000000000000000000000`, `1e30`, `1e300`, `1e400`, `-1e400`, `1e-400`, `2.5E-3`,
	`""`, `"a"`, `"A"`, `"B"`, `"Z"`, `"f"`, `"é"`, `"e` + "\u0301" + `"`, `"\u00e9"`, `"ä"`, `"_x"`,
	`"ab"`, `"a b"`, `"😀"`, `"1"`, `"null"`,
	`[]`, `[1]`, `["a"]`, `[null]`, `[{"b": 1}]`, `{}`,
}

// topKeys and innerKeys are the keys documents and expressions use.
var (
	topKeys   = []string{"a", "b", "c", "k-1", "x"}
	innerKeys = []string{"b", "c", "d", "k-1"}
)

// nonObjectRoots are rows that are not objects.
var nonObjectRoots = []string{`[]`, `[{"a": 1}]`, `[1, "a"]`, `"a"`, `"é"`, `1`, `1.10`, `null`, `true`, `false`, `{}`}

// genDoc returns a document's JSON text, or "" for an SQL NULL row.
func genDoc(r *rand.Rand) string {
	switch n := r.Intn(100); {
	case n < 3:
		return ""
	case n < 13:
		return nonObjectRoots[r.Intn(len(nonObjectRoots))]
	}
	return genObject(r, topKeys, 0)
}

func genObject(r *rand.Rand, keys []string, depth int) string {
	var parts []string
	for _, k := range keys {
		if r.Intn(5) == 0 {
			continue // absent
		}
		kb, _ := json.Marshal(k)
		sep := ":"
		if r.Intn(4) == 0 {
			sep = " : " // the json column keeps its spacing
		}
		parts = append(parts, string(kb)+sep+genValue(r, depth))
	}
	r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return "{" + strings.Join(parts, ", ") + "}"
}

func genValue(r *rand.Rand, depth int) string {
	if depth < 2 && r.Intn(10) < 4 {
		return genObject(r, innerKeys, depth+1)
	}
	return scalarPool[r.Intn(len(scalarPool))]
}

// Expressions' parts.
var (
	exprPaths = []string{`.`, `.a`, `.b`, `.c`, `."k-1"`, `.x`, `.a.b`, `.a.c`, `.b.c`, `.c.d`, `.a.b.c`, `.a."k-1"`, `.["b"]`, `.a.d.b`}
	exprLits  = []string{
		`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `2`, `1.10`, `0.1`, `1.0000000000000001`,
		`9223372036854775808`, `9007199254740992`, `1000000000000000000000000000000`, `1e300`, `1e-300`,
		`"a"`, `"A"`, `"Z"`, `"é"`, `"f"`, `"e\u0301"`, `"😀"`, `"B"`, `"ä"`, `""`, `"ab"`, `"_x"`,
		`$s`, `$z`, `$n`, `$big`, `$nul`,
	}
	exprOps   = []string{"==", "!=", "<", "<=", ">", ">="}
	hasKeys   = []string{"a", "b", "c", "d", "k-1"}
	exprTails = []string{
		`{a, b: .c.d}`, `[.a, .b]`, `.a // "d"`, `.a.b`, `{x: .a.b, k: ."k-1"}`, `.c`, `[.a, .b.c] | length`,
		`.a | type`, `{b}`, `."k-1" // .x`,
	}
)

// exprVars are the --arg and --argjson values the expressions use.
func exprVars() []filter.Var {
	vars := []filter.Var{{Name: "s", Value: "é"}, {Name: "z", Value: "Z"}}
	for _, v := range [][2]string{{"n", "1.10"}, {"big", "9223372036854775808"}, {"nul", "null"}} {
		val, err := filter.DecodeJSON(v[1])
		if err != nil {
			panic(err)
		}
		vars = append(vars, filter.Var{Name: v[0], Value: val})
	}
	return vars
}

func pick(r *rand.Rand, s []string) string { return s[r.Intn(len(s))] }

// genCond returns a condition from the translated grammar.
func genCond(r *rand.Rand, depth int) string {
	n := r.Intn(100)
	if depth >= 2 && n >= 75 {
		n = r.Intn(75)
	}
	switch {
	case n < 30:
		return pick(r, exprPaths) + " " + pick(r, exprOps) + " " + pick(r, exprLits)
	case n < 40:
		return pick(r, exprLits) + " " + pick(r, exprOps) + " " + pick(r, exprPaths)
	case n < 50:
		k, _ := json.Marshal(pick(r, hasKeys))
		if r.Intn(2) == 0 {
			return "has(" + string(k) + ")"
		}
		return pick(r, exprPaths) + " | has(" + string(k) + ")"
	case n < 65:
		return pick(r, exprPaths)
	case n < 75:
		return "(" + genCond(r, depth+1) + ") | not"
	case n < 88:
		return "(" + genCond(r, depth+1) + ") and (" + genCond(r, depth+1) + ")"
	}
	return "(" + genCond(r, depth+1) + ") or (" + genCond(r, depth+1) + ")"
}

// genExpr returns an expression: one or two selects and maybe a
// projection after them, or a projection alone.
func genExpr(r *rand.Rand) string {
	if r.Intn(10) == 0 {
		return pick(r, exprTails)
	}
	e := "select(" + genCond(r, 0) + ")"
	if r.Intn(5) == 0 {
		e += " | select(" + genCond(r, 0) + ")"
	}
	if r.Intn(2) == 0 {
		e += " | " + pick(r, exprTails)
	}
	return e
}
