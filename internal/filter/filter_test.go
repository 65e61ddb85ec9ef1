package filter

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCompileErrors checks that every expression that cannot run is
// refused at compile time with gojq's message and the byte offset of the
// problem, for the caret under it.
func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		msg    string
		offset int
	}{
		{`.a | {b`, "unexpected EOF", 7},
		{`.a | }`, `unexpected token "}"`, 5},
		{`.a ||| .b`, `unexpected token "|"`, 4},
		{`"abc`, "unterminated string literal", 4},
		{`.a | foo(1)`, "function not defined: foo/1", 5},
		{`.foo | foo`, "function not defined: foo/0", 7},
		{`{foo: 1} | foo`, "function not defined: foo/0", 11},
		{`"foo" | foo # foo`, "function not defined: foo/0", 8},
		{`"\(.a | bar)" | bar`, "function not defined: bar/0", 8},
		{`$x + 1`, "variable not defined: $x", 0},
		{`"$y" + $y`, "variable not defined: $y", 7},
		{`[inputs]`, "inputs is not available", 1},
		{`input | .a`, "input is not available", 0},
		{`_fraise_rows`, "reserved", 0},
		{`.a as [$x] | $y`, "variable not defined: $y", 13},
		{`import "x" as e; .`, "import is not available: fraise's --jq has no modules", 0},
		{`include "x"; .`, "include is not available: fraise's --jq has no modules", 0},
		{`import "a" as $x; $x`, "import is not available", 0},
		{`import "a" as x {search: "./lib"}; x::f`, "import is not available", 0},
		{`include "b" {search: "."}; .`, "include is not available", 0},
		{`module {name: "m"}; # import "y" as y;` + "\n" + `import "x" as x; .`, "import is not available", 39},
		{`include "b"; import "a" as a; .`, "include is not available", 0},
		{".a\x00 | error", "a NUL byte (at byte 2) is not allowed", -1},
		{"\x00", "a NUL byte (at byte 0) is not allowed", -1},
	} {
		_, err := Compile(tc.expr, Options{})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("Compile(%s) = %v, want a *CompileError", tc.expr, err)
			continue
		}
		if !strings.Contains(ce.Error(), tc.msg) || ce.Offset != tc.offset || ce.Expr != tc.expr {
			t.Errorf("Compile(%s) = %q at %d, want %q at %d", tc.expr, ce.Error(), ce.Offset, tc.msg, tc.offset)
		}
	}
}

// TestCompileAccepts checks expressions that use fraise's additions:
// variables, $ARGS, $ENV, debug, stderr and input_filename.
func TestCompileAccepts(t *testing.T) {
	opts := Options{Vars: []Var{{"x", "1"}, {"n", 2}}, Environ: []string{"HOME=/h"}}
	for _, expr := range []string{`$x`, `$ARGS.named.n`, `$ENV.HOME`, `env.HOME`, `debug`, `stderr`, `input_filename`, `def input: 1; input`} {
		if _, err := Compile(expr, opts); err != nil {
			t.Errorf("Compile(%s): %v", expr, err)
		}
	}
}

// TestVariables checks --arg/--argjson bindings, $ARGS, a repeated name
// (the last wins, as in jq) and $ENV.
func TestVariables(t *testing.T) {
	big, _ := DecodeJSON(`{"n":123456789012345678901234567890}`)
	opts := Options{
		Vars:    []Var{{"a", "first"}, {"j", big}, {"a", "second"}},
		Environ: []string{"FRAISE_TEST_VAR=hello", "EMPTY=", "NOEQUALS"},
	}
	for _, tc := range []struct{ expr, want string }{
		{`$a`, `"second"`},
		{`$j.n`, `123456789012345678901234567890`},
		{`$ARGS`, `{"named":{"a":"second","j":{"n":123456789012345678901234567890}},"positional":[]}`},
		{`$ENV.FRAISE_TEST_VAR, env.EMPTY`, "\"hello\"\n\"\""},
		{`$ENV | keys`, `["EMPTY","FRAISE_TEST_VAR"]`},
	} {
		lines, _, err := runFilter(t, tc.expr, opts, []string{`null`}, Fail, 1)
		if err != nil || strings.Join(lines, "\n") != tc.want {
			t.Errorf("%s = %q, %v; want %s", tc.expr, lines, err, tc.want)
		}
	}
}

// TestNumbersExact is the golden test for number fidelity: untouched
// numbers print as the server sent them; arithmetic follows gojq.
func TestNumbersExact(t *testing.T) {
	row := `{"big":123456789012345678901234567890,"dec":1.10,"i":9007199254740993,"e":1e40,"neg":-0,"exp":1E+2,"small":0.1e-5,"n":-12}`
	for _, tc := range []struct{ expr, want string }{
		{`.`, `{"big":123456789012345678901234567890,"dec":1.10,"e":1e40,"exp":1E+2,"i":9007199254740993,"n":-12,"neg":-0,"small":0.1e-5}`},
		{`.big, .dec, .i, .e, .neg, .exp, .small, .n`, "123456789012345678901234567890\n1.10\n9007199254740993\n1e40\n-0\n1E+2\n0.1e-5\n-12"},
		{`[.dec, .i] | tojson`, `"[1.10,9007199254740993]"`},
		{`.i + 1`, `9007199254740994`},
		{`.big + 1`, `123456789012345678901234567891`},
		{`.dec * 2`, `2.2`},
		{`.e * 10`, `1e+41`},
		{`.n | -.`, `12`},
		{`.dec == 1.1`, `true`},
		{`.big > .i`, `true`},
	} {
		lines, _, err := runFilter(t, tc.expr, Options{}, []string{row}, Fail, 1)
		if err != nil || strings.Join(lines, "\n") != tc.want {
			t.Errorf("%s = %q, %v; want %q", tc.expr, lines, err, tc.want)
		}
	}
}

// TestRawOutput checks -r: strings without quotes, other values as JSON.
func TestRawOutput(t *testing.T) {
	lines, _, err := runFilter(t, `.s, .n, .o, .t`, Options{Raw: true},
		[]string{`{"s":"a \"b\"\tc","n":1.50,"o":{"k":"v"},"t":"é"}`}, Fail, 1)
	want := []string{"a \"b\"\tc", "1.50", `{"k":"v"}`, "é"}
	if err != nil || !slices.Equal(lines, want) {
		t.Errorf("got %q, %v; want %q", lines, err, want)
	}
}

// TestSQLNullIsJSONNull checks that a NULL row reaches the filter as null.
func TestSQLNullIsJSONNull(t *testing.T) {
	lines, _, err := runFilter(t, `type`, Options{}, []string{sqlNull, `{}`}, Fail, 2)
	if err != nil || !slices.Equal(lines, []string{`"null"`, `"object"`}) {
		t.Errorf("got %q, %v", lines, err)
	}
}
