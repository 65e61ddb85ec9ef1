package filter

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/itchyny/gojq"
)

// TestBoundedTime checks which expressions run without gojq's context
// check: those whose time is bounded by the row's size, and no other.
func TestBoundedTime(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{`.`, true},
		{`.email`, true},
		{`select(.age > 30) | {id, email}`, true},
		{`select(.id % 3 == 0) | {id, email: .user.email}`, true},
		{`.. | numbers`, true},
		{`recurse`, true},
		{`[paths] | length`, true},
		{`to_entries | map(.key) | sort | join(",")`, true},
		{`walk(if type == "string" then ascii_upcase else . end)`, true},
		{`reduce .[] as $x (0; . + $x)`, false},
		{`reduce .[] as $x ("a"; . + .)`, false},
		{`foreach .[] as $x (0; . + 1)`, false},
		{`.[] as $a | .[] as $b | [$a, $b]`, false},
		{`. as [$a, $b] | $a`, false},
		{`IN(.[]; .[])`, false},
		{`INDEX(.id)`, true},
		{`first(.[]), limit(3; .tags[])`, true},
		{`.name | test("^a"; "i")`, true},
		{`@base64 "id \(.id)"`, true},
		{`$ENV.HOME, env.PATH, $__loc__, $x`, true},
		{`try error("x") catch .`, true},
		{`label $out | .[] | ., break $out`, true},
		{`range(10)`, false},
		{`last(range(1e18))`, false},
		{`[limit(5; repeat(1))]`, false},
		{`recurse(.a)`, false},
		{`recurse(.a; . != null)`, false},
		{`while(. < 10; . + 1)`, false},
		{`until(. > 10; . + 1)`, false},
		{`[.[0:3][]] | combinations`, false},
		{`def f: .; f`, false},
		{`def f: f; f`, false},
		{`reduce range(.n) as $i (0; . + $i)`, false},
	} {
		q, err := gojq.Parse(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := boundedTime(q); got != tc.want {
			t.Errorf("boundedTime(%s) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

// unboundedBuiltins are gojq's builtins left out of boundedFuncs.
var unboundedBuiltins = []string{"range", "repeat", "while", "until", "recurse", "combinations", "IN", "input", "inputs", "modulemeta"}

// TestBoundedFuncsAreGojqs: every name in boundedFuncs is one of gojq's
// builtins or fraise's own, and every builtin of gojq is either in it or
// known to be left out, so that a gojq with new builtins makes this test
// fail until they are sorted.
func TestBoundedFuncsAreGojqs(t *testing.T) {
	q, err := gojq.Parse(`[builtins[] | split("/")[0]] | unique`)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := q.Run(nil).Next()
	var builtins []string
	for _, n := range v.([]any) {
		builtins = append(builtins, n.(string))
	}
	own := []string{"stderr", "input_filename"} // fraise's, beside gojq's
	for _, name := range slices.Sorted(maps.Keys(boundedFuncs)) {
		if !slices.Contains(builtins, name) && !slices.Contains(own, name) {
			t.Errorf("boundedFuncs has %q, which is no builtin of gojq's", name)
		}
	}
	for _, name := range builtins {
		if !boundedFuncs[name] && !slices.Contains(unboundedBuiltins, name) {
			t.Errorf("gojq's builtin %q is not sorted: add it to boundedFuncs if its time is bounded by its input's, else to unboundedBuiltins", name)
		}
	}
	if t.Failed() {
		t.Logf("gojq's builtins: %s", strings.Join(builtins, " "))
	}
}
