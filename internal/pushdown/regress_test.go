package pushdown

import (
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// regress runs the differential for exprs on both columns of pd_docs and
// fails on a refused statement or a difference; narrows says whether some
// row of the jsonb column must be narrowed away, so that the case is not
// vacuous (nothing is pushed on json).
func regress(t *testing.T, exprs []string, narrows bool) {
	t.Helper()
	d := openDB(t, pgtest.Database)
	for _, expr := range exprs {
		for _, c := range []column{docsJSON, docsJSONB, jsonOnly} {
			v, err := differential(d, c, expr, exprVars(), true)
			if err != nil {
				t.Errorf("`%s` on %s.%s: %v", expr, c.table, c.name, err)
				continue
			}
			if v.diff != "" {
				t.Errorf("`%s` on %s.%s: %s", expr, c.table, c.name, v.diff)
			}
			if narrows && c.jsonb && v.dropped == 0 {
				t.Errorf("`%s` on %s.%s: nothing was narrowed", expr, c.table, c.name)
			}
			if !c.jsonb && (v.pushed || v.dropped > 0) {
				t.Errorf("`%s` on %s.%s: narrowed a json column", expr, c.table, c.name)
			}
		}
	}
}

// TestComparisonDecidedByTypes proves that a comparison whose answer no
// type changes (anything >= null, nothing < null) is written as valid SQL:
// it used to give "CASE json_typeof(…) ELSE … END", which the server
// refuses, so that such a --jq failed where --no-pushdown ran.
func TestComparisonDecidedByTypes(t *testing.T) {
	regress(t, []string{`select(.c >= null)`, `select(.a.b < null)`, `select(null <= .x) | .x`}, false)
	regress(t, []string{`select(.a < null | not) | select(.b)`, `select((.c >= null) and .a)`}, true)
}

// TestLaterSelectKeepsRowsEarlierFails proves that in select(A) |
// select(B) the condition of B drops only rows A certainly keeps: it used
// to drop, alone, a row on which A fails (.a.b with .a an array; .x
// indexed on a root array), so the error jq reports on that row vanished
// with pushdown.
func TestLaterSelectKeepsRowsEarlierFails(t *testing.T) {
	regress(t, []string{
		`select(.a.b == "x" or .x) | select(.x != "A")`,
		`select(.a.b) | select(.c == null)`,
		`select(has("a")) | select(.x) | {x}`,
		`select(.c.d > 0) | select(.a.b | not) | select(.x)`,
	}, true)
}
