package filter

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/itchyny/gojq"
)

// Var is a variable given to the expression, as jq's --arg and --argjson.
type Var struct {
	// Name is the variable's name without the '$'.
	Name string
	// Value is a string (--arg) or a decoded JSON value (--argjson).
	Value any
}

// Options shape a compiled filter.
type Options struct {
	// Vars are bound to $Name; a later one replaces an earlier one of the
	// same name. They are also available as $ARGS.named, as in jq.
	Vars []Var
	// Environ is the environment as KEY=VALUE strings, for $ENV and env.
	Environ []string
	// Raw writes string outputs without quotes, as jq -r.
	Raw bool
	// Stderr receives the output of debug and stderr; nil discards it.
	Stderr io.Writer
}

// Filter is a compiled jq expression. It is safe for concurrent use.
type Filter struct {
	query  *gojq.Query
	opts   []gojq.CompilerOption
	names  []string // the variables' names, "$" included, for values
	values []any
	raw    bool
	// dem is what the expression can observe of a row; nil for all of it.
	dem *demand
	// bounded is set when the expression's time on a row is bounded by
	// the row's size: it runs without gojq's context check (bounded.go).
	bounded bool
	// ownStrings is set when the expression may use a regular expression:
	// gojq caches compiled patterns by their text for the life of the
	// code, so strings taken from a row must then be copies, not views of
	// bytes the next rows reuse.
	ownStrings bool
}

// CompileError reports an expression that does not compile.
type CompileError struct {
	// Expr is the expression.
	Expr string
	// Offset is the byte offset in Expr of the problem, or -1 when it is not
	// known.
	Offset int
	// Err is gojq's error.
	Err error
}

func (e *CompileError) Error() string { return "invalid jq expression: " + e.Err.Error() }

// Unwrap returns gojq's error.
func (e *CompileError) Unwrap() error { return e.Err }

// ValidVarName reports whether name can be used as $name.
func ValidVarName(name string) bool { return varName().MatchString(name) }

// varName is compiled on first use: a run without --arg does not pay for
// it at start-up.
var varName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`) })

// Compile parses and compiles expr. Nothing is run.
func Compile(expr string, opts Options) (*Filter, error) {
	if i := strings.IndexByte(expr, 0); i >= 0 {
		// gojq's lexer reads a NUL as the end of the text, so that
		// whatever follows would be dropped (a C string, as jq reads its
		// program, ends there too); argv cannot hold one, a config file
		// can. No caret: the line under it would print the NUL.
		return nil, &CompileError{Expr: expr, Offset: -1, Err: fmt.Errorf("a NUL byte (at byte %d) is not allowed in an expression: gojq would end the expression there", i)}
	}
	if deepBrackets(expr, maxExprDepth) >= 0 {
		return nil, &CompileError{Expr: expr, Offset: -1, Err: errTooDeep}
	}
	q, err := gojq.Parse(expr)
	if err != nil {
		ce := &CompileError{Expr: expr, Offset: -1, Err: err}
		var pe *gojq.ParseError
		if errors.As(err, &pe) {
			ce.Offset = min(max(pe.Offset-len(pe.Token), 0), len(expr))
		}
		return nil, ce
	}
	// Before anything that recurses over the tree (readsInput does not).
	if !exprDepthOK(q, maxExprDepth) {
		return nil, &CompileError{Expr: expr, Offset: -1, Err: errTooDeep}
	}
	if len(q.Imports) > 0 {
		// gojq reads imports only at the top of what it compiles, which
		// is fraise's wrapper (see compile): they would be dropped.
		word := "import"
		if q.Imports[0].IncludePath != "" {
			word = "include"
		}
		err := fmt.Errorf("%s is not available: fraise's --jq has no modules (no library path to load them from); define what you need with def in the expression", word)
		return nil, &CompileError{Expr: expr, Offset: locateFunc(expr, word), Err: err}
	}
	if name := readsInput(q); name != "" {
		err := fmt.Errorf("%s is not available: each row is run through the expression on its own", name)
		if name == rowsFunc {
			err = fmt.Errorf("the name %s is reserved by fraise", name)
		}
		return nil, &CompileError{Expr: expr, Offset: locateFunc(expr, name), Err: err}
	}

	names, values := bindVars(opts.Vars)
	out := &lockedWriter{w: opts.Stderr}
	env := opts.Environ
	f := &Filter{query: q, names: names, values: values, raw: opts.Raw, opts: []gojq.CompilerOption{
		gojq.WithVariables(names),
		gojq.WithEnvironLoader(func() []string { return env }),
		gojq.WithFunction("debug", 0, 0, out.debug),
		gojq.WithFunction("stderr", 0, 0, out.stderr),
		gojq.WithFunction("input_filename", 0, 0, func(any, []any) any { return nil }),
	}}
	if _, err := f.compile(gojq.NewIter[any]()); err != nil {
		return nil, &CompileError{Expr: expr, Offset: locateUndefined(expr, err.Error()), Err: err}
	}
	if dem := analyze(q); !dem.whole() {
		f.dem = dem
	}
	f.ownStrings = mayUseRegexp(q)
	f.bounded = boundedTime(q)
	return f, nil
}

// regexpCall finds a call of a function that compiles a regular
// expression (all of jq's go through _match_impl). Matching the query's
// text is conservative: a string or a key that merely reads "test(" makes
// decoding copy strings, which is slower but never wrong.
var regexpCall = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\b(test|match|capture|scan|splits?|sub|gsub|_match_impl)\s*\(`)
})

// mayUseRegexp reports whether q may compile a regular expression.
func mayUseRegexp(q *gojq.Query) bool { return regexpCall().MatchString(q.String()) }

// bindVars returns the variable names and values for gojq, with $ARGS.
func bindVars(vars []Var) ([]string, []any) {
	named := make(map[string]any, len(vars))
	var order []string
	for _, v := range vars {
		if _, ok := named[v.Name]; !ok {
			order = append(order, v.Name)
		}
		named[v.Name] = v.Value
	}
	var names []string
	var values []any
	if _, ok := named["ARGS"]; !ok {
		args := make(map[string]any, len(named))
		for k, v := range named {
			args[k] = v
		}
		names = append(names, "$ARGS")
		values = append(values, map[string]any{"positional": []any{}, "named": args})
	}
	for _, n := range order {
		names = append(names, "$"+n)
		values = append(values, named[n])
	}
	return names, values
}

// readsInput returns "input" or "inputs" when q calls one of them (and does
// not define its own): rows are run one by one, possibly on several
// goroutines, so there is no next input to read. It also returns rowsFunc,
// which is fraise's.
func readsInput(q *gojq.Query) string {
	defined := map[string]bool{}
	var found string
	walkAST(q, func(v reflect.Value, _ int) bool {
		if fd, ok := v.Addr().Interface().(*gojq.FuncDef); ok && len(fd.Args) == 0 {
			defined[fd.Name] = true
		}
		if f, ok := v.Addr().Interface().(*gojq.Func); ok && len(f.Args) == 0 && (f.Name == "input" || f.Name == "inputs") && !defined[f.Name] {
			found = f.Name
		}
		if f, ok := v.Addr().Interface().(*gojq.Func); ok && f.Name == rowsFunc {
			found = f.Name
		}
		return found == ""
	})
	return found
}

// rowsFunc is the function through which a worker feeds rows to the
// expression: one run of "rowsFunc | EXPR" filters a whole batch, which
// saves setting up gojq's machine for every row.
const rowsFunc = "_fraise_rows"

// compile compiles "rowsFunc | EXPR" with rows as the source of rowsFunc.
func (f *Filter) compile(rows gojq.Iter) (*gojq.Code, error) {
	q := &gojq.Query{
		Left:  &gojq.Query{Term: &gojq.Term{Type: gojq.TermTypeFunc, Func: &gojq.Func{Name: rowsFunc}}},
		Op:    gojq.OpPipe,
		Right: f.query,
	}
	opts := append([]gojq.CompilerOption{
		gojq.WithIterFunction(rowsFunc, 0, 0, func(any, []any) gojq.Iter { return rows }),
	}, f.opts...)
	return gojq.Compile(q, opts...)
}

// lockedWriter serializes debug and stderr output from concurrent rows.
type lockedWriter struct {
	mu  sync.Mutex
	w   io.Writer
	enc encoder
	buf []byte
}

func (l *lockedWriter) write(v any, prefix, suffix string, raw bool) any {
	if l.w == nil {
		return v
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := append(l.buf[:0], prefix...)
	if s, ok := v.(string); ok && raw {
		b = append(b, s...)
	} else {
		var err error
		if b, err = l.enc.appendValue(b, v); err != nil {
			return err
		}
	}
	b = append(b, suffix...)
	l.buf = b
	if _, err := l.w.Write(b); err != nil {
		return err
	}
	return v
}

// debug writes ["DEBUG:",v] and a newline, as jq does.
func (l *lockedWriter) debug(v any, _ []any) any {
	return l.write(v, `["DEBUG:",`, "]\n", false)
}

// stderr writes v compactly with no newline (a string raw), as jq 1.7 does.
func (l *lockedWriter) stderr(v any, _ []any) any {
	return l.write(v, "", "", true)
}
