package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const streamLong = `Stream the json/jsonb column of RELATION as NDJSON: one JSON document per
line on standard output, exactly as the server sends it (SQL NULL becomes
null; json values spread over several lines are put on one).

RELATION is name or schema.name in SQL identifier syntax: unquoted names are
folded to lower case, "Quoted Names" keep their case. The statement run is

  SELECT <column> FROM <relation> [WHERE (<where>) AND …] [ORDER BY <order>]
  [LIMIT n] [OFFSET m]

inside a READ ONLY, REPEATABLE READ transaction that always ends with
ROLLBACK, so that nothing a run does outlives it (see SECURITY.md for what no
client can undo); --where and --order-by are SQL fragments, run with the
role's privileges, and are the only way SQL gets in.

--jq EXPR runs a jq expression (gojq) on each row on the client, on every
core, keeping row order; each output is a line, compact, object keys sorted,
numbers as the server sent them unless computed. It is compiled before
connecting. A row it fails on stops the stream with exit 5, or with
--on-jq-error skip is dropped: a warning at the first row of each kind of
error (its message, the values it quotes from the row elided), and a
summary of the kinds with their counts at the end.

--jq is pushed down to the server where that pays, without changing one
output byte: on a jsonb column whose rows the planner puts at 512 bytes or
more, the server sends only the parts the expression can observe; a row a
leading select(...) certainly drops is sent as a bare NULL (it keeps its
place, for --limit, --offset and error row numbers). fraise still runs the
whole expression on every row it receives. --explain prints the statement
with what is pushed marked, and exits without streaming; --no-pushdown
sends whole rows.

A reader that goes away (| head, | true) ends the run at once, quietly, with
exit 0; SIGINT or SIGTERM cancels the query, drains the server for 5 s at
most and exits 130 or 143. Either way the server is told to cancel, and the
output ends with a whole line unless its reader stops reading for good, or
a file behind standard output takes only part of a write (at its size
limit, ulimit -f, or on a full disk: exit 6); -o never leaves a cut line.
--statement-timeout, --idle-timeout and --max-row-size bound a run; they
end it with exit 4.

-o FILE writes atomically: a temporary file beside FILE, synced and renamed
onto it only when the run succeeds; on any failure or interruption it is
removed and a previous FILE is left as it was. A .gz or .zst suffix (or
--compress) compresses; --format json writes one array instead of lines. A
destination that cannot be written ends the run with exit 6.

--parallel N streams on N more connections that read one exported
snapshot, each taking ranges of a key (--split-by, by default the single
--order-by expression or the id column), and writes exactly the bytes one
connection writes, ranges in key order. A range that cannot import the
snapshot fails the run (exit 4); too few free connections is exit 3.

--resume writes -o FILE as sealed segments, in .FILE.fraise-resume/ beside
it: a run cut for any reason keeps them, and the same command with --resume
continues after the last sealed --order-by key (which must be unique: a
duplicate is exit 4), then publishes FILE as -o does. Another command is
refused (exit 2); --resume=restart starts over. Rows before the resume point
come from the first run's snapshot, those after from the next run's.

--stats prints one JSON line of counters on stderr at the end; a progress
bar shows on stderr when it is a terminal (--progress); --verbose logs the
run's steps (never a password); --quiet prints only errors.

Connection settings come from --dsn (a postgres:// URL or key=value
conninfo), then the PG* environment variables (PGHOST, PGPORT, PGUSER,
PGDATABASE, PGPASSWORD, PGPASSFILE, PGAPPNAME, PGCONNECT_TIMEOUT, …), then
~/.pgpass, then libpq's defaults, as psql does.

Every flag can also be set as FRAISE_<FLAG>, e.g. FRAISE_DSN, FRAISE_ORDER_BY.
An empty value (-o '', a FRAISE_* variable set to "") is an error, not the
default: leave the flag out, or unset the variable; --param '' alone binds
the empty string. Booleans take true/false, yes/no, on/off or 1/0.`

const streamExample = `  fraise stream v_user
  fraise stream v_user -d "host=/var/run/postgresql dbname=app" \
      --where "data->>'active' = 'true'" --order-by "data->>'name'" --limit 10
  fraise stream '"Odd Schema"."MixedCase"' --column payload | jq .id
  fraise stream v_user --jq 'select(.age > $min) | {id, email}' --argjson min 30
  fraise stream v_user --jq .email -r | sort -u
  fraise stream v_order -o orders.ndjson.zst --stats --quiet
  fraise stream v_user --format json -o users.json
  fraise stream v_order --parallel 4 --order-by id -o orders.ndjson.zst
  fraise stream v_event --order-by id -o events.ndjson.zst --resume`

func newStreamCmd(app *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "stream RELATION",
		Short:   "Stream the JSON column of a relation as NDJSON",
		Long:    streamLong,
		Example: streamExample,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{fmt.Errorf("stream takes exactly one RELATION argument, got %d", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := resolveStream(cmd, app, args[0])
			if err != nil {
				return err
			}
			if o.explain {
				return runExplain(cmd.Context(), app, o)
			}
			return withStatement(runStream(cmd.Context(), app, o), &o.stmt)
		},
	}
	cmd.ValidArgsFunction = completeRelations
	addStreamFlags(cmd.Flags())
	return cmd
}

// addStreamFlags declares stream's flags.
func addStreamFlags(f *pflag.FlagSet) {
	addConnFlags(f)
	f.StringArrayP("where", "w", nil, "`SQL` condition on the rows; repeatable, conditions are ANDed")
	f.StringArray("param", nil, "`VALUE` bound to $1, $2, … in --where and --order-by, in order; repeatable; sent apart from the SQL, never pasted into it")
	f.String("order-by", "", "`SQL` ORDER BY expression list")
	addNumberFlag(f, "limit", -1, "stop after `N` rows")
	addNumberFlag(f, "offset", 0, "skip the first `N` rows")
	f.String("column", "data", "the json/jsonb column to stream")
	addNumberFlag(f, "chunk-size", output.DefaultChunkRows, "rows written out together at most (bounds rows in flight and output latency)")
	addNumberFlag(f, "parallel", 1, "stream on `N` connections that share one snapshot, each taking ranges of the split key; the output is the same as on one")
	f.String("split-by", "", "SQL `EXPR`ession whose ranges --parallel splits the rows by (default: the --order-by expression, else the id column)")
	f.Lookup("limit").DefValue = "none"
	addJQFlags(f)
	addPushdownFlags(f)
	addOutputFlags(f)
	addResumeFlag(f)
	addLimitFlags(f)
	addObserveFlags(f)
}

// runStream runs one stream as o says, from opening the output to
// publishing it.
func runStream(ctx context.Context, app *app, o *streamOptions) error {
	out, log := o.out, o.obs.logger()
	logSettings(log, o.conn)
	stats := newRunStats(out)
	if o.obs.stats {
		app.atEnd = func(code int) { stats.write(app.stderr, code) }
	}
	// The destination is opened before connecting: a file that cannot be
	// written fails the run before any query runs.
	app.awaitSignals()
	var dest *output.Dest
	var target io.Writer
	if r := o.resume; r != nil {
		if err := r.open(out.path, out.comp, log); err != nil {
			return err
		}
		// A forced exit leaves the segments as they are: the sealed ones
		// count, and the next run cuts the data file back to them.
		defer r.seg.Close()
		target = segmentTarget{r.seg}
		stats.resume = r
		if r.seg.IsComplete() {
			// An earlier run read every row and was stopped before it
			// published them: nothing more to read.
			return r.publishComplete(out.array(), log)
		}
	} else {
		var err error
		if dest, err = output.OpenDest(out.path, app.stdout, out.comp); err != nil {
			return err
		}
		defer dest.Abort() // after Commit, nothing
		defer onForcedExit(dest.Abort)()
		stats.dest = dest
		if f := dest.File(); f != nil {
			log.Info("output file", "path", f.Name(), "temporary", f.Temp(), "format", out.format, "compression", out.comp.String())
		}
		target = dest.Writer()
	}

	// One stop for the run: a signal (through ctx), the reader leaving,
	// or an error; a reader gone waits for nothing (see life.go).
	run := wire.NewStop(ctx, output.IsBrokenPipe)
	defer run.Close()
	ctx = run.Context()
	if out.path == "" {
		defer watchReader(app.stdout, run.Cancel)()
	}
	app.setStage(stageConnect, "")
	var w *output.NDJSON
	var bar *progress
	var err error
	if o.parallel > 1 {
		w, bar, err = streamParallel(run, app, o, target, stats)
	} else {
		w, bar, err = streamSingle(run, app, o, target, stats)
	}
	if w == nil {
		// Nothing was streamed: the connection or the setup failed.
		if errors.Is(context.Cause(ctx), output.ErrReaderGone) {
			return output.ErrReaderGone
		}
		return err
	}
	var halted error
	if o.resume != nil {
		halted, err = o.resume.publish(run, w, out.array(), log, err)
	} else {
		halted, err = publish(run, w, dest, log, err)
	}
	if bar != nil {
		bar.finish(err == nil)
	}
	if err == nil {
		return halted
	}
	return err
}

// streamSingle streams on one connection into a writer to dest: the
// writer (nil when the connection failed), the progress bar and the
// stream's outcome.
func streamSingle(run *wire.Stop, app *app, o *streamOptions, target io.Writer, stats *runStats) (*output.NDJSON, *progress, error) {
	ctx := run.Context()
	conn, err := wire.Connect(ctx, o.conn)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	app.setStage(stageQuery, "")
	stats.server = conn.ServerParam("server_version")
	if r := o.resume; r != nil {
		if err := r.prepare(ctx, conn.QueryText, o, stats.server); err != nil {
			return nil, nil, o.withCatalogHint(ctx, conn, err)
		}
	}
	if err := o.narrow(ctx, conn.QueryText, conn.ServerParam("server_encoding")); err != nil {
		return nil, nil, err
	}
	w := output.NewAsyncNDJSON(ctx, target, o.outputOptions())
	stats.out = w
	var bar *progress
	observer := wire.Observer{Progress: stats.progress}
	if o.obs.progress {
		observer.Estimate = func(n int64) { stats.estimate.Store(n) }
		bar = startProgress(app.stderr, safeText(o.relation), stats)
	}
	st := o.wireStatement()
	if o.jq != nil {
		jq := *o.jq
		if r := o.resume; r != nil {
			jq.wrap = func(inner wire.RowSink, p *filter.Pipeline) wire.RowSink { return r.sink(inner, w, p, stats.server) }
		}
		hint := func(err error) error { return o.withCatalogHint(ctx, conn, err) }
		err = streamFiltered(run, conn, st, observer, w, &jq, o.chunk, stats, hint)
	} else {
		var sink wire.RowSink = &ndjsonSink{w}
		if r := o.resume; r != nil {
			sink = r.sink(sink, w, nil, stats.server)
		}
		var res wire.Result
		res, err = conn.Stream(run, st, sink, observer)
		stats.progress(res.Rows, res.Bytes)
		err = o.withCatalogHint(ctx, conn, err)
	}
	// The session ends now, not once a slow reader has taken the output.
	_ = conn.Close()
	return w, bar, err
}

// outputOptions are the options of the run's NDJSON writer.
func (o *streamOptions) outputOptions() output.Options {
	opts := output.Options{ChunkRows: o.chunk, Array: o.out.array()}
	if o.resume != nil {
		opts.Continues = o.resume.lines() > 0
	}
	return opts
}

// logSettings logs where fraise will connect, never the password.
func logSettings(log *slog.Logger, cfg *wire.Config) {
	hosts := make([]string, len(cfg.Hosts))
	for i, h := range cfg.Hosts {
		hosts[i] = h.String()
	}
	log.Info("connection settings", "hosts", strings.Join(hosts, ","), "user", cfg.User, "database", cfg.Database,
		"sslmode", cfg.TLS.Mode, "password_given", cfg.Password != "", "connect_timeout", cfg.ConnectTimeout)
}

// ndjsonSink adapts the NDJSON writer to the wire's row sink.
type ndjsonSink struct{ w *output.NDJSON }

func (s *ndjsonSink) Begin(col wire.Column) error {
	s.w.SetOneLine(col.KeepsInputText())
	return nil
}

func (s *ndjsonSink) WriteValue(v []byte) error { return s.w.WriteValue(v) }
func (s *ndjsonSink) Flush() error              { return s.w.Flush() }
