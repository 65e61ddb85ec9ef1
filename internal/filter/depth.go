package filter

import (
	"fmt"
	"reflect"

	"github.com/itchyny/gojq"
)

// maxExprDepth bounds the nesting of an expression, in levels: gojq
// compiles (and fraise analyzes) an expression by recursion over its
// syntax tree, and a tree deep enough (a million levels, which a config
// file can hold) exhausts the goroutine's stack, a fatal error no recover
// catches. jq 1.7's parser stops near the same depth ("memory exhausted").
//
// A level is one nested query: a parenthesis, bracket, brace or string
// interpolation (which is two), each operand of an operator chain
// (a | b | c is three levels deep), an argument, the body of if, try,
// reduce, foreach, label or def; also each suffix of a chain (.a.b.c, and
// each ? in .a?.b?), each elif, each unary minus and each level of a
// destructuring pattern.
const maxExprDepth = 10000

// errTooDeep is the reason given for an expression nested too deeply.
var errTooDeep = fmt.Errorf("the expression is nested more than %d levels deep (each parenthesis, bracket, brace, interpolation, operator, .key suffix and nested term adds one); fraise compiles nothing deeper: flatten it, or split it into functions with def", maxExprDepth)

// deepBrackets returns the offset in expr of the first parenthesis,
// bracket, brace or string interpolation opened more than limit deep, or
// -1. It reads the text without parsing it (string literals and
// comments skipped as gojq's lexer skips them), so that an expression
// nested that deep is refused before gojq's parser builds a tree for it
// (some hundreds of bytes per level). Each such nesting is at least one
// level of the parsed tree, so this refuses nothing exprDepthOK accepts.
func deepBrackets(expr string, limit int) int {
	depth := 0
	// interps holds the depth of each open string interpolation: the ')'
	// that brings depth back below it returns into the string.
	var interps []int
	inString := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if inString {
			switch {
			case c == '\\' && i+1 < len(expr) && expr[i+1] == '(':
				i++
				if depth++; depth > limit {
					return i - 1
				}
				interps = append(interps, depth)
				inString = false
			case c == '\\':
				i++
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '#':
			i = skipComment(expr, i)
		case '(', '[', '{':
			if depth++; depth > limit {
				return i
			}
		case ')', ']', '}':
			if n := len(interps); n > 0 && depth == interps[n-1] {
				interps = interps[:n-1]
				inString = c == ')'
			}
			depth = max(depth-1, 0)
		}
	}
	return -1
}

// skipComment returns the offset of the end of the comment that starts at
// expr[i]: its line break, where a backslash escapes the next byte (a
// backslash-newline goes on with the comment), as in gojq's lexer.
func skipComment(expr string, i int) int {
	for i++; i < len(expr); i++ {
		switch expr[i] {
		case '\\':
			i++
		case '\n', '\r':
			return i
		}
	}
	return i
}

// astFrame is a value of the syntax tree waiting to be walked.
type astFrame struct {
	v     reflect.Value
	depth int  // the levels above v
	free  bool // v, a pointer, adds no level (a Query's own Term)
	chain bool // v, a slice, is compiled one element inside the other
}

// flatNodes are the node types that add no level of their own: each is
// always held by, and always holds, nodes that do (a Query, a Term, a
// Pattern, a ConstTerm). Any other type, one a later gojq adds included,
// counts as a level.
var flatNodes = map[reflect.Type]bool{}

func init() {
	for _, v := range []any{
		gojq.Import{}, gojq.FuncDef{}, gojq.Unary{}, gojq.PatternObject{}, gojq.Index{},
		gojq.Func{}, gojq.String{}, gojq.Object{}, gojq.ObjectKeyVal{}, gojq.Array{},
		gojq.Suffix{}, gojq.If{}, gojq.IfElif{}, gojq.Try{}, gojq.Reduce{}, gojq.Foreach{},
		gojq.Label{}, gojq.ConstObject{}, gojq.ConstObjectKeyVal{}, gojq.ConstArray{},
	} {
		flatNodes[reflect.TypeOf(v)] = true
	}
}

// chained are the fields whose elements gojq compiles one inside the
// other, so that each element is a level deeper than the one before.
var chained = map[string]bool{"SuffixList": true, "Elif": true}

// walkAST calls visit with every struct of q's syntax tree (addressable),
// depth first in field order, and the levels above it, until visit
// returns false. It does not recurse, so that it works on a tree of any
// depth.
func walkAST(q *gojq.Query, visit func(v reflect.Value, depth int) bool) {
	stack := []astFrame{{v: reflect.ValueOf(q)}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		v := f.v
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				continue
			}
			d := f.depth
			if e := v.Elem(); v.Kind() == reflect.Pointer && !f.free && !flatNodes[e.Type()] {
				d++
			}
			stack = append(stack, astFrame{v: v.Elem(), depth: d})
		case reflect.Slice:
			for i := v.Len() - 1; i >= 0; i-- {
				d := f.depth
				if f.chain {
					d += i
				}
				stack = append(stack, astFrame{v: v.Index(i), depth: d})
			}
		case reflect.Struct:
			if !visit(v, f.depth) {
				return
			}
			_, isQuery := v.Addr().Interface().(*gojq.Query)
			t := v.Type()
			for i := v.NumField() - 1; i >= 0; i-- {
				if sf := t.Field(i); sf.IsExported() {
					stack = append(stack, astFrame{v: v.Field(i), depth: f.depth,
						free: isQuery && sf.Name == "Term", chain: chained[sf.Name]})
				}
			}
		}
	}
}

// exprDepthOK reports whether q is nested at most limit levels deep.
func exprDepthOK(q *gojq.Query, limit int) bool {
	ok := true
	walkAST(q, func(_ reflect.Value, depth int) bool {
		ok = depth <= limit
		return ok
	})
	return ok
}
