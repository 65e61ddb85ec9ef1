package cli

import (
	"errors"
	"fmt"
	"math"

	"github.com/fraiseql/fraise/internal/pushdown"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
)

// streamOptions are everything a stream runs, read from its settings and
// checked before anything happens: a wrong one is a usage error before
// any file is opened or connection made.
type streamOptions struct {
	relation string // RELATION as given, for the progress bar
	spec     query.Spec
	stmt     query.Statement
	parallel int       // connections that stream (--parallel); 1: one
	split    splitPlan // with parallel > 1
	params   []string
	chunk    int
	jq       *jqSettings    // nil without --jq
	push     *pushdown.Plan // --jq's pushdown; nil without --jq or with --no-pushdown
	explain  bool           // --explain: print the statement, stream nothing
	pushed   []string       // what was pushed and why not the rest, once narrowed
	// pushBlocked says why nothing may be pushed for this statement, "" when
	// it may.
	pushBlocked string
	limits      limits
	out         outputSettings
	resume      *resumeOptions // nil without --resume
	obs         observeSettings
	conn        *wire.Config
}

// resolveStream reads stream's settings (see resolveSettings) into its
// options.
func resolveStream(cmd *cobra.Command, app *app, relArg string) (*streamOptions, error) {
	s, err := resolveSettings(cmd, app.warn)
	if err != nil {
		return nil, err
	}
	o := &streamOptions{relation: relArg, params: s.strs("param")}
	if o.spec, o.stmt, o.chunk, err = buildStatement(s, relArg); err != nil {
		return nil, err
	}
	if err = o.parseParallel(s); err != nil {
		return nil, err
	}
	if o.jq, err = compileJQ(s, app.stderr); err != nil {
		return nil, err
	}
	o.explain = s.bool("explain")
	if o.jq != nil && !s.bool("no-pushdown") {
		o.push = pushdown.Analyze(o.jq.f)
		o.pushBlocked = pushdownBlocked(o.spec, o.split.key, len(o.params), s.given("max-row-size"))
	}
	if o.limits, err = parseLimits(s); err != nil {
		return nil, err
	}
	if o.out, err = parseOutput(s, o.jq != nil && o.jq.raw); err != nil {
		return nil, err
	}
	if o.obs, err = parseObserve(s, o.out.path != "", app.stdout, app.stderr); err != nil {
		return nil, err
	}
	o.quietAndLogs()
	if o.conn, err = profileConnConfig(s, app); err != nil {
		return nil, err
	}
	if o.resume, err = parseResume(s, o); err != nil {
		return nil, err
	}
	o.conn.Log = o.obs.log
	if o.obs.quiet {
		o.conn.OnWarning, o.conn.OnNotice = nil, nil
	}
	// The limits bound connecting too (--idle-timeout, --statement-timeout's
	// backstop): into the connection settings now, before any connection.
	_ = o.wireStatement()
	return o, nil
}

// quietAndLogs gives --jq the run's logger, and no warnings with --quiet.
func (o *streamOptions) quietAndLogs() {
	if o.jq == nil {
		return
	}
	o.jq.log = o.obs.logger()
	if o.obs.quiet {
		o.jq.warn = nil
	}
}

// wireStatement is the statement to run, with its limits: the connection
// settings' too, which the limits may shorten.
func (o *streamOptions) wireStatement() wire.Statement {
	st := wire.Statement{SQL: o.stmt.SQL, Params: o.params, Timeout: o.limits.statement, MaxRowSize: o.limits.maxRow}
	if r := o.spec.Resume; r != nil {
		st.Extra = len(o.resume.keys) // the key's items
		if r.Check {
			st.Extra++ // and the server's check of its order
		}
	}
	o.limits.bound(o.conn, &st)
	return st
}

// buildStatement reads the query settings — RELATION, --column, --where,
// --order-by, --limit, --offset — into the one statement a stream runs,
// with --chunk-size.
func buildStatement(s *settings, relArg string) (query.Spec, query.Statement, int, error) {
	var none query.Statement
	var spec query.Spec
	rel, err := query.ParseRelation(relArg)
	if err != nil {
		return spec, none, 0, err
	}
	col, err := query.ParseColumn(s.str("column"))
	if err != nil {
		return spec, none, 0, err
	}
	limit, offset := s.int("limit"), s.int("offset")
	if limit < 0 && s.given("limit") {
		// Only the absence of --limit means no limit.
		return spec, none, 0, &usageError{fmt.Errorf("--limit must be 0 or more, got %d; leave it out for no limit", limit)}
	}
	if offset < 0 {
		return spec, none, 0, &usageError{fmt.Errorf("--offset must be 0 or more, got %d", offset)}
	}
	chunk := int(min(s.int("chunk-size"), math.MaxInt32))
	if chunk < 1 {
		return spec, none, 0, &usageError{fmt.Errorf("--chunk-size must be at least 1, got %d", chunk)}
	}
	spec = query.Spec{
		Relation: rel, Column: col,
		Where:   s.strs("where"),
		OrderBy: s.str("order-by"),
		Limit:   limit, Offset: offset,
	}
	stmt, err := query.Build(spec)
	return spec, stmt, chunk, err
}

// parseParallel reads --parallel and --split-by.
func (o *streamOptions) parseParallel(s *settings) error {
	n := s.int("parallel")
	if n < 1 || n > maxParallel {
		return &usageError{fmt.Errorf("--parallel must be between 1 and %d, got %d", maxParallel, n)}
	}
	o.parallel = int(n)
	if n > 1 && (o.spec.Limit >= 0 || o.spec.Offset > 0) {
		return &usageError{errors.New("--limit and --offset cannot be split across connections: leave them out with --parallel, or run on one connection")}
	}
	var err error
	o.split, err = parseSplit(s.str("split-by"), o.spec.OrderBy, n, s.given("parallel"))
	return err
}

// statementError carries the statement a failed stream ran, for the
// message to point into its SQL.
type statementError struct {
	err  error
	stmt *query.Statement
}

func (e *statementError) Error() string { return e.err.Error() }
func (e *statementError) Unwrap() error { return e.err }

// withStatement attaches stmt to err, if any, unless err has a statement
// already (a parallel run's range).
func withStatement(err error, stmt *query.Statement) error {
	var se *statementError
	if err == nil || errors.As(err, &se) {
		return err
	}
	return &statementError{err: err, stmt: stmt}
}

// statementOf returns the statement a failed stream ran, if err says.
func statementOf(err error) *statementInfo {
	var se *statementError
	if !errors.As(err, &se) {
		return nil
	}
	return &statementInfo{stmt: *se.stmt}
}

// statementInfo is what error rendering needs to point into the SQL.
type statementInfo struct {
	stmt query.Statement
}
