package pushdown

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/itchyny/gojq"
)

// Plan is what an expression lets a server narrow, for any column type.
type Plan struct {
	// observed is what the expression observes of a row; nil when whole.
	observed *filter.Observed
	// conds are the pushed select conditions, in order.
	conds []cond
	// notes say what is pushed and why something is not, for --verbose.
	notes []string
}

// Analyze reads f's expression into a plan.
func Analyze(f *filter.Filter) *Plan {
	p := &Plan{}
	if o := f.Observed(); !o.Whole {
		p.observed = o
	} else {
		p.notes = append(p.notes, "projection: none, the expression may observe whole rows")
	}
	p.selections(f.Parsed(), f.Value)
	return p
}

// Empty reports whether the plan narrows nothing.
func (p *Plan) Empty() bool { return p.observed == nil && len(p.conds) == 0 }

// Projects reports whether the plan narrows the rows' values.
func (p *Plan) Projects() bool { return p.observed != nil }

// Notes say what the plan pushes and why something is not pushed.
func (p *Plan) Notes() []string { return p.notes }

// selections collects the conditions of the selects at the head of q:
// select(A) | select(B) | … .
func (p *Plan) selections(q *gojq.Query, v vars) {
	for q != nil {
		if len(q.FuncDefs) > 0 || len(q.Imports) > 0 || q.Meta != nil {
			p.note("selection: none, the expression defines functions (select, not and has could mean something else)")
			return
		}
		head := q
		if q.Op == gojq.OpPipe && len(q.Patterns) == 0 {
			head = q.Left
		}
		arg, ok := selectArg(head)
		if !ok {
			return
		}
		c, err := condOf(arg, v)
		var un *unsupportedError
		switch {
		case errors.As(err, &un):
			p.note("selection: select(" + arg.String() + ") stays on the client: " + err.Error())
			return
		case err != nil:
			return
		}
		p.conds = append(p.conds, c)
		p.note("selection: select(" + c.String() + ") also narrows on the server")
		if head == q {
			return
		}
		q = q.Right
	}
}

// selectArg returns COND of a query that is select(COND).
func selectArg(q *gojq.Query) (*gojq.Query, bool) {
	if q == nil || q.Op != 0 || q.Term == nil || len(q.FuncDefs) > 0 {
		return nil, false
	}
	t := q.Term
	if t.Type != gojq.TermTypeFunc || t.Func.Name != "select" || len(t.Func.Args) != 1 || len(t.SuffixList) > 0 {
		return nil, false
	}
	return t.Func.Args[0], true
}

func (p *Plan) note(s string) { p.notes = append(p.notes, s) }

// describe lists the observed paths: .id, .user.email, .tags (whole).
func describe(o *filter.Observed) string {
	var paths []string
	var walk func(o *filter.Observed, at path)
	walk = func(o *filter.Observed, at path) {
		if o.Whole {
			paths = append(paths, at.String())
			return
		}
		if len(o.Keys) == 0 {
			paths = append(paths, at.String()+" (only whether it is an object)")
		}
		for _, k := range slices.Sorted(maps.Keys(o.Keys)) {
			walk(o.Keys[k], append(slices.Clip(at), k))
		}
	}
	walk(o, nil)
	return strings.Join(paths, ", ")
}
