package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// jqGCPercent is the garbage collector's target while --jq runs under a
// memory limit the user set (GOMEMLIMIT) but no GOGC.
const jqGCPercent = 400

// argSep joins the two words of "--arg NAME VALUE" into one flag value; an
// argument can never contain it.
const argSep = "\x00"

// joinArgPairs rewrites jq's two-word "--arg NAME VALUE" and
// "--argjson NAME JSON" into one word each, which pflag can parse. The
// forms "--arg NAME=VALUE" and "--arg=NAME=VALUE" are left as they are: a
// NAME cannot contain '=', so a word with one is that form.
func joinArgPairs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if (a == "--arg" || a == "--argjson") && i+2 < len(args) && !strings.Contains(args[i+1], "=") {
			out = append(out, a+"="+args[i+1]+argSep+args[i+2])
			i += 2
			continue
		}
		out = append(out, a)
	}
	return out
}

// addJQFlags declares the transform flags.
func addJQFlags(f *pflag.FlagSet) {
	f.String("jq", "", "jq `EXPR`ession run on each row (gojq); each output is written as a line")
	f.StringArray("arg", nil, "bind $`NAME` to the string VALUE in --jq (\"--arg NAME VALUE\" or \"--arg NAME=VALUE\"); repeatable")
	f.StringArray("argjson", nil, "bind $`NAME` to the JSON value in --jq (\"--argjson NAME JSON\" or \"--argjson NAME=JSON\"); repeatable")
	f.BoolP("raw-output", "r", false, "write --jq string outputs without quotes, as jq -r")
	f.String("on-jq-error", "fail", "when --jq fails on a row: fail (stop, exit 5) or skip (warn, drop the row, go on)")
	f.Int("jq-workers", 0, "goroutines running --jq (default: the number of CPUs Go may use, GOMAXPROCS)")
}

// jqSettings is the transform a stream applies, if any.
type jqSettings struct {
	f       *filter.Filter
	policy  filter.Policy
	workers int
	raw     bool
	warn    func(msg string) // nil discards warnings (--quiet)
}

// compileJQ reads the transform flags and compiles --jq, before any
// connection is made. It returns nil when there is no --jq.
func compileJQ(cmd *cobra.Command, v *viper.Viper, prof *profile, stderr io.Writer) (*jqSettings, error) {
	expr := v.GetString("jq")
	args, argjson := stringsFlag(cmd, prof, "arg"), stringsFlag(cmd, prof, "argjson")
	if expr == "" {
		for _, name := range []string{"arg", "argjson", "raw-output"} {
			if cmd.Flags().Changed(name) {
				return nil, &usageError{fmt.Errorf("--%s applies to --jq output; add --jq EXPR (--jq . for the rows as they are)", name)}
			}
		}
		if cmd.Flags().Changed("jq") {
			return nil, &usageError{fmt.Errorf("--jq is empty; give a jq expression, such as --jq . or --jq .id")}
		}
		return nil, nil
	}
	var s jqSettings
	switch p := v.GetString("on-jq-error"); p {
	case "fail":
		s.policy = filter.Fail
	case "skip":
		s.policy = filter.Skip
	default:
		return nil, &usageError{fmt.Errorf("--on-jq-error must be fail or skip, got %q", p)}
	}
	if s.workers = v.GetInt("jq-workers"); s.workers < 0 {
		return nil, &usageError{fmt.Errorf("--jq-workers must be 0 (one per CPU) or more, got %d", s.workers)}
	}
	var vars []filter.Var
	for _, a := range args {
		name, val, err := splitArg("arg", a)
		if err != nil {
			return nil, err
		}
		vars = append(vars, filter.Var{Name: name, Value: val})
	}
	for _, a := range argjson {
		name, text, err := splitArg("argjson", a)
		if err != nil {
			return nil, err
		}
		val, err := filter.DecodeJSON(text)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--argjson %s: %w", name, err)}
		}
		vars = append(vars, filter.Var{Name: name, Value: val})
	}
	f, err := filter.Compile(expr, filter.Options{
		Vars: vars, Environ: os.Environ(), Raw: v.GetBool("raw-output"), Stderr: stderr,
	})
	if err != nil {
		return nil, err
	}
	s.f = f
	s.raw = v.GetBool("raw-output")
	s.warn = func(msg string) { fmt.Fprintf(stderr, "fraise: warning: %s\n", msg) }
	return &s, nil
}

// splitArg splits an --arg or --argjson value into its name and value.
func splitArg(flag, a string) (string, string, error) {
	name, val, ok := strings.Cut(a, argSep)
	if !ok {
		name, val, ok = strings.Cut(a, "=")
	}
	if !ok {
		return "", "", &usageError{fmt.Errorf("--%s needs a name and a value: --%s NAME VALUE, or --%s NAME=VALUE", flag, flag, flag)}
	}
	if !filter.ValidVarName(name) {
		return "", "", &usageError{fmt.Errorf("--%s: %q is not a jq variable name (letters, digits and _, not starting with a digit)", flag, name)}
	}
	return name, val, nil
}

// jqMemoryBase is the memory limit under --jq beyond what the pipeline
// holds: the runtime's own memory and the room the collector leaves the
// garbage of decoding between two collections. At ~700 bytes of garbage a
// row ({id, email} on v_small), 12 MiB means a collection every ~6,000
// rows: the 10,000th row already sees the peak of a million-row run (see
// docs/performance.md, "Memory and early exit").
const jqMemoryBase = 12 << 20

// tuneGC sets the garbage collector up for --jq and returns what puts it
// back. Decoding makes short-lived garbage by the gigabyte while the live
// heap stays a few MiB. Unless GOGC or GOMEMLIMIT is set, the collector
// runs when fraise's memory reaches a limit (see docs/performance.md)
// rather than in proportion to the live heap: peak memory is then the
// same on a short run as on a long one. The limit rises with the longest
// row seen, so that it never falls below what the pipeline holds.
func tuneGC(p *filter.Pipeline, sink *filterSink) (restore func()) {
	_, gogc := os.LookupEnv("GOGC")
	_, memlimit := os.LookupEnv("GOMEMLIMIT")
	// SetGCPercent(-1) turns the proportional collector off and returns
	// its setting; SetMemoryLimit(-1) only reads the limit.
	percent, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	switch {
	case !gogc && !memlimit:
		// Off, as set: the limit alone decides.
	case !gogc:
		// The user's limit, which may be far above what fraise needs:
		// collect in proportion to the live heap as well.
		debug.SetGCPercent(jqGCPercent)
	default:
		debug.SetGCPercent(percent)
	}
	if !memlimit {
		debug.SetMemoryLimit(jqMemoryBase + p.Holds(0))
		sink.grow = func(maxRow int64) { debug.SetMemoryLimit(jqMemoryBase + p.Holds(maxRow)) }
	}
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// streamFiltered runs the statement with every row going through the jq
// pipeline.
func streamFiltered(ctx context.Context, conn *wire.Conn, st wire.Statement, w *output.NDJSON, s *jqSettings, chunk int, stats *runStats) error {
	p := filter.NewPipeline(ctx, s.f, w, filter.PipelineOptions{
		Workers: s.workers,
		MaxRows: chunk,
		Policy:  s.policy,
		Warn:    s.warn,
	})
	stats.pipe = p
	sink := &filterSink{p: p}
	defer tuneGC(p, sink)()
	counted := &countSink{next: sink, stats: stats}
	_, err := conn.Stream(ctx, st, counted)
	counted.publish()
	// The session ends now, not once a slow reader has taken the output.
	_ = conn.Close()
	switch {
	case err == nil:
		return p.Close()
	case p.Err() != nil || ctx.Err() != nil:
		// The pipeline failed first (its error says why), or the run was
		// stopped: what is queued is not written.
		p.Abort()
		if perr := p.Err(); perr != nil && perr != context.Canceled {
			return perr
		}
		return err
	}
	// The server or the network ended the stream: the rows received are
	// whole, and their lines are written before the error is reported. A
	// row the expression fails on among them comes first, as it would
	// have without the error.
	var rowErr *filter.RowError
	var haltErr *filter.HaltError
	if perr := p.Close(); errors.As(perr, &rowErr) || errors.As(perr, &haltErr) {
		return perr
	}
	return err
}

// filterSink feeds the wire's rows to the jq pipeline.
type filterSink struct {
	p      *filter.Pipeline
	maxRow int64
	grow   func(maxRow int64) // told of each longer row, before it goes in; may be nil
}

func (s *filterSink) Begin(wire.Column) error { return nil }

func (s *filterSink) WriteValue(v []byte) error {
	if n := int64(len(v)); n > s.maxRow {
		s.maxRow = n
		if s.grow != nil {
			s.grow(n)
		}
	}
	return s.p.Write(v)
}

func (s *filterSink) Flush() error { return s.p.Flush() }
