package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fraiseql/fraise/internal/pushdown"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/pflag"
)

// addPushdownFlags declares the flags of --jq pushdown.
func addPushdownFlags(f *pflag.FlagSet) {
	addBoolFlag(f, "no-pushdown", "", "run all of --jq on the client: the server sends whole rows (pushdown never changes the output, only what is sent)")
	addBoolFlag(f, "explain", "", "print the SQL a run would send, with what --jq pushes down marked, and exit without streaming")
}

// queryFunc runs one catalog query (wire.Conn.QueryText, or a snapshot's).
type queryFunc func(ctx context.Context, sql string, params []string, row func(values [][]byte) error) error

// columnTypeSQL finds the type of the streamed column; no row when the
// relation or column does not exist (the stream then says so itself).
const columnTypeSQL = `SELECT a.atttypid::int8 FROM pg_catalog.pg_attribute a WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`

// narrow writes o's --jq pushdown into its statement for the server q
// runs on, whose server_encoding is encoding: it looks the column's type
// up, and binds the plan's parameters after the user's. Without a plan,
// or when the column is neither json nor jsonb, the statement is left as
// it is.
func (o *streamOptions) narrow(ctx context.Context, q queryFunc, encoding string) error {
	o.pushed = o.pushNotes()
	if o.push == nil || o.push.Empty() {
		o.logPushdown()
		return nil
	}
	if o.pushBlocked != "" {
		o.pushed = []string{"none: " + o.pushBlocked}
		o.logPushdown()
		return nil
	}
	var oid int64 = -1
	err := q(ctx, columnTypeSQL, []string{o.spec.Relation.String(), o.spec.Column}, func(v [][]byte) error {
		n, err := strconv.ParseInt(string(v[0]), 10, 64)
		oid = n
		return err
	})
	if err != nil {
		return err
	}
	if oid != wire.OIDJSON && oid != wire.OIDJSONB {
		o.pushed = []string{"none: the column's type is not json or jsonb (a domain or another type, or the relation was not found)"}
		o.logPushdown()
		return nil
	}
	width, err := o.rowWidth(ctx, q)
	if err != nil {
		return err
	}
	n, params, notes := o.push.Render(pushdown.Target{
		Column: o.spec.Column, JSONB: oid == wire.OIDJSONB,
		UTF8: strings.EqualFold(encoding, "UTF8"), FirstParam: len(o.params) + 1,
		Width: width,
	})
	o.pushed = notes
	o.logPushdown()
	if n == nil {
		return nil
	}
	spec := o.spec
	spec.Narrowing = n
	stmt, err := query.Build(spec)
	if err != nil {
		return err
	}
	o.spec, o.stmt = spec, stmt
	o.jq.nullDropped = n.DropsRows
	o.params = append(o.params[:len(o.params):len(o.params)], params...)
	return nil
}

// pushdownBlocked says why nothing may be pushed into spec's statement
// with params --param values, "" when something may: the narrowing must
// not change which statement the user's SQL makes, nor which rows a limit
// refuses.
func pushdownBlocked(spec query.Spec, splitKey string, params int, maxRowGiven bool) string {
	most := query.MaxPlaceholder(splitKey)
	for _, w := range spec.Where {
		most = max(most, query.MaxPlaceholder(w))
	}
	most = max(most, query.MaxPlaceholder(spec.OrderBy))
	switch {
	case most != params:
		return fmt.Sprintf("the user's SQL names $%d as its last placeholder, and %d --param values are given: the statement is left as it is, for the server to say what is wrong", most, params)
	case spec.OrderBy != "" && query.HasOrdinal(spec.OrderBy):
		return "--order-by names a column by its position, which is the narrowed value's"
	case maxRowGiven:
		return "--max-row-size counts the bytes of whole rows, which pushdown would not send"
	}
	return ""
}

// rowWidth is the planner's estimate of the column's bytes per row
// (EXPLAIN of the bare SELECT: no user SQL in it), when the plan has a
// projection to weigh; 0 otherwise.
func (o *streamOptions) rowWidth(ctx context.Context, q queryFunc) (int64, error) {
	if !o.push.Projects() {
		return 0, nil
	}
	sql := "EXPLAIN (FORMAT JSON) SELECT " + query.QuoteIdent(o.spec.Column) + " FROM " + o.spec.Relation.String()
	var plan []byte
	if err := q(ctx, sql, nil, func(v [][]byte) error {
		plan = append(plan, v[0]...)
		return nil
	}); err != nil {
		return 0, err
	}
	_, width, err := wire.PlanSize(plan)
	return width, err
}

// pushNotes are the plan's notes, or why there is none.
func (o *streamOptions) pushNotes() []string {
	switch {
	case o.jq == nil:
		return nil
	case o.push == nil:
		return []string{"none: --no-pushdown"}
	}
	return o.push.Notes()
}

// logPushdown tells --verbose what was pushed, and why not the rest.
func (o *streamOptions) logPushdown() {
	log := o.obs.logger()
	if log == nil {
		return
	}
	for _, n := range o.pushed {
		log.Info("pushdown", "note", n)
	}
}

// runExplain prints the statement a run of o would send, its parameters
// and what --jq pushes down, after connecting to find the column's type.
func runExplain(ctx context.Context, app *app, o *streamOptions) error {
	conn, err := wire.Connect(ctx, o.conn)
	if err != nil {
		return err
	}
	defer conn.Close()
	if r := o.resume; r != nil {
		if err := r.explain(ctx, conn.QueryText, o); err != nil {
			return err
		}
	}
	if err := o.narrow(ctx, conn.QueryText, conn.ServerParam("server_encoding")); err != nil {
		return err
	}
	return writeExplain(app.stdout, o)
}

// writeExplain writes o's statement, parameters and pushdown notes.
func writeExplain(w io.Writer, o *streamOptions) error {
	var b strings.Builder
	b.WriteString("-- the statement fraise sends, in a READ ONLY transaction that ends with ROLLBACK\n")
	if o.parallel > 1 {
		fmt.Fprintf(&b, "-- (--parallel %d: each connection adds a range of %s)\n", o.parallel, safeText(o.split.key))
	}
	for _, line := range strings.Split(o.stmt.SQL+";", "\n") {
		b.WriteString(safeText(line) + "\n")
	}
	for i, p := range o.params {
		fmt.Fprintf(&b, "-- $%d = %s\n", i+1, safeText(quoteLiteral(p)))
	}
	for _, n := range o.pushed {
		fmt.Fprintf(&b, "-- pushdown %s\n", safeText(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
