package wire_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// resumeFixtures are keys of the types --resume continues after: int,
// numeric, text in a collation that orders otherwise than bytes, a
// timestamptz with microseconds, uuid, a composite key, and a key with a
// duplicate.
const resumeFixtures = `
DROP TABLE IF EXISTS rs_keys CASCADE;
CREATE TABLE rs_keys (i int, n numeric, t text COLLATE "C", ts timestamptz, u uuid, a int, b text, dup int, data jsonb);
INSERT INTO rs_keys
SELECT g, g / 7.0, (ARRAY['b', 'B', 'a', 'A', 'é', 'e', 'Z'])[1 + g % 7] || g, timestamptz '2024-01-01 00:00:00.000001+00' + g * interval '1.000001 second',
       md5(g::text)::uuid, g % 3, 'x' || (g % 5), CASE WHEN g = 20 THEN 19 ELSE g END, jsonb_build_object('g', g)
FROM generate_series(1, 40) g;
GRANT SELECT ON rs_keys TO PUBLIC;
`

// TestResumableStatement runs the statement query.Build makes for
// --resume: each row brings its key's text and whether it comes after the
// previous row's in the server's order; continuing after a row's key,
// bound from that text and cast to the key's type, gives exactly the rows
// after it, for every key type, whose names BuildKeyTypes has the server
// give; a duplicated key shows as not after.
func TestResumableStatement(t *testing.T) {
	srv := pgtest.Require(t)
	if _, err := srv.Psql(context.Background(), resumeFixtures); err != nil {
		t.Fatal(err)
	}
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(spec query.Spec, params []string, extra int) *keyed {
		t.Helper()
		st, err := query.Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := wire.Connect(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var k keyed
		if _, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: st.SQL, Params: params, Extra: extra}, &k, wire.Observer{}); err != nil {
			t.Fatalf("%v\n%s", err, st.SQL)
		}
		return &k
	}
	for _, tc := range []struct{ order, types string }{
		{"i", "integer"}, {"n DESC", "numeric"}, {"t", "text"}, {"ts", "timestamp with time zone"},
		{"u", "uuid"}, {"a, b, i", "integer,text,integer"}, {"a DESC, i DESC", "integer,integer"},
	} {
		t.Run(tc.order, func(t *testing.T) {
			types := strings.Split(tc.types, ",")
			kt, err := query.BuildKeyTypes(query.Spec{Relation: query.Relation{Name: "rs_keys"}, OrderBy: tc.order, Where: []string{"i > $1"}}, true)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := wire.Connect(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var named []string
			err = conn.QueryText(ctx, kt.SQL, []string{"0"}, func(v [][]byte) error {
				for _, x := range v {
					named = append(named, string(x))
				}
				return nil
			})
			conn.Close()
			if err == nil && (len(named) != len(types)+4 || named[len(types)+1] != "t" || !strings.Contains(named[len(types)+2], `"DateStyle"`) || named[len(types)+3] != "f") {
				t.Fatalf("key types row %q: want the types, the time, t (deterministic collations), the settings and f (no NULL key)", named)
			}
			named = named[:len(types)]
			if err != nil || strings.Join(named, ",") != tc.types {
				t.Fatalf("key types %q (%v), want %q\n%s", named, err, tc.types, kt.SQL)
			}
			spec := query.Spec{Relation: query.Relation{Name: "rs_keys"}, Column: "data", OrderBy: tc.order, Limit: -1,
				Where: []string{"i > $1"}, Resume: &query.Resume{Check: true}}
			n := len(types)
			all := run(spec, []string{"0"}, n+1)
			if len(all.values) != 40 {
				t.Fatalf("%d rows", len(all.values))
			}
			for i, row := range all.extra {
				if i == 0 {
					// The first row has no row before: the transaction's start.
					if _, err := time.Parse("2006-01-02 15:04:05.999999-07", row[n]); err != nil {
						t.Errorf("row 0: order check %q, want the transaction's start time: %v", row[n], err)
					}
				} else if row[n] != "true" {
					t.Errorf("row %d: order check %q, want true", i, row[n])
				}
			}
			for _, cut := range []int{0, 17, 38, 39} {
				spec.Resume = &query.Resume{After: 2, Types: types, Check: true}
				rest := run(spec, append([]string{"0"}, all.extra[cut][:n]...), n+1)
				if got, want := fmt.Sprint(rest.values), fmt.Sprint(all.values[cut+1:]); got != want {
					t.Errorf("after row %d (key %q): %d rows, want the %d after it", cut, all.extra[cut][:n], len(rest.values), 39-cut)
				}
			}
		})
	}
	t.Run("a duplicated key", func(t *testing.T) {
		spec := query.Spec{Relation: query.Relation{Name: "rs_keys"}, Column: "data", OrderBy: "dup", Limit: -1, Resume: &query.Resume{Check: true}}
		all := run(spec, nil, 2)
		var dups []string
		for _, row := range all.extra {
			if row[1] == "false" {
				dups = append(dups, row[0])
			}
		}
		if fmt.Sprint(dups) != "[19]" {
			t.Errorf("rows whose key is not after the one before: %q, want the second 19", dups)
		}
	})
}
