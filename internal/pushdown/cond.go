package pushdown

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itchyny/gojq"
)

// A cond is a select condition Render can write as SQL: every part of it
// yields exactly one value, or an error, for a row.
type cond interface {
	// String is the condition in jq's syntax.
	String() string
}

// path is a row path of object keys: .a.b is {"a", "b"}; the row is {}.
type path []string

func (p path) String() string {
	if len(p) == 0 {
		return "."
	}
	var b strings.Builder
	for _, k := range p {
		if identKey.MatchString(k) {
			b.WriteString("." + k)
		} else {
			b.WriteString("." + strconv.Quote(k))
		}
	}
	return b.String()
}

var identKey = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// litKind is a literal's jq type.
type litKind int

const (
	litNull litKind = iota
	litFalse
	litTrue
	litNumber
	litString
)

// rank is the literal's place in jq's order of types: null, false, true,
// numbers, strings (arrays 5, objects 6).
func (k litKind) rank() int { return int(k) }

// lit is a literal a path is compared with.
type lit struct {
	kind litKind
	text string // a number's decimal text, a string's value
}

func (l lit) String() string {
	switch l.kind {
	case litNull:
		return "null"
	case litFalse:
		return "false"
	case litTrue:
		return "true"
	case litString:
		b, _ := json.Marshal(l.text)
		return string(b)
	}
	return l.text
}

// cmpCond is p OP lit.
type cmpCond struct {
	p  path
	op gojq.Operator
	l  lit
}

func (c cmpCond) String() string { return fmt.Sprintf("%s %s %s", c.p, c.op, c.l) }

// truthCond is the truth of the value at p.
type truthCond struct{ p path }

func (c truthCond) String() string { return c.p.String() }

// hasCond is p | has(key).
type hasCond struct {
	p   path
	key string
}

func (c hasCond) String() string {
	k, _ := json.Marshal(c.key)
	if len(c.p) == 0 {
		return fmt.Sprintf("has(%s)", k)
	}
	return fmt.Sprintf("%s | has(%s)", c.p, k)
}

// boolCond is a and b (and), or a or b.
type boolCond struct {
	and  bool
	a, b cond
}

func (c boolCond) String() string {
	op := "or"
	if c.and {
		op = "and"
	}
	return fmt.Sprintf("(%s %s %s)", c.a, op, c.b)
}

// notCond is c | not.
type notCond struct{ c cond }

func (c notCond) String() string { return fmt.Sprintf("(%s | not)", c.c) }

// vars looks a variable's value up by name, without the '$'.
type vars func(name string) (any, bool)

// condOf translates a select's condition, or says why it cannot.
func condOf(q *gojq.Query, v vars) (cond, error) {
	if q == nil {
		return nil, errUnsupported("an empty condition")
	}
	if len(q.FuncDefs) > 0 || len(q.Imports) > 0 || q.Meta != nil || len(q.Patterns) > 0 {
		return nil, errUnsupported("definitions or variable bindings")
	}
	switch q.Op {
	case 0:
		return condOfTerm(q.Term, v)
	case gojq.OpAnd, gojq.OpOr:
		a, err := condOf(q.Left, v)
		if err != nil {
			return nil, err
		}
		b, err := condOf(q.Right, v)
		if err != nil {
			return nil, err
		}
		return boolCond{and: q.Op == gojq.OpAnd, a: a, b: b}, nil
	case gojq.OpEq, gojq.OpNe, gojq.OpLt, gojq.OpLe, gojq.OpGt, gojq.OpGe:
		return cmpOf(q, v)
	case gojq.OpPipe:
		return pipeOf(q, v)
	}
	return nil, errUnsupported("the operator " + q.Op.String())
}

func condOfTerm(t *gojq.Term, v vars) (cond, error) {
	if p, ok := pathOf(t); ok {
		return truthCond{p}, nil
	}
	if len(t.SuffixList) > 0 {
		return nil, errUnsupported("a suffix such as [] or ?")
	}
	switch t.Type {
	case gojq.TermTypeQuery:
		return condOf(t.Query, v)
	case gojq.TermTypeFunc:
		if k, ok := hasArg(t.Func); ok {
			return hasCond{key: k}, nil
		}
		if t.Func.Name == "not" && len(t.Func.Args) == 0 {
			return notCond{truthCond{}}, nil
		}
		return nil, errUnsupported(t.Func.Name + "/" + strconv.Itoa(len(t.Func.Args)))
	}
	return nil, errUnsupported("this term")
}

// pipeOf handles X | not and PATH | has("k").
func pipeOf(q *gojq.Query, v vars) (cond, error) {
	r := q.Right
	if r == nil || r.Op != 0 || r.Term == nil || r.Term.Type != gojq.TermTypeFunc || len(r.Term.SuffixList) > 0 ||
		len(r.FuncDefs) > 0 || len(q.Patterns) > 0 {
		return nil, errUnsupported("a pipe other than COND | not and PATH | has(KEY)")
	}
	if r.Term.Func.Name == "not" && len(r.Term.Func.Args) == 0 {
		c, err := condOf(q.Left, v)
		if err != nil {
			return nil, err
		}
		return notCond{c}, nil
	}
	if k, ok := hasArg(r.Term.Func); ok {
		if p, ok := queryPath(q.Left); ok {
			return hasCond{p: p, key: k}, nil
		}
	}
	return nil, errUnsupported("a pipe other than COND | not and PATH | has(KEY)")
}

// hasArg returns KEY of has("KEY").
func hasArg(f *gojq.Func) (string, bool) {
	if f.Name != "has" || len(f.Args) != 1 {
		return "", false
	}
	l, ok := literalOf(f.Args[0], nil)
	return l.text, ok && l.kind == litString
}

// cmpOf handles PATH OP LITERAL and LITERAL OP PATH.
func cmpOf(q *gojq.Query, v vars) (cond, error) {
	op := q.Op
	p, ok := queryPath(q.Left)
	other := q.Right
	if !ok {
		if p, ok = queryPath(q.Right); !ok {
			return nil, errUnsupported("a comparison that is not between a path and a literal or $variable")
		}
		other, op = q.Left, flip(op)
	}
	l, ok := literalOf(other, v)
	if !ok {
		return nil, errUnsupported("a comparison that is not between a path and a literal or $variable")
	}
	return cmpCond{p: p, op: op, l: l}, nil
}

// flip turns L OP R into R OP' L.
func flip(op gojq.Operator) gojq.Operator {
	switch op {
	case gojq.OpLt:
		return gojq.OpGt
	case gojq.OpLe:
		return gojq.OpGe
	case gojq.OpGt:
		return gojq.OpLt
	case gojq.OpGe:
		return gojq.OpLe
	}
	return op
}

// queryPath returns the path a query is, if it is one.
func queryPath(q *gojq.Query) (path, bool) {
	if q == nil || q.Op != 0 || q.Term == nil || len(q.FuncDefs) > 0 || len(q.Patterns) > 0 {
		return nil, false
	}
	return pathOf(q.Term)
}

// pathOf returns the path a term is: . or a chain of object keys, without
// ? or [] (which change which values, and errors, the path yields).
func pathOf(t *gojq.Term) (path, bool) {
	var p path
	switch t.Type {
	case gojq.TermTypeIdentity:
	case gojq.TermTypeIndex:
		k, ok := keyOf(t.Index)
		if !ok {
			return nil, false
		}
		p = append(p, k)
	case gojq.TermTypeQuery:
		if len(t.SuffixList) > 0 {
			return nil, false
		}
		return queryPath(t.Query)
	default:
		return nil, false
	}
	if len(t.SuffixList) >= maxPath {
		return nil, false
	}
	for _, s := range t.SuffixList {
		if s.Index == nil || s.Optional || s.Iter {
			return nil, false
		}
		k, ok := keyOf(s.Index)
		if !ok {
			return nil, false
		}
		p = append(p, k)
	}
	return p, true
}

// keyOf returns the object key an index names: .k, ."k", .["k"].
func keyOf(x *gojq.Index) (string, bool) {
	switch {
	case x.Name != "":
		return x.Name, true
	case x.Str != nil && len(x.Str.Queries) == 0:
		return x.Str.Str, sendable(x.Str.Str)
	case !x.IsSlice && x.Start != nil && x.End == nil:
		l, ok := literalOf(x.Start, nil)
		return l.text, ok && l.kind == litString
	}
	return "", false
}

// number is the text of a number Render compares exactly; beyond
// maxMagnitude, float64 rounding (and jq's saturation) is left alone.
var number = regexp.MustCompile(`^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

const maxMagnitude = 1e300

// literalOf returns the literal q is: null, true, false, a number, a
// string without interpolation, -NUMBER, or a $variable holding one.
func literalOf(q *gojq.Query, v vars) (lit, bool) {
	if q == nil || q.Op != 0 || q.Term == nil || len(q.FuncDefs) > 0 || len(q.Term.SuffixList) > 0 {
		return lit{}, false
	}
	t := q.Term
	switch t.Type {
	case gojq.TermTypeNull:
		return lit{kind: litNull}, true
	case gojq.TermTypeFalse:
		return lit{kind: litFalse}, true
	case gojq.TermTypeTrue:
		return lit{kind: litTrue}, true
	case gojq.TermTypeNumber:
		return numberLit(t.Number)
	case gojq.TermTypeString:
		if t.Str == nil || len(t.Str.Queries) > 0 || !sendable(t.Str.Str) {
			return lit{}, false
		}
		return lit{kind: litString, text: t.Str.Str}, true
	case gojq.TermTypeUnary:
		if t.Unary.Op == gojq.OpSub && t.Unary.Term.Type == gojq.TermTypeNumber && len(t.Unary.Term.SuffixList) == 0 {
			return numberLit("-" + t.Unary.Term.Number)
		}
	case gojq.TermTypeQuery:
		return literalOf(t.Query, v)
	case gojq.TermTypeFunc:
		if v != nil && strings.HasPrefix(t.Func.Name, "$") && len(t.Func.Args) == 0 {
			if val, ok := v(t.Func.Name[1:]); ok {
				return valueLit(val)
			}
		}
	}
	return lit{}, false
}

// valueLit returns the literal a variable's value is.
func valueLit(val any) (lit, bool) {
	switch x := val.(type) {
	case nil:
		return lit{kind: litNull}, true
	case bool:
		if x {
			return lit{kind: litTrue}, true
		}
		return lit{kind: litFalse}, true
	case string:
		return lit{kind: litString, text: x}, sendable(x)
	case int:
		return numberLit(strconv.Itoa(x))
	case float64:
		return numberLit(strconv.FormatFloat(x, 'g', -1, 64))
	case json.Number:
		return numberLit(string(x))
	case *big.Int:
		return numberLit(x.String())
	}
	return lit{}, false
}

// numberLit returns a number literal for the text s: an integer of up to
// 300 digits as it is (gojq compares integers exactly, or rounds them as
// it rounds the row's: exact text is right either way); any other number
// as float64, which is what gojq makes of it, in the shortest text that
// reads back as the same float64 (so that the server's numeric, which
// refuses exponents past ±16383, never sees one).
func numberLit(s string) (lit, bool) {
	if !number.MatchString(s) {
		return lit{}, false
	}
	if d := strings.TrimPrefix(s, "-"); strings.Trim(d, "0123456789") == "" && len(d) <= 300 {
		return lit{kind: litNumber, text: s}, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxMagnitude {
		return lit{}, false
	}
	return lit{kind: litNumber, text: strconv.FormatFloat(f, 'g', -1, 64)}, true
}

// sendable reports whether a key or string can be bound as text: a
// server refuses NUL and invalid UTF-8 in text, and jsonb holds neither.
func sendable(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// maxPath is the longest path pushed: each level repeats the ones above
// it in the SQL.
const maxPath = 32

// unsupportedError says why a condition is not pushed.
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string { return e.what + " is not translated" }

func errUnsupported(what string) error { return &unsupportedError{what} }
