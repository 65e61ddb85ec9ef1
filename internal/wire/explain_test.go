package wire_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// TestEstimate: with Observer.Estimate, the planner's estimate of the statement's
// rows arrives before any row, the same as psql's EXPLAIN gives, with the
// statement's parameters; the statement then runs in full, in the same
// session, and a second stream on it works too (the EXPLAIN statement was
// closed).
func TestEstimate(t *testing.T) {
	srv := pgtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := wire.Connect(ctx, config(t, srv.ConnString(pgtest.RoleTrust, false)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tc := range []struct {
		sql     string
		params  []string
		explain string // the same statement for psql
		rows    int
	}{
		{"SELECT data FROM v_seq WHERE (data->>'id')::int <= 500", nil, "SELECT data FROM v_seq WHERE (data->>'id')::int <= 500", 500},
		{"SELECT data FROM v_user WHERE (data->>'id')::int > $1", []string{"15"}, "SELECT data FROM v_user WHERE (data->>'id')::int > 15", 5},
		{"SELECT data FROM v_seq LIMIT 7", nil, "SELECT data FROM v_seq LIMIT 7", 7},
	} {
		var sink collect
		estimate := int64(-1)
		st := wire.Statement{SQL: tc.sql, Params: tc.params}
		obs := wire.Observer{Estimate: func(n int64) {
			if len(sink.values) != 0 {
				t.Errorf("%s: estimate after %d rows, want it before any", tc.sql, len(sink.values))
			}
			estimate = n
		}}
		if _, err := conn.Stream(wire.NewStop(ctx, nil), st, &sink, obs); err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if len(sink.values) != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.sql, len(sink.values), tc.rows)
		}
		out, err := srv.Psql(ctx, "SET client_min_messages = warning; EXPLAIN (FORMAT JSON) "+tc.explain)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(out, `"Plan Rows": `)
		if i < 0 {
			t.Fatalf("no Plan Rows in %s", out)
		}
		f := strings.FieldsFunc(out[i+len(`"Plan Rows": `):], func(r rune) bool { return r == ',' || r == '\n' })
		want, err := strconv.ParseInt(strings.TrimSpace(f[0]), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if estimate != want {
			t.Errorf("%s: estimate %d, psql's EXPLAIN says %d", tc.sql, estimate, want)
		}
		// Nothing is left prepared in the session (a pooler may pass it on).
		left := ""
		if err := conn.QueryText(ctx, "SELECT count(*) FROM pg_prepared_statements", nil, func(v [][]byte) error {
			left = string(v[0])
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if left != "0" {
			t.Errorf("%s: %s statements left prepared after the stream", tc.sql, left)
		}
	}
}
