package filter

import "github.com/itchyny/gojq"

// Observed is what an expression can observe of a value (see demand): all
// of it when Whole; otherwise, when the value is an object, only the keys
// in Keys, each as its own Observed says, a key absent from the value
// staying absent. A value that is not an object is observed whole. A
// server may send, in place of a row, any value the expression cannot
// tell from it by this rule (internal/pushdown).
type Observed struct {
	// Whole is set when the value is observed whole.
	Whole bool
	// Keys are the observed keys of an object value, when not Whole.
	Keys map[string]*Observed
}

// Observed returns what f can observe of a row.
func (f *Filter) Observed() *Observed { return observed(f.dem) }

func observed(d *demand) *Observed {
	if d.whole() {
		return &Observed{Whole: true}
	}
	o := &Observed{Keys: make(map[string]*Observed, len(d.fields))}
	for k, c := range d.fields {
		o.Keys[k] = observed(c)
	}
	return o
}

// Parsed returns f's parsed expression; it must not be modified.
func (f *Filter) Parsed() *gojq.Query { return f.query }

// Value returns the value bound to $name (name without the '$') as the
// expression sees it, from Options.Vars.
func (f *Filter) Value(name string) (any, bool) {
	for i, n := range f.names {
		if n == "$"+name {
			return f.values[i], true
		}
	}
	return nil, false
}
