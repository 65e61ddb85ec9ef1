package pushdown

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

var (
	diffSeed  = flag.Int64("pushdown.seed", 1, "seed of the generated expressions of TestDifferential")
	diffExprs = flag.Int("pushdown.exprs", 300, "number of generated expressions of TestDifferential")
)

// corpus returns n generated expressions from seed.
func corpus(seed int64, n int) []string {
	r := rand.New(rand.NewSource(seed))
	exprs := make([]string, n)
	for i := range exprs {
		exprs[i] = genExpr(r)
	}
	return exprs
}

// TestDifferential proves, in the harness's database and in one whose
// default collation is ICU en-US, that for ~300 generated expressions
// over generated documents (json and jsonb columns, and a json-only table
// of duplicate keys, \u0000 and lone surrogates) the output and the
// failing rows with pushdown are exactly those without it; and that the
// narrowing is not vacuous (rows are really dropped).
func TestDifferential(t *testing.T) {
	for _, name := range []string{pgtest.Database, icuDatabase} {
		t.Run(name, func(t *testing.T) {
			d := openDB(t, name)
			exprs := corpus(*diffSeed, *diffExprs)
			vars := exprVars()
			var pushed, dropped, fails int
			for i, expr := range exprs {
				cols := []column{docsJSON, docsJSONB}
				if i%3 == 0 {
					cols = append(cols, jsonOnly)
				}
				for _, c := range cols {
					v, err := differential(d, c, expr, vars, true)
					if err != nil {
						t.Fatalf("seed %d, expression %d %s, column %s.%s: %v", *diffSeed, i, expr, c.table, c.name, err)
					}
					if v.pushed {
						pushed++
					}
					dropped += v.dropped
					if v.diff != "" {
						if fails++; fails <= 10 {
							t.Errorf("seed %d, expression %d `%s`, column %s.%s: %s", *diffSeed, i, expr, c.table, c.name, v.diff)
						}
					}
				}
			}
			t.Logf("seed %d: %d expressions, %d runs with a select pushed, %d rows not sent, %d differences", *diffSeed, len(exprs), pushed, dropped, fails)
			// Only the jsonb column is narrowed (nothing is pushed on json).
			if *diffExprs >= 100 && (pushed < len(exprs)/2 || dropped == 0) {
				t.Errorf("the differential is nearly vacuous: %d runs pushed a select, %d rows were not sent", pushed, dropped)
			}
		})
	}
}

// TestICUCollation proves that the ICU database really orders strings
// otherwise than by code point ('é' < 'f', 'Z' > 'a'), so that a string
// comparison pushed without COLLATE "C" would drop rows there.
func TestICUCollation(t *testing.T) {
	d := openDB(t, icuDatabase)
	ctx := context.Background()
	conn, err := wire.Connect(ctx, d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got []string
	// The ICU locale's column is daticulocale before PostgreSQL 17,
	// datlocale from 17.
	err = conn.QueryText(ctx, `SELECT ('é' < 'f')::text, ('Z' > 'a')::text, ('é' COLLATE "C" < 'f')::text, datcollate || '/' || coalesce(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale', '') FROM pg_database AS d WHERE datname = current_database()`, nil,
		func(v [][]byte) error {
			for _, x := range v {
				got = append(got, string(x))
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"true", "true", "false", "C/en-US"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("in %s: é<f, Z>a, é<f by code point, collation: %q, want %q", icuDatabase, got, want)
	}
}

// mutationCases are expressions and the mutation each must expose, with
// the documents of pd_docs that make it so: "é" > "f" and "Z" < "a" by
// code point (the reverse under ICU), "x" > 1 across types, and 1 equal
// to 1.0000000000000001 once both are rounded to float64.
var mutationCases = map[string][]string{
	"collate": {`select(.a > "f")`, `select(.a < "a")`, `select(.c >= "f") | .c`},
	"types":   {`select(.a > 1)`, `select(.a != null)`, `select(.a.b < "a")`},
	"margin":  {`select(.a == 1.0000000000000001)`, `select(.a >= 1.0000000000000001)`, `select(.a.b <= 0.1)`},
}

// TestMutationsCaught proves that the differential can fail: each
// deliberate break of the translation (the mutation variable) makes it
// find a difference (the collation one on the ICU database), while the
// same expressions unbroken give none.
func TestMutationsCaught(t *testing.T) {
	vars := exprVars()
	for _, m := range []string{"collate", "types", "margin"} {
		t.Run(m, func(t *testing.T) {
			name := pgtest.Database
			if m == "collate" {
				name = icuDatabase
			}
			d := openDB(t, name)
			exprs := append(mutationCases[m], corpus(*diffSeed, 30)...)
			found := func() (n int, first string) {
				for _, expr := range exprs {
					for _, c := range []column{docsJSON, docsJSONB} {
						v, err := differential(d, c, expr, vars, true)
						if err != nil {
							n++ // a statement the server refuses differs too
							v.diff = err.Error()
						} else if v.diff != "" {
							n++
						}
						if v.diff != "" && first == "" {
							first = fmt.Sprintf("`%s` on %s: %s", expr, c.name, v.diff)
						}
					}
				}
				return n, first
			}
			if n, first := found(); n != 0 {
				t.Fatalf("without the mutation, %d differences: %s", n, first)
			}
			mutation = m
			defer func() { mutation = "" }()
			n, first := found()
			if n == 0 {
				t.Fatalf("mutation %q: the differential found no difference", m)
			}
			t.Logf("mutation %q: %d differences, the first %s", m, n, first)
		})
	}
}

// TestErrorsAndOddRows proves that rows jq fails on (indexing a string,
// an array or a number; has on a non-object), SQL NULL rows and roots
// that are not objects are all still sent by a pushed select: the
// failures are the same rows with the same messages, the differential
// finds nothing, and each case really fails on some row and really
// narrows.
func TestErrorsAndOddRows(t *testing.T) {
	d := openDB(t, pgtest.Database)
	tests := []struct {
		expr string
		skip string // a failing row's message must contain it; "" when no row fails
		out  string // the output must contain it
	}{
		{`select(.a.b > 1)`, "expected an object but got: string", ""},
		{`select(.a.b)`, "expected an object but got: number", ""},
		{`select(.a | has("b"))`, "has(", ""},
		{`select(has("a"))`, "has(", ""},
		{`select(.a == 1)`, "expected an object but got: array", ""},
		{`select(.a.b.c != null) | .a.b`, "expected an object but got: array", ""},
		{`select(.a == 1) | .a.b`, "expected an object but got: number", ""},
		{`select(. == null)`, "", "null\n"},
		{`select(.a == null) | .x`, "expected an object but got: string", ""},
		{`select(type != "object")`, "", "["},
		{`select(. > {})`, "", ""},
		{`select(. < {}) | type`, "", "\"array\""},
	}
	for _, tt := range tests {
		for _, c := range []column{docsJSON, docsJSONB} {
			v, err := differential(d, c, tt.expr, nil, true)
			if err != nil {
				t.Fatalf("%s on %s: %v", tt.expr, c.name, err)
			}
			if v.diff != "" {
				t.Errorf("%s on %s: %s", tt.expr, c.name, v.diff)
			}
			if all := strings.Join(v.skips, "\n"); tt.skip != "" && !strings.Contains(all, tt.skip) {
				t.Errorf("%s on %s: no failing row says %q; failures: %.300s", tt.expr, c.name, tt.skip, all)
			}
			if tt.skip == "" && len(v.skips) > 0 {
				t.Errorf("%s on %s: rows fail: %.300q", tt.expr, c.name, v.skips)
			}
			if !strings.Contains(v.out, tt.out) {
				t.Errorf("%s on %s: output %.200q lacks %q", tt.expr, c.name, v.out, tt.out)
			}
			if c.jsonb && tt.expr != `select(type != "object")` && !strings.Contains(tt.expr, "{}") && v.dropped == 0 {
				t.Errorf("%s on %s: nothing was narrowed", tt.expr, c.name)
			}
			if !c.jsonb && (v.pushed || v.dropped > 0) {
				t.Errorf("%s on %s: narrowed a json column", tt.expr, c.name)
			}
		}
	}
}

var fuzzTable sync.Once

// FuzzPushdown checks the property on generated and fuzzed documents: a
// seed makes eight documents and an expression, doc adds one more (used
// when the server takes it as json, and as jsonb when it can), and the
// output with pushdown must be that without, on both columns.
func FuzzPushdown(f *testing.F) {
	f.Add(int64(1), `{"a": "é", "b": {"c": 1.0000000000000001}}`)
	f.Add(int64(2), `{"a": 1, "a": "x"}`)
	f.Add(int64(3), `[{"a": 1}]`)
	f.Add(int64(4), `{"a": {"b": "\u0000"}}`)
	f.Add(int64(5), `{"x": 9223372036854775808, "c": {"d": 1e400}}`)
	f.Add(int64(6), `null`)
	f.Fuzz(func(t *testing.T, seed int64, doc string) {
		if len(doc) > 4000 || !utf8.ValidString(doc) || strings.IndexByte(doc, 0) >= 0 || !json.Valid([]byte(doc)) {
			doc = ""
		}
		r := rand.New(rand.NewSource(seed))
		docs := []string{doc}
		for range 8 {
			docs = append(docs, genDoc(r))
		}
		expr := genExpr(r)
		d := openDB(t, pgtest.Database)
		srv := pgtest.Require(t)
		table := fmt.Sprintf("pd_fuzz_%d", os.Getpid())
		var b strings.Builder
		fuzzTable.Do(func() {
			b.WriteString(`CREATE OR REPLACE FUNCTION pd_try_json(t text) RETURNS json LANGUAGE plpgsql AS $$ BEGIN RETURN t::json; EXCEPTION WHEN others THEN RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION pd_try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN NULL; END $$;
`)
			fmt.Fprintf(&b, "DROP TABLE IF EXISTS %s;\nCREATE TABLE %[1]s (id int PRIMARY KEY, j json, b jsonb);\nGRANT SELECT ON %[1]s TO PUBLIC;\n", table)
		})
		fmt.Fprintf(&b, "TRUNCATE %s;\nINSERT INTO %[1]s SELECT id, pd_try_json(t), pd_try_jsonb(t) FROM (VALUES ", table)
		for i, x := range docs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%d, %s)", i+1, sqlText(x))
		}
		b.WriteString(") v(id, t);\n")
		if _, err := srv.Psql(context.Background(), b.String()); err != nil {
			t.Fatal(err)
		}
		for _, c := range []column{{table, "j", false}, {table, "b", true}} {
			v, err := differential(d, c, expr, exprVars(), false)
			if err != nil {
				t.Fatalf("seed %d doc %q `%s` on %s: %v", seed, doc, expr, c.name, err)
			}
			if v.diff != "" {
				t.Errorf("seed %d doc %q `%s` on %s: %s", seed, doc, expr, c.name, v.diff)
			}
		}
	})
}
