package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// jsonTypesCTE begins a query with json_types: json and jsonb, and the
// domains over either at any depth (arrays are other types), each with
// the one it is over.
const jsonTypesCTE = `WITH RECURSIVE json_types(oid, base) AS (
    SELECT t.oid, t.oid FROM pg_catalog.pg_type t WHERE t.oid IN (114, 3802)
  UNION ALL
    SELECT d.oid, j.base
    FROM pg_catalog.pg_type d JOIN json_types j ON d.typbasetype = j.oid
    WHERE d.typtype = 'd'
)`

// viewsSQL lists the relations whose column $1 is json or jsonb, or a
// domain over either at any depth (arrays are other types), that the user
// can read: USAGE on the schema and SELECT on the column (or the whole
// relation). Catalog schemas and other sessions' temporary schemas are
// left out. The row estimate is the planner's (pg_class.reltuples: -1
// until the relation is first analyzed, and meaningless for a view), NULL
// when unknown; before PostgreSQL 14 a relation never analyzed has 0 rows
// in 0 pages, indistinguishable from an empty one, so that is unknown too.
// It is fixed text: the column name is a parameter.
const viewsSQL = jsonTypesCTE + `
SELECT n.nspname, c.relname, c.relkind,
       pg_catalog.format_type(j.base, NULL),
       CASE WHEN a.atttypid <> j.base THEN pg_catalog.format_type(a.atttypid, NULL) END,
       CASE WHEN c.relkind IN ('r', 'm', 'p', 'f') AND c.reltuples >= 0
             AND NOT (c.reltuples = 0 AND c.relpages = 0
                      AND pg_catalog.current_setting('server_version_num')::pg_catalog.int4 < 140000)
            THEN c.reltuples::pg_catalog.int8 END,
       pg_catalog.pg_table_is_visible(c.oid)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN json_types j ON j.oid = a.atttypid
WHERE a.attname = $1
  AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT pg_catalog.pg_is_other_temp_schema(n.oid)
  AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
  AND pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')
ORDER BY n.nspname, c.relname`

// relKinds names pg_class.relkind values.
var relKinds = map[string]string{
	"r": "table", "v": "view", "m": "materialized view", "p": "partitioned table", "f": "foreign table",
}

// relationInfo is one row of viewsSQL.
type relationInfo struct {
	rel     query.Relation
	kind    string
	typ     string // json or jsonb
	domain  string // the column's domain, "" for none
	rows    int64  // the planner's estimate, when rowsSet
	rowsSet bool
	visible bool // found through search_path without its schema
}

// listRelations runs viewsSQL for column on conn.
func listRelations(ctx context.Context, conn *wire.Conn, column string) ([]relationInfo, error) {
	var rels []relationInfo
	err := conn.QueryText(ctx, viewsSQL, []string{column}, func(v [][]byte) error {
		if len(v) != 7 {
			return fmt.Errorf("the relation list has %d columns, want 7", len(v))
		}
		r := relationInfo{
			rel:     query.Relation{Schema: string(v[0]), Name: string(v[1])},
			kind:    relKinds[string(v[2])],
			typ:     string(v[3]),
			domain:  string(v[4]),
			visible: string(v[6]) == "t",
		}
		if v[5] != nil {
			n, err := strconv.ParseInt(string(v[5]), 10, 64)
			if err != nil {
				return fmt.Errorf("row estimate %q of %s: %w", v[5], r.rel.Display(), err)
			}
			r.rows, r.rowsSet = n, true
		}
		rels = append(rels, r)
		return nil
	})
	return rels, err
}

const viewsLong = `List the relations you can stream: those whose column --column (default
data) is json or jsonb, or a domain over them, and that you may read (USAGE
on the schema, SELECT on the column). For each: its schema and name, written
as stream takes them (quoted where needed, so schema.name can be passed on
as it is), its kind (table, view, materialized view, partitioned table,
foreign table), the column's type (and domain), and the planner's row
estimate, "unknown" for a view or a relation never analyzed. pg_catalog and
information_schema are left out. Sorted by schema, then name.

--json prints a JSON array of objects: schema and name (as stored), relation
(the argument for stream), kind, type, domain (or null), rows (or null).

The list is one fixed catalog query, run like stream's: in a read-only
transaction, through the extended protocol, the column name bound as a
parameter. Connection settings and exit codes are stream's.

Every flag can also be set as FRAISE_<FLAG>, e.g. FRAISE_DSN, FRAISE_COLUMN.
An empty value (a FRAISE_* variable set to "") is an error, not the default;
booleans take true/false, yes/no, on/off or 1/0.`

const viewsExample = `  fraise views
  fraise views --column payload
  fraise views --json | jq -r '.[] | select(.kind == "view") | .relation'`

func newViewsCmd(app *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:               "views",
		Short:             "List the relations with a json/jsonb column you can stream",
		Long:              viewsLong,
		Example:           viewsExample,
		Args:              cobra.NoArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	addViewsFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o, err := resolveViews(cmd, app)
		if err != nil {
			return err
		}
		return runViews(cmd.Context(), app, o)
	}
	return cmd
}

// addViewsFlags declares views' flags.
func addViewsFlags(f *pflag.FlagSet) {
	addConnFlags(f)
	f.String("column", "data", "list the relations whose column `NAME` is json or jsonb")
	addBoolFlag(f, "json", "", "print a JSON array of objects")
}

// viewsOptions are what views lists, read from its settings.
type viewsOptions struct {
	column string
	json   bool
	conn   *wire.Config
}

// resolveViews reads views' settings (see resolveSettings) into its
// options.
func resolveViews(cmd *cobra.Command, app *app) (*viewsOptions, error) {
	s, err := resolveSettings(cmd, app.warn)
	if err != nil {
		return nil, err
	}
	o := &viewsOptions{json: s.bool("json")}
	if o.column, err = query.ParseColumn(s.str("column")); err != nil {
		return nil, err
	}
	if o.conn, err = profileConnConfig(s, app); err != nil {
		return nil, err
	}
	return o, nil
}

// runViews lists the relations o asks for.
func runViews(ctx context.Context, app *app, o *viewsOptions) error {
	cfg, col := o.conn, o.column
	app.setStage(stageConnect, "")
	conn, err := wire.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	app.setStage(stageQuery, "")
	rels, err := listRelations(ctx, conn, col)
	if err != nil {
		return err
	}
	_ = conn.Close()
	if o.json {
		err = writeJSON(app.stdout, relationsJSON(rels))
	} else {
		if len(rels) == 0 {
			printSafe(app.stderr, "fraise: no relation you can read has a json or jsonb column %s; choose the column with --column\n", strconv.Quote(col))
			return nil
		}
		err = writeRelations(app.stdout, rels)
	}
	if err != nil {
		return &output.WriteError{Err: err}
	}
	return nil
}

// relationJSON is one element of views --json.
type relationJSON struct {
	Schema   string  `json:"schema"`
	Name     string  `json:"name"`
	Relation string  `json:"relation"`
	Kind     string  `json:"kind"`
	Type     string  `json:"type"`
	Domain   *string `json:"domain"`
	Rows     *int64  `json:"rows"`
}

func relationsJSON(rels []relationInfo) []relationJSON {
	out := make([]relationJSON, 0, len(rels))
	for _, r := range rels {
		j := relationJSON{Schema: r.rel.Schema, Name: r.rel.Name, Relation: r.rel.Display(), Kind: r.kind, Type: r.typ}
		if r.domain != "" {
			j.Domain = &r.domain
		}
		if r.rowsSet {
			j.Rows = &r.rows
		}
		out = append(out, j)
	}
	return out
}

// writeRelations writes the list as an aligned table under a header.
func writeRelations(w io.Writer, rels []relationInfo) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEMA\tNAME\tKIND\tTYPE\tROWS")
	for _, r := range rels {
		typ := r.typ
		if r.domain != "" {
			typ += " (domain " + r.domain + ")"
		}
		rows := "unknown"
		if r.rowsSet {
			rows = strconv.FormatInt(r.rows, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cell(query.FormatIdent(r.rel.Schema)), cell(query.FormatIdent(r.rel.Name)), r.kind, cell(typ), rows)
	}
	return tw.Flush()
}

// cell escapes control characters (a tab or newline in a quoted name),
// which would break the table's lines and columns; --json has the names
// exactly.
func cell(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

// completeRelations completes stream's RELATION with the relations
// "fraise views" lists for the --column given (default data), when a
// connection is configured (completionSettings). A name is offered as
// stream takes it, without its schema when search_path finds it; once the
// word typed has a dot (or nothing else matches), schema-qualified. Any
// failure, or a lookup taking longer than completionTimeout, offers
// nothing and says nothing.
func completeRelations(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	none := cobra.ShellCompDirectiveNoFileComp
	if len(args) > 0 {
		return nil, none
	}
	s := completionSettings(cmd)
	if s == nil {
		return nil, none
	}
	col, err := query.ParseColumn(s.str("column"))
	if err != nil {
		return nil, none
	}
	rels, ok := completionLookup(cmd, s, func(ctx context.Context, conn *wire.Conn) ([]relationInfo, error) {
		return listRelations(ctx, conn, col)
	})
	if !ok {
		return nil, none
	}
	return completionNames(rels, toComplete), none
}

// completionNames returns the names of rels that start with prefix, each
// with its kind and type as the description: unqualified where search_path
// finds the relation, unless prefix has a dot or no such name matches.
func completionNames(rels []relationInfo, prefix string) []string {
	var short, full []string
	for _, r := range rels {
		if strings.IndexFunc(r.rel.Schema+r.rel.Name, unicode.IsControl) >= 0 {
			continue // no shell can take it
		}
		desc := "\t" + r.kind + ", " + r.typ
		q := r.rel.Display()
		if strings.HasPrefix(q, prefix) {
			full = append(full, q+desc)
		}
		if r.visible {
			q = query.FormatIdent(r.rel.Name)
		}
		if strings.HasPrefix(q, prefix) {
			short = append(short, q+desc)
		}
	}
	switch {
	case len(short) == 0:
		return full
	case strings.Contains(prefix, "."):
		// A dot may be the schema's, or inside a quoted name.
		for _, s := range short {
			if !slices.Contains(full, s) {
				full = append(full, s)
			}
		}
		return full
	}
	return short
}
