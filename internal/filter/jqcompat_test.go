package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// jqEnviron is the whole environment of the jq processes and the Environ of
// the filters, so that $ENV and env agree on both sides.
var jqEnviron = []string{"FRAISE_JQCOMPAT=héllo wörld", "TZ=UTC", "LC_ALL=C"}

// jqVar is a variable given to both sides: --arg (a string) or --argjson.
type jqVar struct {
	name, value string
	json        bool
}

func jqArg(name, value string) jqVar     { return jqVar{name: name, value: value} }
func jqArgJSON(name, value string) jqVar { return jqVar{name: name, value: value, json: true} }

// jqCase is an expression run by fraise and by jq over the same rows.
type jqCase struct {
	expr string
	// rows are the input rows; nil means jqUsers.
	rows []string
	vars []jqVar
	// raw runs jq -r and Options.Raw; the lines are then compared as text.
	raw bool
	// nested says the outputs are strings holding JSON (tojson, tostring of
	// objects): what they hold is compared, as gojq sorts object keys where
	// jq 1.6 keeps their order.
	nested bool
}

func (c jqCase) name() string {
	if c.raw {
		return "raw " + c.expr
	}
	return c.expr
}

func (c jqCase) input() []string {
	if c.rows == nil {
		return jqUsers
	}
	return c.rows
}

// options returns the filter options matching c's jq command line.
func (c jqCase) options(t testing.TB) Options {
	t.Helper()
	opts := Options{Raw: c.raw, Environ: jqEnviron}
	for _, v := range c.vars {
		var value any = v.value
		if v.json {
			var err error
			if value, err = DecodeJSON(v.value); err != nil {
				t.Fatalf("--argjson %s %s: %v", v.name, v.value, err)
			}
		}
		opts.Vars = append(opts.Vars, Var{Name: v.name, Value: value})
	}
	return opts
}

// jqBinary returns the path of jq, skipping the test when it is missing,
// except on CI, which must run these tests.
func jqBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("jq")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("jq is needed on CI: %v", err)
		}
		t.Skip("jq not installed; apt-get install jq")
	}
	return path
}

// runJQ runs jq -c over rows given as NDJSON (SQL NULL as null) and returns
// its output lines and its exit error, if any.
func runJQ(t testing.TB, jq string, c jqCase, rows []string) (lines []string, stderr string, err error) {
	t.Helper()
	args := []string{"-c"}
	if c.raw {
		args = append(args, "-r")
	}
	for _, v := range c.vars {
		if v.json {
			args = append(args, "--argjson", v.name, v.value)
		} else {
			args = append(args, "--arg", v.name, v.value)
		}
	}
	args = append(args, c.expr)
	var in strings.Builder
	for _, r := range rows {
		if r == sqlNull {
			r = "null"
		}
		in.WriteString(r + "\n")
	}
	cmd := exec.Command(jq, args...)
	cmd.Env = jqEnviron
	cmd.Stdin = strings.NewReader(in.String())
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running jq: %v", err)
	}
	if s := strings.TrimSuffix(out.String(), "\n"); s != "" {
		lines = strings.Split(s, "\n")
	}
	return lines, errOut.String(), err
}

// diffOutputs compares fraise's lines with jq's and describes the first
// difference, or returns "". Raw lines are compared as text; others as the
// JSON values they hold (numbers as float64), since gojq sorts object keys
// and jq 1.6 keeps them in order, and jq 1.6 rewrites number literals.
func diffOutputs(c jqCase, got, want []string) string {
	for i := 0; i < max(len(got), len(want)); i++ {
		if i >= len(got) {
			return fmt.Sprintf("line %d missing; jq printed %s", i+1, want[i])
		}
		if i >= len(want) {
			return fmt.Sprintf("extra line %d %s; jq printed %d lines", i+1, got[i], len(want))
		}
		if c.raw {
			if got[i] != want[i] {
				return fmt.Sprintf("line %d: fraise %q, jq %q", i+1, got[i], want[i])
			}
			continue
		}
		g, gerr := jsonValue(got[i], c.nested)
		w, werr := jsonValue(want[i], c.nested)
		if gerr != nil || werr != nil {
			return fmt.Sprintf("line %d: fraise %s (%v), jq %s (%v)", i+1, got[i], gerr, want[i], werr)
		}
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("line %d: fraise %s, jq %s", i+1, got[i], want[i])
		}
	}
	return ""
}

// jsonValue decodes a line; with nested, a string holding JSON is decoded
// in turn.
func jsonValue(line string, nested bool) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && nested {
		var inner any
		if err := json.Unmarshal([]byte(s), &inner); err != nil {
			return nil, fmt.Errorf("string does not hold JSON: %w", err)
		}
		return map[string]any{"nested JSON": inner}, nil
	}
	return v, nil
}

// TestJQCompat proves that fraise's filter outputs what the jq binary
// outputs: for every expression of jqCases, the rows are filtered by
// fraise (with one worker and with two, so that batches are filtered
// concurrently and written back in order) and piped through jq as NDJSON,
// and both must print the same values in the same order, line for line.
// This covers gojq's evaluation as well as fraise's own parts: the
// decoder, the demand analysis that decodes only what the expression
// reads, the encoder and the pipeline's ordering. Values are compared,
// not bytes, because gojq sorts object keys and jq 1.6 rewrites number
// literals (1.0 as 1); raw (-r) output is compared byte for byte.
func TestJQCompat(t *testing.T) {
	jq := jqBinary(t)
	for _, c := range jqCases {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			rows := c.input()
			want, stderr, err := runJQ(t, jq, c, rows)
			if err != nil {
				t.Fatalf("jq failed: %v\n%s", err, stderr)
			}
			for _, workers := range []int{1, 2} {
				got, warnings, err := runFilter(t, c.expr, c.options(t), rows, Fail, workers)
				if err != nil {
					t.Fatalf("workers %d: %v", workers, err)
				}
				if len(warnings) > 0 {
					t.Errorf("workers %d: warnings %q", workers, warnings)
				}
				if d := diffOutputs(c, got, want); d != "" {
					t.Errorf("workers %d: %s\nfraise: %q\njq:     %q", workers, d, got, want)
				}
			}
		})
	}
}

// TestJQCompatRowErrors proves that fraise fails on the rows jq fails on.
// jq, given all the rows, must report an error, and given one row at a
// time must fail (exit non-zero) on exactly failRows. With the Fail policy, fraise must return a
// *RowError for the first failing row, having printed what jq prints up to
// and including that row (jq prints a row's outputs before its error too);
// with Skip, it must print exactly jq's outputs for the other rows.
func TestJQCompatRowErrors(t *testing.T) {
	jq := jqBinary(t)
	for _, c := range jqErrCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			jc := jqCase{expr: c.expr, rows: c.rows}
			// jq 1.6's exit status is that of the last row only: look for
			// its error messages as well.
			if _, stderr, err := runJQ(t, jq, jc, c.rows); err == nil && !strings.Contains(stderr, "error") {
				t.Fatal("jq succeeded over all the rows")
			}
			var failed []int
			var rest []string // jq's output for the rows it does not fail on
			for i, r := range c.rows {
				lines, _, err := runJQ(t, jq, jc, []string{r})
				if err != nil {
					failed = append(failed, i+1)
				} else {
					rest = append(rest, lines...)
				}
			}
			if !reflect.DeepEqual(failed, c.failRows) {
				t.Fatalf("jq fails on rows %v, the case says %v", failed, c.failRows)
			}
			first := c.failRows[0]
			upTo, _, _ := runJQ(t, jq, jc, c.rows[:first])

			for _, workers := range []int{1, 2} {
				got, _, err := runFilter(t, c.expr, Options{}, c.rows, Fail, workers)
				var re *RowError
				if !errors.As(err, &re) {
					t.Fatalf("workers %d, Fail: error %v (%T), want a *RowError", workers, err, err)
				}
				if re.Row != int64(first) {
					t.Errorf("workers %d, Fail: error on row %d, want row %d: %v", workers, re.Row, first, err)
				}
				if d := diffOutputs(jc, got, upTo); d != "" {
					t.Errorf("workers %d, Fail: %s\nfraise: %q\njq:     %q", workers, d, got, upTo)
				}

				got, warnings, err := runFilter(t, c.expr, Options{}, c.rows, Skip, workers)
				if err != nil {
					t.Fatalf("workers %d, Skip: %v", workers, err)
				}
				if d := diffOutputs(jc, got, rest); d != "" {
					t.Errorf("workers %d, Skip: %s\nfraise: %q\njq:     %q", workers, d, got, rest)
				}
				summary := fmt.Sprintf("skipped %d of %d rows", len(c.failRows), len(c.rows))
				if len(warnings) == 0 || !strings.HasPrefix(warnings[len(warnings)-1], summary) {
					t.Errorf("workers %d, Skip: warnings %q, want a last one starting %q", workers, warnings, summary)
				}
			}
		})
	}
}

// TestJQKnownDifferences pins what fraise prints where jq 1.6 and gojq
// disagree by design (see jqKnownDifferences). jq's output is only logged:
// some of these differences are gone in jq 1.7.
func TestJQKnownDifferences(t *testing.T) {
	jq, err := exec.LookPath("jq")
	for _, c := range jqKnownDifferences {
		t.Run(c.expr, func(t *testing.T) {
			t.Parallel()
			jc := jqCase{expr: c.expr, rows: c.rows, raw: c.raw}
			got, _, ferr := runFilter(t, c.expr, Options{Raw: c.raw}, jc.input(), Fail, 2)
			var ce *CompileError
			var re *RowError
			switch {
			case c.compileErr:
				if !errors.As(ferr, &ce) {
					t.Errorf("got %q and error %v, want a *CompileError", got, ferr)
				}
			case c.rowErr:
				if !errors.As(ferr, &re) {
					t.Errorf("got %q and error %v, want a *RowError", got, ferr)
				}
			case ferr != nil:
				t.Fatal(ferr)
			case !reflect.DeepEqual(got, c.fraise):
				t.Errorf("fraise printed %q, want %q", got, c.fraise)
			}
			if err == nil {
				lines, stderr, err := runJQ(t, jq, jc, jc.input())
				t.Logf("jq printed %q (error %v %s); %s", lines, err, strings.TrimSpace(stderr), c.why)
			}
		})
	}
}
