package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// parallelFixtures are the relations the --parallel tests read: keys of
// every kind (indexed integer, skewed with duplicates and NULLs, text,
// timestamp, numeric), a view without an id column, and a json column
// with values spread over lines.
const parallelFixtures = `
DROP VIEW IF EXISTS v_par_items, v_par_nokey, v_par_json, v_par_accounts CASCADE;
DROP TABLE IF EXISTS par_items, par_json, par_accounts, par_big CASCADE;
DROP PROCEDURE IF EXISTS par_transfers(int);
CREATE TABLE par_items (id int PRIMARY KEY, k int, t text, ts timestamptz, n numeric, data jsonb NOT NULL);
INSERT INTO par_items
SELECT g,
       CASE WHEN g % 10 = 0 THEN NULL WHEN g % 3 = 0 THEN 7 ELSE g % 500 END,
       'name-' || lpad((g * 7919 % 20000)::text, 6, '0') || CASE WHEN g % 5 = 0 THEN ' Ä' ELSE '' END,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '13 minutes 7 seconds',
       (g % 997) / 7.0,
       jsonb_build_object('id', g, 'k', g % 500, 'name', 'Zoë ' || g, 'pad', repeat('x', g % 50))
FROM generate_series(1, 20000) g;
CREATE INDEX ON par_items (k);
CREATE INDEX ON par_items (t);
CREATE INDEX ON par_items (ts);
ANALYZE par_items;
CREATE VIEW v_par_items AS SELECT id, k, t, ts, n, data FROM par_items;
CREATE VIEW v_par_nokey AS SELECT data FROM par_items;
CREATE TABLE par_json (id int PRIMARY KEY, data json);
INSERT INTO par_json SELECT g, ('{"id": ' || g || E',\n "s": "a\\tb",\r\n "n": ' || g * 2 || '}')::json FROM generate_series(1, 3000) g;
INSERT INTO par_json VALUES (3001, NULL);
CREATE VIEW v_par_json AS SELECT id, data FROM par_json;
CREATE TABLE par_big (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO par_big SELECT g, jsonb_build_object('id', g, 'pad', repeat(md5(g::text), CASE WHEN g % 8 = 0 THEN 80000 ELSE 6000 END))
FROM generate_series(1, 24) g;
CREATE TABLE par_accounts (id int PRIMARY KEY, balance int NOT NULL);
INSERT INTO par_accounts SELECT g, 1000 FROM generate_series(1, 2000) g;
CREATE VIEW v_par_accounts AS SELECT id, jsonb_build_object('id', id, 'balance', balance) AS data FROM par_accounts;
CREATE PROCEDURE par_transfers(n int) LANGUAGE plpgsql AS $$
DECLARE a int; b int;
BEGIN
  FOR i IN 1..n LOOP
    a := 1 + floor(random() * 2000)::int;
    b := 1 + (a + 999) % 2000;
    UPDATE par_accounts SET balance = balance - 1 WHERE id = a;
    UPDATE par_accounts SET balance = balance + 1 WHERE id = b;
    COMMIT;
  END LOOP;
END $$;
GRANT SELECT ON par_big, par_items, par_json, par_accounts, v_par_items, v_par_nokey, v_par_json, v_par_accounts TO PUBLIC;
`

var parallelOnce sync.Once

// parallelServer is the shared server with the --parallel fixtures.
func parallelServer(t *testing.T) *pgtest.Server {
	t.Helper()
	srv := pgtest.Require(t)
	var err error
	parallelOnce.Do(func() { _, err = srv.Psql(context.Background(), parallelFixtures) })
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestParallelSameBytes: for every shape of key and option, --parallel N
// writes exactly the bytes one connection writes, and really splits.
func TestParallelSameBytes(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"integer key", []string{"v_par_items", "--order-by", "id"}},
		{"integer key, descending", []string{"v_par_items", "--order-by", "id DESC"}},
		{"skewed key with duplicates and NULLs", []string{"v_par_items", "--split-by", "k", "--order-by", "k, id"}},
		{"NULL keys first", []string{"v_par_items", "--split-by", "k", "--order-by", "k NULLS FIRST, id"}},
		{"descending, NULL keys last", []string{"v_par_items", "--split-by", "k", "--order-by", "k DESC NULLS LAST, id"}},
		{"text key, cut at its histogram", []string{"v_par_items", "--order-by", "t"}},
		{"timestamp key", []string{"v_par_items", "--order-by", "ts"}},
		{"numeric key", []string{"v_par_items", "--split-by", "n", "--order-by", "n, id"}},
		{"expression key on a view without a key column", []string{"v_par_nokey", "--order-by", "(data->>'id')::int"}},
		{"--jq", []string{"v_par_items", "--order-by", "id", "--jq", "{id, k}"}},
		{"--jq dropping rows", []string{"v_par_items", "--order-by", "id", "--jq", "select(.id % 3 == 0) | .id"}},
		{"--where and --param", []string{"v_par_items", "--order-by", "id", "--where", "k > $1", "--param", "100"}},
		{"empty ranges", []string{"v_par_items", "--order-by", "id", "--where", "id < 50 OR id > 19950"}},
		{"nothing at all", []string{"v_par_items", "--order-by", "id", "--where", "false"}},
		{"json values over several lines, and NULL", []string{"v_par_json", "--order-by", "id"}},
		{"--format json", []string{"v_par_items", "--order-by", "id", "--format", "json"}},
		{"rows larger than the write buffer and than a range's memory", []string{"par_big", "--order-by", "id"}},
		{"large rows through --jq, as an array", []string{"par_big", "--order-by", "id DESC", "--jq", "{id, n: (.pad | length)}", "--format", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"stream", "-d", dsn}, tc.args...)
			code, want, stderr := run(t, append(args, "--parallel", "1")...)
			if code != 0 {
				t.Fatalf("one connection: exit %d, stderr %q", code, stderr)
			}
			for _, n := range []string{"2", "3", "4"} {
				code, got, stderr := run(t, append(args, "--parallel", n, "--stats")...)
				if code != 0 {
					t.Fatalf("--parallel %s: exit %d, stderr %q", n, code, stderr)
				}
				if got != want {
					t.Fatalf("--parallel %s: %d bytes, %d lines; one connection: %d bytes, %d lines; first difference at byte %d",
						n, len(got), strings.Count(got, "\n"), len(want), strings.Count(want, "\n"), firstDiff(got, want))
				}
				if want != "" {
					checkSplit(t, stderr, n)
				}
			}
		})
	}
}

// checkSplit checks that --stats says the run was split into more ranges
// than connections.
func checkSplit(t *testing.T, stderr, n string) {
	t.Helper()
	var line struct {
		Parallel *struct {
			Connections int    `json:"connections"`
			Ranges      int    `json:"ranges"`
			SplitFrom   string `json:"split_from"`
		} `json:"parallel"`
	}
	if err := json.Unmarshal([]byte(stderr), &line); err != nil || line.Parallel == nil {
		t.Fatalf("--stats %q: no parallel object (%v)", stderr, err)
	}
	if fmt.Sprint(line.Parallel.Connections) != n || line.Parallel.Ranges <= line.Parallel.Connections {
		t.Errorf("--parallel %s: %d connections, %d ranges (%s); want %s connections and more ranges", n,
			line.Parallel.Connections, line.Parallel.Ranges, line.Parallel.SplitFrom, n)
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestParallelWithoutOrder: without --order-by the rows come in some
// order a single connection could give: the same rows, and by default
// split by the id column.
func TestParallelWithoutOrder(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	code, want, stderr := run(t, "stream", "v_par_items", "-d", dsn)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, extra := range [][]string{nil, {"--split-by", "ts"}} {
		code, got, stderr := run(t, append([]string{"stream", "v_par_items", "-d", dsn, "--parallel", "3", "--stats"}, extra...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", extra, code, stderr)
		}
		if !sameLines(got, want) {
			t.Errorf("%v: the rows differ from one connection's", extra)
		}
		checkSplit(t, stderr, "3")
	}
}

func sameLines(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	slices.Sort(la)
	slices.Sort(lb)
	return slices.Equal(la, lb)
}

// TestParallelRefusals: what --parallel cannot do is refused before
// connecting (exit 2), or, for a relation without the default key, once
// connected, saying what to give instead.
func TestParallelRefusals(t *testing.T) {
	srv := parallelServer(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"--limit", []string{"v_par_items", "--parallel", "2", "--limit", "5"}, "--limit and --offset cannot be split"},
		{"--offset", []string{"v_par_items", "--parallel", "2", "--offset", "5"}, "--limit and --offset cannot be split"},
		{"--split-by alone", []string{"v_par_items", "--split-by", "id"}, "--split-by applies to a parallel run: give --parallel N"},
		{"--parallel 0", []string{"v_par_items", "--parallel", "0"}, "--parallel must be between 1 and 64"},
		{"--parallel 65", []string{"v_par_items", "--parallel", "65"}, "--parallel must be between 1 and 64"},
		{"several order expressions", []string{"v_par_items", "--parallel", "2", "--order-by", "k, id"}, "give --split-by with its first one"},
		{"key not first in order", []string{"v_par_items", "--parallel", "2", "--order-by", "k, id", "--split-by", "id"}, "must be the first expression of --order-by"},
		{"USING", []string{"v_par_items", "--parallel", "2", "--order-by", "id USING >"}, "sorts with USING"},
		{"no id column", []string{"v_par_nokey", "--parallel", "2"}, "has no column named id: give --split-by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkRefused(t, 2, append([]string{"stream", "-d", dsn}, tc.args...), tc.want)
		})
	}
}
