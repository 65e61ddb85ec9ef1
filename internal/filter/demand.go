package filter

import "github.com/itchyny/gojq"

// A demand says which parts of a row's value an expression can observe, so
// that decoding can skip the rest. Most filters read a few fields
// (.email, select(.age > 30) | {id, email}); building every other value
// of the row costs most of the time. The analysis is conservative: a value
// that reaches anything it does not understand is demanded whole.
//
// A demand applies to a value at some path of the row. When all is set,
// or when the value there is not an object, the value is decoded whole.
// Otherwise it is decoded as an object holding only the keys in fields,
// each decoded by its own demand. An expression that only indexes such an
// object with those keys, or passes it on to be indexed, cannot tell it
// from the full object: indexing an absent key gives null either way, and
// anything else it does (compare it, print it, call a function on it,
// iterate it, bind it to a variable) marks it all.
type demand struct {
	all    bool
	fields map[string]*demand
	// key is the key this demand is on in its parent's fields: a decoder
	// that must not keep substrings of the row uses it for the kept key.
	key string
}

// field returns the demand on key of d's value.
func (d *demand) field(key string) *demand {
	if d.fields == nil {
		d.fields = map[string]*demand{}
	}
	c, ok := d.fields[key]
	if !ok {
		c = &demand{key: key}
		d.fields[key] = c
	}
	return c
}

// whole reports whether d's value must be decoded whole: d is nil or all,
// which also covers every value below it.
func (d *demand) whole() bool { return d == nil || d.all }

// flow is what an expression outputs, abstractly: values at the row paths
// whose demands are listed, and possibly values not taken from the row
// (constants, computed values), which need no demand.
type flow []*demand

// analyze returns the demand q makes on its input.
func analyze(q *gojq.Query) *demand {
	root := &demand{}
	markAll(analyzeQuery(q, flow{root}))
	return root
}

// union returns the values of a and b in a new flow (never sharing
// either's backing array).
func union(a, b flow) flow {
	out := make(flow, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

func markAll(f flow) {
	for _, d := range f {
		d.all = true
	}
}

func analyzeQuery(q *gojq.Query, in flow) flow {
	if q == nil {
		return in
	}
	if len(q.FuncDefs) > 0 || len(q.Imports) > 0 || q.Meta != nil {
		// Functions may use their input in any way: give them all of it.
		markAll(in)
		return nil
	}
	if q.Term != nil {
		return analyzeTerm(q.Term, in)
	}
	switch q.Op {
	case gojq.OpPipe:
		left := analyzeQuery(q.Left, in)
		if len(q.Patterns) > 0 {
			// "L as $x | R": $x may be used in any way; R reads the input.
			markAll(left)
			return analyzeQuery(q.Right, in)
		}
		return analyzeQuery(q.Right, left)
	case gojq.OpComma, gojq.OpAlt:
		// Both sides' outputs pass on (an alternative only tests
		// truthiness, which a partial object shares with the full one).
		return union(analyzeQuery(q.Left, in), analyzeQuery(q.Right, in))
	case gojq.OpAdd, gojq.OpSub, gojq.OpMul, gojq.OpDiv, gojq.OpMod,
		gojq.OpEq, gojq.OpNe, gojq.OpGt, gojq.OpLt, gojq.OpGe, gojq.OpLe,
		gojq.OpAnd, gojq.OpOr:
		markAll(analyzeQuery(q.Left, in))
		markAll(analyzeQuery(q.Right, in))
		return nil
	}
	// Assignments and anything new.
	markAll(in)
	return nil
}

func analyzeTerm(t *gojq.Term, in flow) flow {
	out := analyzeTermBase(t, in)
	for _, s := range t.SuffixList {
		switch {
		case s.Index != nil:
			out = analyzeIndex(s.Index, out, in)
		case s.Optional:
			// try: the same values, errors dropped.
		default: // s.Iter
			markAll(out)
			out = nil
		}
	}
	return out
}

func analyzeTermBase(t *gojq.Term, in flow) flow {
	switch t.Type {
	case gojq.TermTypeIdentity:
		return in
	case gojq.TermTypeIndex:
		return analyzeIndex(t.Index, in, in)
	case gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber:
		return nil
	case gojq.TermTypeString:
		analyzeString(t.Str, in)
		return nil
	case gojq.TermTypeQuery:
		return analyzeQuery(t.Query, in)
	case gojq.TermTypeArray:
		if t.Array.Query != nil {
			markAll(analyzeQuery(t.Array.Query, in))
		}
		return nil
	case gojq.TermTypeObject:
		analyzeObject(t.Object, in)
		return nil
	case gojq.TermTypeUnary:
		markAll(analyzeTerm(t.Unary.Term, in))
		return nil
	case gojq.TermTypeIf:
		return analyzeIf(t.If, in)
	case gojq.TermTypeTry:
		out := analyzeQuery(t.Try.Body, in)
		if t.Try.Catch != nil {
			// The catch body reads the error message, not the row.
			out = union(out, analyzeQuery(t.Try.Catch, nil))
		}
		return out
	case gojq.TermTypeFunc:
		return analyzeFunc(t.Func, in)
	}
	// Recursion, formats, reduce, foreach, label, break and anything new.
	markAll(in)
	return nil
}

// analyzeIndex handles x applied to the values of val; index expressions
// read the term's input, in.
func analyzeIndex(x *gojq.Index, val, in flow) flow {
	key, ok := "", false
	switch {
	case x.Name != "":
		key, ok = x.Name, true
	case x.Str != nil && len(x.Str.Queries) == 0:
		key, ok = x.Str.Str, true
	case !x.IsSlice && x.Start != nil && x.End == nil:
		// .["key"]
		if t := x.Start.Term; t != nil && x.Start.Op == 0 && len(x.Start.FuncDefs) == 0 &&
			t.Type == gojq.TermTypeString && len(t.Str.Queries) == 0 && len(t.SuffixList) == 0 && t.Str.Str != "" {
			key, ok = t.Str.Str, true
		}
	}
	if ok {
		out := make(flow, len(val))
		for i, d := range val {
			out[i] = d.field(key)
		}
		return out
	}
	if x.Str != nil {
		analyzeString(x.Str, in)
	}
	for _, q := range []*gojq.Query{x.Start, x.End} {
		if q != nil {
			markAll(analyzeQuery(q, in))
		}
	}
	markAll(val)
	return nil
}

func analyzeString(s *gojq.String, in flow) {
	if s == nil {
		return
	}
	for _, q := range s.Queries {
		markAll(analyzeQuery(q, in))
	}
}

func analyzeObject(o *gojq.Object, in flow) {
	for _, kv := range o.KeyVals {
		switch {
		case kv.Key != "" && kv.Key[0] == '$':
			// {$x}: a variable.
		case kv.Key != "" && kv.Val == nil:
			markAll(analyzeIndex(&gojq.Index{Name: kv.Key}, in, in))
		case kv.KeyString != nil && kv.Val == nil:
			markAll(analyzeIndex(&gojq.Index{Str: kv.KeyString}, in, in))
		case kv.KeyString != nil:
			analyzeString(kv.KeyString, in)
		case kv.KeyQuery != nil:
			markAll(analyzeQuery(kv.KeyQuery, in))
		}
		if kv.Val != nil {
			markAll(analyzeQuery(kv.Val, in))
		}
	}
}

func analyzeIf(x *gojq.If, in flow) flow {
	markAll(analyzeQuery(x.Cond, in))
	out := analyzeQuery(x.Then, in)
	for _, e := range x.Elif {
		markAll(analyzeQuery(e.Cond, in))
		out = union(out, analyzeQuery(e.Then, in))
	}
	if x.Else == nil {
		return union(out, in)
	}
	return union(out, analyzeQuery(x.Else, in))
}

func analyzeFunc(f *gojq.Func, in flow) flow {
	switch {
	case f.Name != "" && f.Name[0] == '$':
		// A variable: the query binds none from the row without marking
		// it all, so this is a value from outside the row.
		return nil
	case f.Name == "empty" && len(f.Args) == 0:
		return nil
	case f.Name == "select" && len(f.Args) == 1:
		markAll(analyzeQuery(f.Args[0], in))
		return in
	}
	// Any other function may use its input, and the arguments it runs on
	// it, in any way.
	markAll(in)
	return nil
}
