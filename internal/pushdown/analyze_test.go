package pushdown

import (
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/filter"
)

// analyze compiles expr with vars (name, --arg string or --argjson text
// when it starts with "json:") and analyzes it.
func analyze(t *testing.T, expr string, vars ...[2]string) *Plan {
	t.Helper()
	var fv []filter.Var
	for _, v := range vars {
		var val any = v[1]
		if text, ok := strings.CutPrefix(v[1], "json:"); ok {
			var err error
			if val, err = filter.DecodeJSON(text); err != nil {
				t.Fatalf("DecodeJSON(%q): %v", text, err)
			}
		}
		fv = append(fv, filter.Var{Name: v[0], Value: val})
	}
	f, err := filter.Compile(expr, filter.Options{Vars: fv})
	if err != nil {
		t.Fatalf("Compile(%q): %v", expr, err)
	}
	return Analyze(f)
}

func condStrings(p *Plan) []string {
	var s []string
	for _, c := range p.conds {
		s = append(s, c.String())
	}
	return s
}

// TestAnalyzePushes proves which select conditions Analyze translates and
// into what: paths, comparisons either way round, has, not, and/or,
// $variables from --arg and --argjson, and a chain of selects.
func TestAnalyzePushes(t *testing.T) {
	tests := []struct {
		expr string
		vars [][2]string
		want []string
	}{
		{`select(.a > 1)`, nil, []string{`.a > 1`}},
		{`select(.a.b == "x")`, nil, []string{`.a.b == "x"`}},
		{`select(."k-1" != null)`, nil, []string{`."k-1" != null`}},
		{`select(.["k"] <= -2.5)`, nil, []string{`.k <= -2.5`}},
		{`select(has("k"))`, nil, []string{`has("k")`}},
		{`select(.a | has("k"))`, nil, []string{`.a | has("k")`}},
		{`select(.a and (.b or .c))`, nil, []string{`(.a and (.b or .c))`}},
		{`select(.a | not)`, nil, []string{`(.a | not)`}},
		{`select(not)`, nil, []string{`(. | not)`}},
		{`select(.a == null)`, nil, []string{`.a == null`}},
		{`select(.a == true or .a == false)`, nil, []string{`(.a == true or .a == false)`}},
		{`select(.x < $v)`, [][2]string{{"v", "abc"}}, []string{`.x < "abc"`}},
		{`select(.x < $v)`, [][2]string{{"v", "json:1.10"}}, []string{`.x < 1.1`}},
		{`select(.x == $v)`, [][2]string{{"v", "json:null"}}, []string{`.x == null`}},
		{`select(.x >= $v)`, [][2]string{{"v", "json:9223372036854775808"}}, []string{`.x >= 9223372036854775808`}},
		{`select(1 < .a)`, nil, []string{`.a > 1`}},
		{`select("b" >= .a)`, nil, []string{`.a <= "b"`}},
		{`select(-1 == .a)`, nil, []string{`.a == -1`}},
		{`select(.a) | select(.b)`, nil, []string{`.a`, `.b`}},
		{`select(.a) | select(.b > 2) | {a, b}`, nil, []string{`.a`, `.b > 2`}},
		{`select(.a > 1e300)`, nil, []string{`.a > 1e+300`}},
		// Numbers as gojq reads them: a decimal as float64, in its
		// shortest text; an integer exactly.
		{`select(.a > 1e-20000)`, nil, []string{`.a > 0`}},
		{`select(.a > 0.30000000000000004)`, nil, []string{`.a > 0.30000000000000004`}},
		{`select(.a == 123456789012345678901234567890)`, nil, []string{`.a == 123456789012345678901234567890`}},
		{`select(.a) | select(.b % 2 == 0)`, nil, []string{`.a`}},
	}
	for _, tt := range tests {
		p := analyze(t, tt.expr, tt.vars...)
		if got := condStrings(p); strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
			t.Errorf("%s %v: pushed %q, want %q (notes %q)", tt.expr, tt.vars, got, tt.want, p.Notes())
		}
	}
}

// TestAnalyzeRefuses proves that conditions Render could get wrong stay on
// the client, each with a note saying why (or, for a select that is not
// at the head, silently): arithmetic, definitions, array indexes, ?,
// variable bindings, numbers past 1e300 and non-literal $variables.
func TestAnalyzeRefuses(t *testing.T) {
	tests := []struct {
		expr string
		vars [][2]string
		note string // a note must contain it; "" when none is required
	}{
		{`select(.id % 3 == 0)`, nil, "is not translated"},
		{`def f: .; select(.a)`, nil, "defines functions"},
		{`select(.a[0] > 1)`, nil, "is not translated"},
		{`select(.a? > 1)`, nil, "is not translated"},
		{`select(.a?)`, nil, "is not translated"},
		{`select(.[] > 1)`, nil, "is not translated"},
		{`. as $x | select(.a)`, nil, ""},
		{`select(.a as $x | $x)`, nil, "is not translated"},
		{`select(.a > 1e301)`, nil, "is not translated"},
		{`select(.a < -1e400)`, nil, "is not translated"},
		{`select(.a == $v)`, [][2]string{{"v", "json:1e301"}}, "is not translated"},
		{`select(.a == $v)`, [][2]string{{"v", `json:{"a":1}`}}, "is not translated"},
		{`select(.a == $v)`, [][2]string{{"v", `json:[1]`}}, "is not translated"},
		{`select(.a == .b)`, nil, "is not translated"},
		{`select(.a == "\u0000")`, nil, "is not translated"},
		{`select(.a == $v)`, [][2]string{{"v", "x\xffy"}}, "is not translated"},
		{`select(."k\u0000" == 1)`, nil, "is not translated"},
		{`select(.a == "x\(.b)")`, nil, "is not translated"},
		{`select(.a | length > 1)`, nil, "is not translated"},
		{`select(has(.k))`, nil, "is not translated"},
		{`select(.a, .b)`, nil, "is not translated"},
		{`select(empty)`, nil, "is not translated"},
		{`.a | select(.b)`, nil, ""},
	}
	for _, tt := range tests {
		p := analyze(t, tt.expr, tt.vars...)
		if got := condStrings(p); len(got) != 0 {
			t.Errorf("%s: pushed %q, want nothing (notes %q)", tt.expr, got, p.Notes())
		}
		if tt.note != "" && !strings.Contains(strings.Join(p.Notes(), "\n"), tt.note) {
			t.Errorf("%s: notes %q, want one containing %q", tt.expr, p.Notes(), tt.note)
		}
	}
}

// TestRenderNoUTF8 proves that nothing is pushed on a server whose
// encoding is not UTF8, nor on a json column, each with its note, and
// that on a jsonb column of a UTF8 server the parameters start at
// FirstParam.
func TestRenderNoUTF8(t *testing.T) {
	p := analyze(t, `select(.b > 1) | select(.a > "x") | select(.c)`)
	if n, params, notes := p.Render(Target{Column: "data", JSONB: true, UTF8: false, FirstParam: 3}); n != nil || params != nil || len(notes) != 1 || !strings.Contains(notes[0], "not UTF8") {
		t.Errorf("not UTF8: narrowing %+v, params %q, notes %q; want none, and a note on the encoding", n, params, notes)
	}
	if n, params, notes := p.Render(Target{Column: "data", JSONB: false, UTF8: true, FirstParam: 3}); n != nil || params != nil || len(notes) != 1 || !strings.Contains(notes[0], "json") {
		t.Errorf("json: narrowing %+v, params %q, notes %q; want none, and a note on json", n, params, notes)
	}
	n, params, _ := p.Render(Target{Column: "data", JSONB: true, UTF8: true, FirstParam: 3})
	if n == nil || !n.DropsRows || len(n.Notes) != 3 || len(params) == 0 {
		t.Fatalf("UTF8 jsonb: narrowing %+v, params %q; want three conditions", n, params)
	}
	if !strings.Contains(n.Select, "$3::") || strings.Contains(n.Select, "$1::") {
		t.Errorf("parameters must start at $3: %s", n.Select)
	}
}

// TestRenderEmpty proves that an expression observing whole rows with
// nothing pushed gives no narrowing at all.
func TestRenderEmpty(t *testing.T) {
	p := analyze(t, `.`)
	if !p.Empty() {
		t.Fatalf("plan for . is not empty: %q", p.Notes())
	}
	if n, params, _ := p.Render(Target{Column: "data", JSONB: true, UTF8: true, FirstParam: 1}); n != nil || params != nil {
		t.Errorf("Render of an empty plan: %+v %q", n, params)
	}
}
