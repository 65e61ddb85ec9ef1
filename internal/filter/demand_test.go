package filter

import (
	"slices"
	"strings"
	"testing"

	"github.com/itchyny/gojq"
)

// String renders a demand for tests: * for whole, {k:…} for fields.
func (d *demand) String() string {
	if d.whole() {
		return "*"
	}
	keys := make([]string, 0, len(d.fields))
	for k := range d.fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + ":" + d.fields[k].String())
	}
	b.WriteByte('}')
	return b.String()
}

// TestAnalyzeDemand checks what the analysis asks for: the fields read,
// and the whole value wherever it could be observed.
func TestAnalyzeDemand(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`.`, `*`},
		{`.email`, `{email:*}`},
		{`.user.email`, `{user:{email:*}}`},
		{`."a b"`, `{a b:*}`},
		{`.["k"]`, `{k:*}`},
		{`select(.age > 30) | {id, email}`, `{age:*,email:*,id:*}`},
		{`select(.age > 30)`, `*`},
		{`{id, "x": .a.b, $v}`, `{a:{b:*},id:*}`},
		{`{(.k): .v}`, `{k:*,v:*}`},
		{`.a // .b`, `{a:*,b:*}`},
		{`.a, .b.c`, `{a:*,b:{c:*}}`},
		{`if .c then .a else .b end`, `{a:*,b:*,c:*}`},
		{`if .c then .a end`, `*`},
		{`try .a catch .`, `{a:*}`},
		{`.a?`, `{a:*}`},
		{`.a | length`, `{a:*}`},
		{`length`, `*`},
		{`keys`, `*`},
		{`.[]`, `*`},
		{`.tags[]`, `{tags:*}`},
		{`.tags[0]`, `{tags:*}`},
		{`.a[.i]`, `{a:*,i:*}`},
		{`.a[1:2]`, `{a:*}`},
		{`.a as $x | .b`, `{a:*,b:*}`},
		{`. as $x | .b`, `*`},
		{`def f: .a; f`, `*`},
		{`reduce .a[] as $x (0; . + $x)`, `*`},
		{`..`, `*`},
		{`@base64`, `*`},
		{`"\(.a)-\(.b.c)"`, `{a:*,b:{c:*}}`},
		{`[.a, .b]`, `{a:*,b:*}`},
		{`-.a`, `{a:*}`},
		{`.a = 1`, `*`},
		{`empty`, `{}`},
		{`1, "x", null`, `{}`},
		{`$ENV.HOME`, `{}`},
		{`.a.b | select(.c) | .d`, `{a:{b:{c:*,d:*}}}`},
		{`select(.a) | .`, `*`},
		{`.a | tostring`, `{a:*}`},
		{`.a and .b or (.c | not)`, `{a:*,b:*,c:*}`},
	} {
		q, err := gojq.Parse(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := analyze(q).String(); got != tc.want {
			t.Errorf("analyze(%s) = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// demandExprs are expressions whose output must not depend on whether the
// row is decoded in full or only in the parts they read.
var demandExprs = []string{
	`.email`, `.user.email`, `select(.age > 30) | {id, email}`, `.a.b`, `.a // .b`,
	`.a | length`, `.a | keys?`, `.a.b?`, `try .a.b catch .`, `.a[0]?`, `.a | .[]?`,
	`if .a then .b else .c end`, `.a as $x | .b`, `{a, b: .b.c}`, `"\(.a)"`, `[.a, .b] | tostring`,
	`select(.a) | .b`, `.a | select(.x) | .y`, `.a.b + 1`, `.a == .b`, `(.a | type), (.b | type)`,
}

// demandRows are rows of every shape the partial decode must get right.
var demandRows = []string{
	`{"a":{"b":1,"x":true,"y":"y"},"b":{"c":2},"c":3,"email":"e","age":31,"id":1,"user":{"email":"u","name":"n"}}`,
	`{"a":[1,2,{"b":3}],"b":"str","email":null,"age":"x"}`,
	`{"a":null,"b":{"c":{"deep":[1,{"x":2}]}},"junk":{"k":[{"z":"\u00e9\"\\"}]}}`,
	`{"a":"text","b":12345678901234567890123,"c":1.10}`,
	`{"a":{"b":{"b":{"b":1}},"b2":2},"a2":1}`,
	`{"a":1,"a":{"b":2}}`, `{"a":{"b":2},"a":3}`,
	`{}`, `[]`, `[{"a":1}]`, `"a string"`, `42`, `null`, `true`,
}

// TestDemandSound runs every expression over every row twice, decoding
// in full and in part, and requires the same outputs and errors.
func TestDemandSound(t *testing.T) {
	for _, expr := range demandExprs {
		checkDemandSound(t, expr, demandRows)
	}
}

func checkDemandSound(t *testing.T, expr string, rows []string) {
	t.Helper()
	part, err := Compile(expr, Options{})
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	full := *part
	full.dem = nil
	for _, row := range rows {
		p, pw, perr := runCompiled(t, part, []string{row}, Skip, 1)
		f, fw, ferr := runCompiled(t, &full, []string{row}, Skip, 1)
		if perr != nil || ferr != nil {
			t.Fatalf("%s on %s: %v, %v", expr, row, perr, ferr)
		}
		if !slices.Equal(p, f) || !slices.Equal(pw, fw) {
			t.Errorf("%s on %s: partial decode gives %q %q, full decode %q %q", expr, row, p, pw, f, fw)
		}
	}
}

// FuzzDemand checks partial decoding against full decoding on any row.
func FuzzDemand(f *testing.F) {
	for _, r := range demandRows {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, row string) {
		for _, expr := range demandExprs {
			checkDemandSound(t, expr, []string{row})
		}
	})
}
