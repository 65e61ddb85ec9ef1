// Package query builds the statement that streams a relation, the only
// statement that holds SQL the user wrote:
//
//	SELECT <column> FROM <relation> [WHERE (<where>) AND (<where>)…] [ORDER BY <order>] [LIMIT n] [OFFSET m]
//
// The other statements fraise sends are its own fixed text, not built
// here, and carry nothing the user wrote: the catalog query of fraise
// views (internal/cli/views.go; the column name is bound as a parameter)
// and, in internal/wire, the probes of ping and of connecting, the
// transaction's BEGIN and ROLLBACK, and the EXPLAIN put before this
// statement for the progress display's estimate.
//
// Relation and column names are parsed as SQL identifiers, validated and
// always quoted; --where and --order-by fragments are the user's own SQL and
// are placed, each on lines of their own, inside parentheses. The package
// records where every fragment starts so that a server error position can be
// shown under the fragment the user typed.
//
// It knows nothing of connections, jq or output.
package query
