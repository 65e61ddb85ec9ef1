// Which expressions can be stopped only from inside gojq. Given a context
// other than context.Background, gojq checks it before every instruction
// it executes, which costs a tenth of the time of a filter such as
// `select(.age > 30) | {id, email}`. The check is what stops an
// expression that never ends (`last(range(1e18))`) when the run is
// interrupted. An expression built only of what works through its input
// once and ends with it (paths, operators, object and array construction,
// the builtins that walk, sort or search a value) runs a time bounded by
// the row's size: it is run without the check, and a stop takes effect at
// the next row (the pipeline checks the context between rows). Loops that
// go over the input again for each of its parts, or grow what they work
// on (variables bound with as, reduce, foreach), are left to the check,
// as are recursion, range and their like.

package filter

import (
	"reflect"
	"strings"

	"github.com/itchyny/gojq"
)

// boundedFuncs are the functions, of any arity, whose time is bounded by
// their input's size times that of their arguments. Left out: range,
// repeat, while, until, recurse with arguments (they iterate as long as
// they are told), combinations (exponential), IN (one generator's values
// against another's), input, inputs and modulemeta, anything defined with
// def (it may recurse), and any name this list does not know, one a later
// gojq adds included.
var boundedFuncs = map[string]bool{}

func init() {
	for _, name := range strings.Fields(`
		empty path env builtins debug stderr input_filename length utf8bytelength not keys
		has in inside contains add any all flatten map map_values select to_entries
		from_entries with_entries paths getpath setpath delpaths del pick walk transpose
		first last nth limit skip isempty error halt halt_error toboolean tonumber
		tostring type reverse indices index rindex startswith endswith ltrimstr rtrimstr
		trimstr ltrim rtrim trim explode implode split splits join ascii_downcase
		ascii_upcase tojson fromjson format min max min_by max_by sort sort_by group_by
		unique unique_by abs arrays objects iterables booleans numbers finites normals
		strings nulls values scalars test match capture scan sub gsub tostream fromstream
		truncate_stream bsearch INDEX JOIN infinite nan isinfinite isnan isnormal
		isfinite gmtime localtime mktime strftime strflocaltime strptime now todate
		fromdate todateiso8601 fromdateiso8601 sin cos tan asin acos atan sinh cosh tanh
		asinh acosh atanh floor round nearbyint rint ceil trunc significand fabs sqrt cbrt
		exp exp10 exp2 expm1 frexp modf log log10 log1p log2 logb gamma tgamma lgamma erf
		erfc j0 j1 y0 y1 atan2 copysign drem fdim fmax fmin fmod hypot jn nextafter
		nexttoward remainder ldexp scalb scalbln yn pow fma`) {
		boundedFuncs[name] = true
	}
}

// boundedTime reports whether q's time on a value is bounded by the
// value's size: it defines no function, binds no variable, has no reduce
// or foreach, and calls only boundedFuncs, recurse without arguments (as
// ..), and variables.
func boundedTime(q *gojq.Query) bool {
	ok := true
	walkAST(q, func(v reflect.Value, _ int) bool {
		switch n := v.Addr().Interface().(type) {
		case *gojq.FuncDef, *gojq.Reduce, *gojq.Foreach:
			ok = false
		case *gojq.Query:
			ok = len(n.Patterns) == 0
		case *gojq.Func:
			ok = boundedFuncs[n.Name] || strings.HasPrefix(n.Name, "$") || (n.Name == "recurse" && len(n.Args) == 0)
		}
		return ok
	})
	return ok
}
