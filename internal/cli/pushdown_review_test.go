package cli_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// pushdownEdgeFixtures are rows at the edges of what the server's SQL
// can compute: a number past numeric's arithmetic, many keys, deep paths.
const pushdownEdgeFixtures = `
DROP VIEW IF EXISTS v_pd_edge CASCADE;
CREATE VIEW v_pd_edge AS SELECT id, data FROM (VALUES
  (1, '{"a": 1, "z": 1}'::jsonb),
  (2, ('{"a": -' || repeat('9', 131072) || '}')::jsonb),
  (3, '{"a": 0, "k3": 3, "k50": 50}'::jsonb),
  (4, '{"a": 1e-300, "b": "x"}'::jsonb),
  (5, (repeat('{"a": ', 40) || '1' || repeat('}', 40))::jsonb)
) AS t(id, data);
GRANT SELECT ON v_pd_edge TO PUBLIC;
`

// TestPushdownEdges proves that what the server could not compute, or
// would compute into another statement, is not pushed, so that every
// run prints, fails and exits as with --no-pushdown: $n placeholders
// without their --param values (and the other way round), an ORDER BY
// by position, an explicit --max-row-size, more keys than one SQL
// function takes, a row's number past numeric's arithmetic, string
// literals holding NUL, number literals numeric cannot hold, and paths
// deeper than the SQL should repeat.
func TestPushdownEdges(t *testing.T) {
	srv := pushdownServer(t)
	if _, err := srv.Psql(context.Background(), pushdownEdgeFixtures); err != nil {
		t.Fatal(err)
	}
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	keys := make([]string, 60)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	deep := strings.Repeat(".a", 40)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"a placeholder without its value", []string{"v_pd_jsonb", "--where", "data->>'name' <> $1", "--jq", "select(.age > 30) | .id"}},
		{"more values than placeholders", []string{"v_pd_jsonb", "--where", "$1::int > 0", "--param", "5", "--param", "7", "--jq", "select(.age > 30) | .id"}},
		{"ORDER BY a position", []string{"v_pd_jsonb", "--order-by", "1", "--limit", "3", "--jq", "select(.age > 30) | {id}"}},
		{"--max-row-size", []string{"v_pd_jsonb", "--order-by", "id", "--max-row-size", "150", "--jq", "select(.age > 60) | .id"}},
		{"60 keys", []string{"v_pd_edge", "--order-by", "id", "--jq", "{" + strings.Join(keys, ", ") + "}"}},
		{"a number past numeric's arithmetic", []string{"v_pd_edge", "--order-by", "id", "--jq", "select(.a == 5 or .a < 0.5) | .id"}},
		{"a NUL in a string", []string{"v_pd_edge", "--order-by", "id", "--jq", `select(.b != "\u0000") | .id`}},
		{"a number literal numeric cannot hold", []string{"v_pd_edge", "--order-by", "id", "--jq", "select(.a > 1e-20000) | .id"}},
		{"a deep path", []string{"v_pd_edge", "--order-by", "id", "--jq", "select(" + deep + " == 1) | .id"}},
		{"a deep projection", []string{"v_pd_edge", "--order-by", "id", "--jq", "[" + deep + "]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"stream", "-d", dsn}, tc.args...)
			wantCode, want, wantErr := run(t, append(args, "--no-pushdown")...)
			code, got, gotErr := run(t, args...)
			if code != wantCode || got != want || gotErr != wantErr {
				t.Errorf("pushdown: exit %d, stdout %.200q, stderr %.300q\n--no-pushdown: exit %d, stdout %.200q, stderr %.300q", code, got, gotErr, wantCode, want, wantErr)
			}
		})
	}
}
