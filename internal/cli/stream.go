package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// statementInfo is what error rendering needs to point into the SQL.
type statementInfo struct {
	stmt query.Statement
}

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
--on-jq-error skip is dropped with a warning.

A reader that goes away (| head, | true) ends the run at once, quietly, with
exit 0; SIGINT or SIGTERM cancels the query, drains the server for 5 s at
most and exits 130 or 143. Either way the server is told to cancel, and
the output ends with a whole line unless its reader stops reading for
good, or a file behind standard output takes only part of a write (at its
size limit, ulimit -f, or on a full disk: exit 6); -o never leaves a cut
line. --statement-timeout, --idle-timeout and
--max-row-size bound a run; they end it with exit 4.

-o FILE writes atomically: a temporary file beside FILE, synced and renamed
onto it only when the run succeeds; on any failure or interruption it is
removed and a previous FILE is left as it was. A .gz or .zst suffix (or
--compress) compresses; --format json writes one array instead of lines. A
destination that cannot be written ends the run with exit 6.

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
  fraise stream v_user --format json -o users.json`

func newStreamCmd(app *app) *cobra.Command {
	v := viper.New()
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
			app.ran = true
			return runStream(cmd, app, v, args[0])
		},
	}
	cmd.ValidArgsFunction = completeRelations(v)
	f := cmd.Flags()
	addConnFlags(f)
	f.StringArrayP("where", "w", nil, "SQL condition on the rows; repeatable, conditions are ANDed")
	f.StringArray("param", nil, "`VALUE` bound to $1, $2, … in --where and --order-by, in order; repeatable; sent apart from the SQL, never pasted into it")
	f.String("order-by", "", "SQL ORDER BY expression list")
	f.Int64("limit", -1, "stop after `N` rows")
	f.Int64("offset", 0, "skip the first `N` rows")
	f.String("column", "data", "the json/jsonb column to stream")
	f.Int("chunk-size", output.DefaultChunkRows, "rows written out together at most (bounds rows in flight and output latency)")
	f.Lookup("limit").DefValue = "none"
	addJQFlags(f)
	addOutputFlags(f)
	addLimitFlags(f)
	addObserveFlags(f)
	v.SetEnvPrefix("FRAISE")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	_ = v.BindPFlags(f)
	return cmd
}

func runStream(cmd *cobra.Command, app *app, v *viper.Viper, relArg string) error {
	// The profile first: its settings are defaults for everything below.
	prof, err := loadSettings(cmd, v, app.warn)
	if err != nil {
		return err
	}
	stmt, chunk, err := buildStatement(cmd, v, prof, relArg)
	if err != nil {
		return err
	}
	app.stmt = &statementInfo{stmt: stmt}
	jq, err := compileJQ(cmd, v, prof, app.stderr)
	if err != nil {
		return err
	}

	lim, err := parseLimits(v)
	if err != nil {
		return err
	}
	out, err := parseOutput(v, jq != nil && jq.raw)
	if err != nil {
		return err
	}
	obs, err := parseObserve(v, app.stdout, app.stderr)
	if err != nil {
		return err
	}
	log := obs.logger()
	if jq != nil {
		jq.log = log
		if obs.quiet {
			jq.warn = nil
		}
	}

	cfg, err := profileConnConfig(cmd, v, app, prof)
	if err != nil {
		return err
	}
	cfg.Log = obs.log
	if obs.quiet {
		cfg.OnWarning, cfg.OnNotice = nil, nil
	}
	st := wire.Statement{SQL: stmt.SQL, Params: stringsFlag(cmd, prof, "param"), Timeout: lim.statement, MaxRowSize: lim.maxRow,
		// A reader gone (| head) waits for nothing: cancel and go at once.
		Abandon: output.IsBrokenPipe}
	lim.bound(cfg, &st)
	logSettings(log, cfg)

	stats := newRunStats(out)
	if obs.stats {
		app.atEnd = func(code int) { stats.write(app.stderr, code) }
	}
	// The destination is opened before connecting: a file that cannot be
	// written fails the run before any query runs.
	app.awaitSignals()
	dest, err := output.OpenDest(out.path, app.stdout, out.comp)
	if err != nil {
		return err
	}
	defer dest.Abort() // after Commit, nothing
	defer onForcedExit(dest.Abort)()
	stats.dest = dest
	if f := dest.File(); f != nil {
		log.Info("output file", "path", f.Name(), "temporary", f.Temp(), "format", out.format, "compression", out.comp.String())
	}

	ctx, stop := context.WithCancelCause(cmd.Context())
	defer stop(nil)
	if dest.File() == nil {
		defer watchReader(app.stdout, stop)()
	}
	app.setStage(stageConnect, "")
	conn, err := wire.Connect(ctx, cfg)
	if err != nil {
		if errors.Is(context.Cause(ctx), output.ErrReaderGone) {
			return output.ErrReaderGone
		}
		return err
	}
	defer conn.Close()
	app.setStage(stageQuery, "")
	stats.server = conn.ServerParam("server_version")
	clock := watchStop(ctx)
	w := output.NewAsyncNDJSON(ctx, dest.Writer(), output.Options{ChunkRows: chunk, Array: out.array()})
	stats.out = w
	var bar *progress
	var observer wire.Observer
	if obs.progress {
		observer.Estimate = func(n int64) { stats.estimate.Store(n) }
		bar = startProgress(app.stderr, safeText(relArg), stats)
	}
	if jq != nil {
		err = streamFiltered(ctx, conn, st, observer, w, jq, chunk, stats)
	} else {
		sink := &countSink{next: &ndjsonSink{w}, stats: stats}
		_, err = conn.Stream(ctx, st, sink, observer)
		sink.publish()
	}
	// The session ends now, not once a slow reader has taken the output.
	_ = conn.Close()
	halted, err := publish(ctx, clock, w, dest, log, err)
	if bar != nil {
		bar.finish(err == nil)
	}
	if err == nil {
		return halted
	}
	return err
}

// publish ends the output once the rows are done, with err the stream's
// outcome: a whole output is committed (a file published), a failed one
// ended as well as it can be. halt with code 0 (as jq) ends the output as
// the end of the rows does, and is returned as halted.
func publish(ctx context.Context, clock *stopClock, w *output.NDJSON, dest *output.Dest, log *slog.Logger, err error) (halted, _ error) {
	var he *filter.HaltError
	if errors.As(err, &he) && he.Code == 0 {
		halted, err = err, nil
	}
	if err == nil {
		if err = w.Finish(); err == nil {
			err = w.Flush()
		}
	}
	err = finishOutput(ctx, clock, w, err)
	if err == nil {
		if err = dest.Commit(); err == nil && dest.File() != nil {
			log.Info("output file complete", "path", dest.File().Name(), "bytes", dest.Written())
		}
	} else {
		// A compressed stdout still gets the end of its stream, after the
		// whole lines written, unless a write is stuck.
		dest.Fail(w.Drained())
	}
	return halted, err
}

// buildStatement reads the query settings — RELATION, --column, --where,
// --order-by, --limit, --offset — into the one statement a stream runs,
// with --chunk-size.
func buildStatement(cmd *cobra.Command, v *viper.Viper, prof *profile, relArg string) (query.Statement, int, error) {
	var none query.Statement
	rel, err := query.ParseRelation(relArg)
	if err != nil {
		return none, 0, err
	}
	col, err := query.ParseColumn(v.GetString("column"))
	if err != nil {
		return none, 0, err
	}
	limit, err := intSetting(v, "limit")
	if err != nil {
		return none, 0, err
	}
	offset, err := intSetting(v, "offset")
	if err != nil {
		return none, 0, err
	}
	if limit < 0 && v.IsSet("limit") {
		// Only the absence of --limit means no limit.
		return none, 0, &usageError{fmt.Errorf("--limit must be 0 or more, got %d; leave it out for no limit", limit)}
	}
	if offset < 0 {
		return none, 0, &usageError{fmt.Errorf("--offset must be 0 or more, got %d", offset)}
	}
	chunk64, err := intSetting(v, "chunk-size")
	if err != nil {
		return none, 0, err
	}
	chunk := int(min(chunk64, math.MaxInt32))
	if chunk < 1 {
		return none, 0, &usageError{fmt.Errorf("--chunk-size must be at least 1, got %d", chunk)}
	}
	stmt, err := query.Build(query.Spec{
		Relation: rel, Column: col,
		Where:   stringsFlag(cmd, prof, "where"),
		OrderBy: v.GetString("order-by"),
		Limit:   limit, Offset: offset,
	})
	return stmt, chunk, err
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

// stringsFlag returns a repeatable flag's values; from the environment it
// is one value, never split on spaces or commas (SQL contains both); then
// the profile's, one value or a list.
func stringsFlag(cmd *cobra.Command, prof *profile, name string) []string {
	if f := cmd.Flags().Lookup(name); f.Changed {
		// GetStringArray round-trips through text and loses a lone "".
		return f.Value.(pflag.SliceValue).GetSlice()
	}
	if s, ok := os.LookupEnv(envName(name)); ok {
		return []string{s} // empty only where that is a value (--param)
	}
	if vals, ok := prof.strings(name); ok {
		return vals
	}
	return nil
}

// ndjsonSink adapts the NDJSON writer to the wire's row sink.
type ndjsonSink struct{ w *output.NDJSON }

func (s *ndjsonSink) Begin(col wire.Column) error {
	s.w.SetOneLine(col.KeepsInputText())
	return nil
}

func (s *ndjsonSink) WriteValue(v []byte) error { return s.w.WriteValue(v) }
func (s *ndjsonSink) Flush() error              { return s.w.Flush() }
