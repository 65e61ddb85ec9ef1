package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/pflag"
)

// jqGCPercent is the garbage collector's target while --jq runs, unless
// GOGC is set: a collection once the heap has grown by half the live heap.
// Decoding builds each row in the memory of the one before (see
// filter.decoder), so little garbage is made and collections are cheap;
// a low target keeps the heap near the live one, so that a run of ten
// thousand rows peaks as high as one of a million (docs/performance.md,
// "Memory and early exit").
const jqGCPercent = 50

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
	addBoolFlag(f, "raw-output", "r", "write --jq string outputs without quotes, as jq -r")
	f.String("on-jq-error", "fail", "when --jq fails on a row: fail (stop, exit 5) or skip (drop the row, go on; warn once per kind of error, sum up at the end)")
	addNumberFlag(f, "jq-workers", 0, "run --jq on `N` goroutines; 0: fraise chooses as the rows flow, between the network reader alone and up to GOMAXPROCS workers")
}

// jqSettings is the transform a stream applies, if any.
type jqSettings struct {
	f       *filter.Filter
	policy  filter.Policy
	workers int
	raw     bool
	warn    func(msg string) // nil discards warnings (--quiet)
	log     *slog.Logger     // --verbose
	// onSkip, when set, takes the skipped rows instead of warn (a
	// parallel run's range: its run reports them in the output's order).
	onSkip func(row int64, msg string)
	// nullDropped: the server sends a row pushdown drops as SQL NULL.
	nullDropped bool
	// wrap, when set, is the sink of the rows, over the one that feeds
	// the pipeline p (a resumable run's).
	wrap func(inner wire.RowSink, p *filter.Pipeline) wire.RowSink
}

// jqClock replaces, when set, the clock by which the jq pipeline measures
// its throughput to choose its workers (tests).
var jqClock func() time.Duration

// compileJQ reads the transform flags and compiles --jq, before any
// connection is made. It returns nil when there is no --jq.
func compileJQ(s *settings, stderr io.Writer) (*jqSettings, error) {
	expr := s.str("jq")
	args, argjson := s.strs("arg"), s.strs("argjson")
	if expr == "" {
		for _, name := range []string{"arg", "argjson", "raw-output"} {
			if s.vals[name].from == fromFlag {
				return nil, &usageError{fmt.Errorf("--%s applies to --jq output; add --jq EXPR (--jq . for the rows as they are)", name)}
			}
		}
		return nil, nil
	}
	var j jqSettings
	onError, err := oneOf(s, "on-jq-error")
	if err != nil {
		return nil, err
	}
	j.policy = filter.Fail
	if onError == "skip" {
		j.policy = filter.Skip
	}
	if j.workers = int(min(s.int("jq-workers"), 1<<16)); j.workers < 0 {
		return nil, &usageError{fmt.Errorf("--jq-workers must be 0 (fraise chooses) or more, got %d", j.workers)}
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
		Vars: vars, Environ: os.Environ(), Raw: s.bool("raw-output"), Stderr: stderr,
	})
	if err != nil {
		return nil, err
	}
	j.f = f
	j.raw = s.bool("raw-output")
	j.warn = func(msg string) { printSafe(stderr, "fraise: warning: %s\n", msg) }
	return &j, nil
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

// tuneGC sets the collector's target for --jq, unless GOGC is set, and
// returns what puts it back. GOMEMLIMIT, when set, applies as it does
// anywhere.
func tuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(jqGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// streamFiltered runs the statement with every row going through the jq
// pipeline; obs is told how the stream goes.
func streamFiltered(run *wire.Stop, conn *wire.Conn, st wire.Statement, obs wire.Observer, w *output.NDJSON, s *jqSettings, chunk int, stats *runStats, hint func(error) error) error {
	return filterStream(run, conn, st, obs, w, s, chunk, stats, func(res wire.Result, err error) error {
		stats.progress(res.Rows, res.Bytes)
		err = hint(err) // on the session, before it ends
		// The session ends now, not once a slow reader has taken the output.
		_ = conn.Close()
		return err
	})
}

// filterStream runs st on conn with every row going through a jq pipeline
// of its own into w; ended is told the stream's result and error as soon
// as it returns, before the pipeline has written what it holds, and
// returns the error to go on with.
func filterStream(run *wire.Stop, conn *wire.Conn, st wire.Statement, obs wire.Observer, w *output.NDJSON, s *jqSettings, chunk int, stats *runStats, ended func(wire.Result, error) error) error {
	ctx := run.Context()
	p := filter.NewPipeline(ctx, s.f, w, filter.PipelineOptions{
		Workers: s.workers,
		MaxRows: chunk,
		Policy:  s.policy,
		Warn:    s.warn,
		OnSkip:  s.onSkip,
		Clock:   jqClock,

		NullDropped: s.nullDropped,
	})
	stats.addPipe(p)
	defer logTuning(s.log, p)
	var sink wire.RowSink = &filterSink{p: p}
	if s.wrap != nil {
		sink = s.wrap(sink, p)
	}
	defer tuneGC()()
	res, err := conn.Stream(run, st, sink, obs)
	err = ended(res, err)
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

// logTuning tells --verbose how the jq pipeline spread its work: its
// fixed number of workers or, when fraise chose it as the rows flowed,
// the changes it made (trials included) and the share of the rows' bytes
// done at each number of workers (0: the network reader filtered the rows
// itself).
func logTuning(log *slog.Logger, p *filter.Pipeline) {
	if log == nil {
		return
	}
	moves, shares := p.Tuning()
	if shares == nil {
		log.Info("jq workers", "workers", p.Workers())
		return
	}
	var total int64
	for _, s := range shares {
		total += s.Bytes
	}
	parts := make([]string, len(shares))
	for i, s := range shares {
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(s.Bytes) / float64(total)
		}
		parts[i] = fmt.Sprintf("%d: %.0f%% (%d windows)", s.Workers, pct, s.Windows)
	}
	log.Info("jq workers", "workers", "adaptive", "changes", moves, "bytes_by_workers", strings.Join(parts, ", "))
}

// filterSink feeds the wire's rows to the jq pipeline.
type filterSink struct {
	p *filter.Pipeline
}

func (s *filterSink) Begin(wire.Column) error { return nil }

func (s *filterSink) WriteValue(v []byte) error { return s.p.Write(v) }

func (s *filterSink) Flush() error { return s.p.Flush() }

// KeepValue hands a huge row to the pipeline without a copy.
func (s *filterSink) KeepValue(v []byte) error { return s.p.Keep(v) }
