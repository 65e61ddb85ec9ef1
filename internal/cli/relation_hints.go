package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/suggest"
	"github.com/fraiseql/fraise/internal/wire"
)

// When the server says that RELATION does not exist, or has no json/jsonb
// column named as --column, fraise asks the catalog, on the same session,
// what the user may have meant: the relations "fraise views" would list
// that are named like RELATION, or the relation's json/jsonb columns. The
// answer is the error's advice. The lookup runs in a read-only transaction
// of its own that ends with ROLLBACK, as every statement does, after the
// failed one has ended; if it fails, the error keeps its ordinary advice.

// hintLookupTimeout bounds the lookup: advice is not worth a long wait.
const hintLookupTimeout = 3 * time.Second

// maxSuggestions is how many relation names a hint offers at most.
const maxSuggestions = 3

// hintedError is a failed stream's error with the advice the catalog gave
// for it.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withCatalogHint returns err with advice looked up on conn, the session
// the statement failed on, when err says that o's relation does not exist
// or has no json/jsonb column under o's column name; else, or when the
// lookup fails, err as it is.
func (o *streamOptions) withCatalogHint(ctx context.Context, conn *wire.Conn, err error) error {
	var lookup func(context.Context, *wire.Conn) (string, error)
	switch {
	case err == nil || conn == nil || is[*hintedError](err):
		return err
	case o.missingRelation(err):
		lookup = o.relationHint
	case o.missingColumn(err):
		lookup = o.columnHint
	default:
		return err
	}
	if ctx.Err() != nil {
		// The run was stopped: by a signal or a reader gone, and nothing
		// is looked up; or by the failure itself, on one of --parallel's
		// connections, and the leader's session is still there to ask.
		if cause := context.Cause(ctx); is[*signalError](cause) || errors.Is(cause, output.ErrReaderGone) {
			return err
		}
		ctx = context.WithoutCancel(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, hintLookupTimeout)
	defer cancel()
	hint, lerr := "", conn.EndTransaction(ctx)
	if lerr == nil {
		hint, lerr = lookup(ctx, conn)
	}
	if lerr != nil || hint == "" {
		if lerr != nil {
			o.obs.logger().Info("catalog lookup for advice failed", "error", lerr.Error())
		}
		return err
	}
	return &hintedError{err: err, hint: hint}
}

// missingRelation reports whether err is the server's word that o's
// relation does not exist (42P01, naming it as the server does: schema.name
// when a schema is given), rather than one a --where names.
func (o *streamOptions) missingRelation(err error) bool {
	var pe *wire.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" {
		return false
	}
	r := o.spec.Relation
	name := r.Name
	if r.Schema != "" {
		name = r.Schema + "." + r.Name
	}
	return strings.Contains(pe.Message, `"`+name+`"`)
}

// missingColumn reports whether err says that o's relation has no
// json/jsonb column named as --column: no such column (42703, naming it),
// or one of another type.
func (o *streamOptions) missingColumn(err error) bool {
	if is[*wire.ColumnError](err) {
		return true
	}
	var pe *wire.PgError
	return errors.As(err, &pe) && pe.Code == "42703" && strings.Contains(pe.Message, `"`+o.spec.Column+`"`)
}

// relationHint suggests the relations "fraise views" lists for o's column
// that are named like o's relation, "" when none is.
func (o *streamOptions) relationHint(ctx context.Context, conn *wire.Conn) (string, error) {
	rels, err := listRelations(ctx, conn, o.spec.Column)
	if err != nil {
		return "", err
	}
	near := nearRelations(o.spec.Relation, rels)
	if len(near) == 0 {
		return relationAdvice(o.spec.Column), nil
	}
	return fmt.Sprintf("did you mean %s? %s lists the relations you can stream", orList(near), viewsCommand(o.spec.Column)), nil
}

// relationAdvice is the advice on a relation that does not exist, when
// the catalog has nothing named like it to offer.
func relationAdvice(column string) string {
	return "check the relation name and schema; unquoted names are folded to lower case, so quote mixed-case names: '\"MyView\"'; " +
		viewsCommand(column) + " lists the relations you can stream"
}

// viewsCommand is the command that lists the relations with a json/jsonb
// column named column, quoted for the message.
func viewsCommand(column string) string {
	if column == "data" {
		return `"fraise views"`
	}
	return `"fraise views --column ` + shellWord(query.FormatIdent(column)) + `"`
}

// nearRelations returns, as the user would type them, the relations of
// rels named most like rel (see suggest.Close), maxSuggestions at most:
// rel's name against theirs and, when rel has a schema, schema.name
// against theirs, the name alone then counting one edit more. A relation
// search_path finds is offered without its schema, unless rel has one,
// and before those it does not find.
func nearRelations(rel query.Relation, rels []relationInfo) []string {
	type candidate struct {
		typed  string
		edits  int
		hidden bool // offered with a schema rel lacks
	}
	var found []candidate
	for _, r := range rels {
		edits, ok := suggest.Close(rel.Name, r.rel.Name)
		if rel.Schema != "" {
			// The name alone, in another schema, counts one edit more
			// than in the schema given.
			edits++
			if e, close := suggest.Close(rel.Schema+"."+rel.Name, r.rel.Schema+"."+r.rel.Name); close && (!ok || e < edits) {
				edits, ok = e, true
			}
		}
		if !ok {
			continue
		}
		typed, hidden := r.rel.Display(), rel.Schema == ""
		if rel.Schema == "" && r.visible {
			typed, hidden = query.FormatIdent(r.rel.Name), false
		}
		typed = shellWord(typed)
		if !slices.ContainsFunc(found, func(c candidate) bool { return c.typed == typed }) {
			found = append(found, candidate{typed, edits, hidden})
		}
	}
	// Those search_path finds first.
	found = append(slices.DeleteFunc(slices.Clone(found), func(c candidate) bool { return c.hidden }),
		slices.DeleteFunc(found, func(c candidate) bool { return !c.hidden })...)
	// The closest only: a name one edit away hides those two away.
	best := slices.MinFunc(append(found, candidate{edits: math.MaxInt}), func(a, b candidate) int { return a.edits - b.edits }).edits
	var out []string
	for _, c := range found {
		if c.edits == best && len(out) < maxSuggestions {
			out = append(out, c.typed)
		}
	}
	return out
}

// jsonColumnsSQL lists the columns of relation $1 that are json or jsonb,
// or a domain over either at any depth, and that the user may read, in
// the relation's order. It is fixed text: the relation is a parameter.
const jsonColumnsSQL = `WITH RECURSIVE json_types(oid) AS (
    SELECT t.oid FROM pg_catalog.pg_type t WHERE t.oid IN (114, 3802)
  UNION ALL
    SELECT d.oid
    FROM pg_catalog.pg_type d JOIN json_types j ON d.typbasetype = j.oid
    WHERE d.typtype = 'd'
)
SELECT a.attname
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = pg_catalog.to_regclass($1)
  AND a.attnum > 0 AND NOT a.attisdropped
  AND a.atttypid IN (SELECT oid FROM json_types)
  AND pg_catalog.has_column_privilege(a.attrelid, a.attnum, 'SELECT')
ORDER BY a.attnum`

// columnHint names the json/jsonb columns of o's relation and the
// --column that streams one, or says it has none.
func (o *streamOptions) columnHint(ctx context.Context, conn *wire.Conn) (string, error) {
	var cols []string
	err := conn.QueryText(ctx, jsonColumnsSQL, []string{o.spec.Relation.String()}, func(v [][]byte) error {
		if len(v) != 1 {
			return fmt.Errorf("the column list has %d columns, want 1", len(v))
		}
		cols = append(cols, shellWord(query.FormatIdent(string(v[0]))))
		return nil
	})
	if err != nil {
		return "", err
	}
	rel := o.spec.Relation.Display()
	switch len(cols) {
	case 0:
		return fmt.Sprintf("%s has no json or jsonb column you can read; %s lists the relations whose column data is json or jsonb, \"fraise views --column NAME\" those whose column NAME is", rel, viewsCommand("data")), nil
	case 1:
		return fmt.Sprintf("the json/jsonb column of %s is %s: stream it with --column %s", rel, cols[0], cols[0]), nil
	}
	return fmt.Sprintf("the json/jsonb columns of %s are %s: choose one with --column, such as --column %s", rel, andList(cols), cols[0]), nil
}

// orList joins words as "a", "a or b", "a, b or c".
func orList(words []string) string { return joinList(words, "or") }

// andList joins words as "a", "a and b", "a, b and c".
func andList(words []string) string { return joinList(words, "and") }

func joinList(words []string, conj string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}

// shellWord is s as a shell takes it back as one word: as it is when it
// holds nothing a shell reads specially, else in single quotes.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-/:,@%+", r) || r > 0x7f)
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
