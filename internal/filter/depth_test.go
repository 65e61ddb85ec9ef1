package filter

import (
	"errors"
	"os"
	"os/exec"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/itchyny/gojq"
)

// deepShapes build expressions nested n levels deep in each way jq nests.
// Those nested by brackets are refused before they are parsed; the others
// are parsed first, which costs some hundreds of bytes a level, so they
// are tested less deep (deep enough to exhaust the child's stack, see
// TestCompileDepth).
var deepShapes = []struct {
	name  string
	build func(n int) string
	deep  int
}{
	{"parentheses", func(n int) string { return strings.Repeat("(", n) + "." + strings.Repeat(")", n) }, 1_000_000},
	{"arrays", func(n int) string { return strings.Repeat("[", n) + "." + strings.Repeat("]", n) }, 1_000_000},
	{"objects", func(n int) string { return strings.Repeat("{a:", n) + "." + strings.Repeat("}", n) }, 1_000_000},
	{"pipes inside parentheses", func(n int) string { return strings.Repeat("(.|", n) + "." + strings.Repeat(")", n) }, 1_000_000},
	{"string interpolations", func(n int) string { return strings.Repeat(`"\(`, n) + "." + strings.Repeat(`)"`, n) }, 1_000_000},
	{"index expressions", func(n int) string { return strings.Repeat(".[", n) + `"k"` + strings.Repeat("]", n) }, 1_000_000},
	{"array pattern", func(n int) string { return ". as " + strings.Repeat("[", n) + "$x" + strings.Repeat("]", n) + " | $x" }, 1_000_000},
	{"object pattern", func(n int) string {
		return ". as " + strings.Repeat("{a:", n) + "$x" + strings.Repeat("}", n) + " | $x"
	}, 1_000_000},
	{".a chain", func(n int) string { return strings.Repeat(".a", n) }, 1_000_000},
	{"flat pipe chain", func(n int) string { return strings.Repeat(".|", n) + "." }, parsedDeep},
	{"comma chain", func(n int) string { return strings.Repeat("1,", n) + "1" }, parsedDeep},
	{"sum chain", func(n int) string { return strings.Repeat("1+", n) + "1" }, parsedDeep},
	{"optional chain", func(n int) string { return "." + strings.Repeat("a?.", n) + "a" }, parsedDeep},
	{"if chain", func(n int) string { return strings.Repeat("if . then ", n) + "." + strings.Repeat(" else . end", n) }, parsedDeep},
	{"elif chain", func(n int) string { return "if . then ." + strings.Repeat(" elif . then .", n) + " end" }, parsedDeep},
	{"try chain", func(n int) string { return strings.Repeat("try ", n) + "." }, parsedDeep},
	{"unary minus chain", func(n int) string { return strings.Repeat("- ", n) + "." }, parsedDeep},
	{"reduce chain", func(n int) string { return strings.Repeat("reduce ", n) + "." + strings.Repeat(" as $x (.; .)", n) }, parsedDeep},
	{"nested defs", func(n int) string { return strings.Repeat("def f: ", n) + "." + strings.Repeat("; f", n) }, parsedDeep},
}

// parsedDeep is the depth of the shapes that are parsed before they are
// measured.
const parsedDeep = 100_000

// childMaxStack is the child's stack limit: a sixteenth of Go's, so that
// the recursion that a million levels needed to exhaust Go's own limit
// exhausts this one at parsedDeep.
const childMaxStack = 64 << 20

// TestCompileDepth checks that an expression nested far too deep in any
// way (a million levels, or parsedDeep under a sixteenth of the stack) is
// refused with a *CompileError that says so, where gojq's
// compiler (and fraise's own walks) used to exhaust the stack, and that
// one nested as deep as a person or a generator writes compiles. A stack
// overflow kills the process whatever recovers, so the cases run in a
// child process: a crash fails this test with the child's output.
func TestCompileDepth(t *testing.T) {
	if os.Getenv("FRAISE_TEST_DEPTH_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCompileDepth$", "-test.v")
		cmd.Env = append(os.Environ(), "FRAISE_TEST_DEPTH_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestCompileDepth") {
			t.Fatalf("the deep expressions failed or crashed the process (%v):\n%s", err, head(string(out), 60))
		}
		return
	}
	debug.SetMaxStack(childMaxStack)
	for _, sh := range deepShapes {
		t.Run(sh.name, func(t *testing.T) {
			if _, err := Compile(sh.build(1000), Options{}); err != nil {
				t.Errorf("1000 levels deep: %v", err)
			}
			expr := sh.build(sh.deep)
			_, err := Compile(expr, Options{})
			var ce *CompileError
			if !errors.As(err, &ce) || !errors.Is(err, errTooDeep) || ce.Offset != -1 || ce.Expr != expr {
				t.Fatalf("%d levels deep: %v, want a *CompileError for errTooDeep without an offset", sh.deep, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "nested more than 10000 levels deep") {
				t.Errorf("message %q does not name the limit", msg)
			}
		})
	}
}

// head returns the first n lines of s.
func head(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(lines[:min(n, len(lines))], "")
}

// TestCompileDepthLimit checks the limit itself, on a shape the bracket
// scan refuses and on one only the tree walk measures.
func TestCompileDepthLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		expr string
		ok   bool
	}{
		{"parentheses at the limit", strings.Repeat("(", maxExprDepth-1) + "." + strings.Repeat(")", maxExprDepth-1), true},
		{"parentheses past the limit", strings.Repeat("(", maxExprDepth+1) + "." + strings.Repeat(")", maxExprDepth+1), false},
		{"pipes at the limit", strings.Repeat(".|", maxExprDepth-1) + ".", true},
		{"pipes past the limit", strings.Repeat(".|", maxExprDepth) + ".", false},
		{"brackets in strings do not count", `"` + strings.Repeat("([{", maxExprDepth) + `"`, true},
		{"brackets in comments do not count", "# " + strings.Repeat("(", maxExprDepth+1) + "\n.", true},
		{"a comment goes on after a backslash-newline", "# \\\n" + strings.Repeat("(", maxExprDepth+1) + "\n.", true},
		{"escaped quotes stay in the string", `"\"` + strings.Repeat("(", maxExprDepth+1) + `"`, true},
		{"a comma chain is as deep as it is long", strings.Repeat("(.),", maxExprDepth) + ".", false},
		{"siblings in an array are not nested", "[" + strings.Repeat("[.],", maxExprDepth/2) + "[.]]", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.expr, Options{})
			if tc.ok && err != nil {
				t.Errorf("Compile: %v", err)
			}
			if !tc.ok && !errors.Is(err, errTooDeep) {
				t.Errorf("Compile: %v, want errTooDeep", err)
			}
		})
	}
}

// FuzzExprDepth compiles any expression: it never crashes, fails with a
// *CompileError, and the bracket scan is a lower bound of the tree's
// depth (so that it refuses nothing the tree walk would accept): for every
// limit, text whose brackets nest deeper parses, if at all, to a tree
// deeper than that limit.
func FuzzExprDepth(f *testing.F) {
	for _, s := range []string{
		`.`, `(.)`, `[[.]]`, `{a: {b: [.]}}`, `{a}`, `[]`, `{}`, `"\("\(.)")"`, `.[]`, `.[1:2]`, `.["a"]`,
		`. as [$a, [$b]] | $a`, `. as {a: [$b], $c, "d": $e, (1): $f} | $b`, `reduce .[] as [$a] (0; . + $a)`,
		`foreach .[] as $x (0; . + 1; [.])`, `def f(g): [g]; f(.)`, `try [1] catch [2]`, `@base64 "\([.])"`,
		`if . then [.] elif [.] then . else [[.]] end`, `label $out | [.]`, `.a?.b?[0]?`, `-(1)`, `[.[]?]`,
		`# (((\n.`, `"((("`, `{(.a): 1}`, `{"a\(.)": 1}`, `.. | [.]`, `$__loc__`, `input`, `import "a" as a; .`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		_, err := Compile(expr, Options{})
		var ce *CompileError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("Compile(%q): %v (%T)", expr, err, err)
		}
		q, err := gojq.Parse(expr)
		if err != nil || strings.IndexByte(expr, 0) >= 0 {
			return // gojq reads a NUL as the end; Compile refuses it
		}
		depth := 0
		walkAST(q, func(_ reflect.Value, d int) bool {
			depth = max(depth, d)
			return true
		})
		if !exprDepthOK(q, depth) || (depth > 0 && exprDepthOK(q, depth-1)) {
			t.Fatalf("%q: the walk found depth %d, exprDepthOK disagrees", expr, depth)
		}
		if off := deepBrackets(expr, depth); off >= 0 {
			t.Fatalf("%q: brackets nest deeper than the tree's %d levels, at byte %d", expr, depth, off)
		}
	})
}
