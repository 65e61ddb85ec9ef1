// Package query builds the one statement fraise ever runs:
//
//	SELECT <column> FROM <relation> [WHERE (<where>) AND (<where>)…] [ORDER BY <order>] [LIMIT n] [OFFSET m]
//
// Relation and column names are parsed as SQL identifiers, validated and
// always quoted; --where and --order-by fragments are the user's own SQL and
// are placed, each on lines of their own, inside parentheses. The package
// records where every fragment starts so that a server error position can be
// shown under the fragment the user typed.
//
// It knows nothing of connections, jq or output.
package query
