package cli

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
)

// columnsSQL lists the columns of relation $1 (to_regclass: as the
// statement finds it, through search_path when unqualified; no row when
// there is none) that the user may read, in their order: the name, the
// name as SQL writes it (quote_ident: the server's own key words quoted),
// the type, and for json, jsonb and domains over them, the one they are
// over. It is fixed text: the relation's name is a parameter.
const columnsSQL = jsonTypesCTE + `
SELECT a.attname, pg_catalog.quote_ident(a.attname),
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       pg_catalog.format_type(j.base, NULL)
FROM pg_catalog.pg_attribute a
LEFT JOIN json_types j ON j.oid = a.atttypid
WHERE a.attrelid = pg_catalog.to_regclass($1)
  AND a.attnum > 0 AND NOT a.attisdropped
  AND pg_catalog.has_column_privilege(a.attrelid, a.attnum, 'SELECT')
ORDER BY a.attnum`

// columnInfo is one row of columnsSQL.
type columnInfo struct {
	name  string // as stored
	sql   string // as SQL writes it
	typ   string
	json  string // json or jsonb when the type is either or a domain over one
	valid bool   // no control character: a shell can take it
}

// listColumns runs columnsSQL for rel on conn.
func listColumns(ctx context.Context, conn *wire.Conn, rel query.Relation) ([]columnInfo, error) {
	var cols []columnInfo
	err := conn.QueryText(ctx, columnsSQL, []string{rel.String()}, func(v [][]byte) error {
		if len(v) != 4 {
			return fmt.Errorf("the column list has %d columns, want 4", len(v))
		}
		c := columnInfo{name: string(v[0]), sql: string(v[1]), typ: string(v[2]), json: string(v[3])}
		c.valid = strings.IndexFunc(c.name, unicode.IsControl) < 0
		cols = append(cols, c)
		return nil
	})
	return cols, err
}

// completeColumns completes a flag naming a column of stream's RELATION,
// the argument already typed: with each column the way offer gives it
// ("" for none) for the word typed so far. It needs a configured
// connection, as completeRelations does, and says nothing on failure.
func completeColumns(offer func(c columnInfo, toComplete string) string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		none := cobra.ShellCompDirectiveNoFileComp
		if len(args) != 1 {
			return nil, none
		}
		// Parsed as stream parses it; bound as a parameter all the same.
		rel, err := query.ParseRelation(args[0])
		if err != nil {
			return nil, none
		}
		s := completionSettings(cmd)
		if s == nil {
			return nil, none
		}
		cols, ok := completionLookup(cmd, s, func(ctx context.Context, conn *wire.Conn) ([]columnInfo, error) {
			return listColumns(ctx, conn, rel)
		})
		if !ok {
			return nil, none
		}
		var out []cobra.Completion
		for _, c := range cols {
			if !c.valid {
				continue
			}
			if v := offer(c, toComplete); v != "" {
				out = append(out, withDesc(v, c.describe()))
			}
		}
		return out, none
	}
}

// describe is the column's type, and for a domain over json or jsonb,
// which: "jsonb (domain jdoc)", as fraise views says.
func (c columnInfo) describe() string {
	if c.json != "" && c.json != c.typ {
		return c.json + " (domain " + c.typ + ")"
	}
	return c.typ
}

// offerJSONColumn offers a json or jsonb column as --column takes it.
func offerJSONColumn(c columnInfo, toComplete string) string {
	if v := query.FormatIdent(c.name); c.json != "" && strings.HasPrefix(v, toComplete) {
		return v
	}
	return ""
}

// offerColumn offers a column as the SQL expression --split-by takes.
func offerColumn(c columnInfo, toComplete string) string {
	if strings.HasPrefix(c.sql, toComplete) {
		return c.sql
	}
	return ""
}

// offerOrderItem offers a column as the last item of the ORDER BY list
// typed so far, what comes before it kept: "id, na" offers "id, name".
// Nothing when what comes before holds a control character: a tab or a
// newline would split the completion the shell reads.
func offerOrderItem(c columnInfo, toComplete string) string {
	head, item := query.LastItem(toComplete)
	if strings.IndexFunc(head, unicode.IsControl) >= 0 {
		return ""
	}
	if strings.HasPrefix(c.sql, item) {
		return head + c.sql
	}
	return ""
}
