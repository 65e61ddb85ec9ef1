package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// seedVersion names the data-set definitions below; a kept cluster whose
// data was seeded under another version (or scale) is seeded again.
const seedVersion = "2"

// dataset is one view the throughput benchmarks stream.
type dataset struct {
	view    string
	typ     string // json or jsonb
	rows    int    // full-run row count
	smoke   int    // smoke-run row count
	comment string
	tls     bool // streamed over TCP with TLS (verify-full) instead of the socket
}

// name labels the run in the report.
func (d dataset) name() string {
	if d.tls {
		return d.view + " over TLS"
	}
	return d.view
}

// tlsViews are streamed a second time over TLS: one server-bound and one
// client-bound data set.
var tlsViews = []string{"v_small", "v_medium_json"}

// datasets are product.md's benchmark shapes, plus json twins of the
// first two: json values are stored as text, so the server's work is
// cheap and the client's own cost decides.
var datasets = []dataset{
	{"v_small", "jsonb", 1_000_000, 2_000, "~200 B objects: id, name, email, active, age, tags, created_at", false},
	{"v_medium", "jsonb", 200_000, 200, "~2 KB: nested objects, arrays, unicode, escaped quotes and backslashes", false},
	{"v_large", "jsonb", 200, 2, "~1 MB each", false},
	{"v_small_json", "json", 1_000_000, 2_000, "v_small stored as json", false},
	{"v_medium_json", "json", 200_000, 200, "v_medium stored as json", false},
}

// tinyView is the cheap view of the latency measurements.
const tinyView = "v_tiny"

// seedSQL returns the script that (re)creates every table and view for the
// given scale.
func seedSQL(smoke bool) string {
	n := func(view string) int {
		for _, d := range datasets {
			if d.view == view {
				if smoke {
					return d.smoke
				}
				return d.rows
			}
		}
		panic(view)
	}
	return fmt.Sprintf(`
DROP SCHEMA IF EXISTS public CASCADE;
CREATE SCHEMA public;
SET client_min_messages = warning;

CREATE TABLE bench_small (id int NOT NULL, data jsonb NOT NULL);
INSERT INTO bench_small
SELECT i, jsonb_build_object(
    'id', i,
    'name', 'User ' || i,
    'email', 'user' || i || '@example.com',
    'active', i %% 3 <> 0,
    'age', 18 + i %% 60,
    'city', 'City ' || i %% 500,
    'tags', jsonb_build_array('tag' || i %% 10, 'tag' || i %% 7, 'tag' || i %% 13),
    'score', round((i %% 1000) / 7.0, 2),
    'created_at', to_char(timestamp '2020-01-01' + i * interval '37 seconds', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
FROM generate_series(1, %d) i;

CREATE TABLE bench_medium (id int NOT NULL, data jsonb NOT NULL);
INSERT INTO bench_medium
SELECT i, jsonb_build_object(
    'id', i,
    'user', jsonb_build_object(
        'name', 'Zoë Ñúñez-' || i,
        'email', 'zoe.' || i || '@example.org',
        'bio', 'Says "hello" — writes C:\path\to\file; 日本語のテキスト, emoji 🍓 ' || md5(i::text),
        'address', jsonb_build_object('street', i || ' Rue de l''Église', 'city', 'Zürich', 'geo', jsonb_build_array(47.37 + i %% 100 / 1000.0, 8.54))),
    'orders', (SELECT jsonb_agg(jsonb_build_object(
        'sku', 'SKU-' || i || '-' || j,
        'qty', j,
        'price', ((i * j) %% 10000) / 100.0,
        'note', 'gift "wrap" \ ' || substr(md5((i * 31 + j)::text), 1, 12)))
        FROM generate_series(1, 11) j),
    'flags', jsonb_build_object('vip', i %% 10 = 0, 'beta', NULL, 'tabs', E'a\tb'),
    'hash', md5((i + 1)::text) || md5((i + 2)::text))
FROM generate_series(1, %d) i;

CREATE TABLE bench_large (id int NOT NULL, data jsonb NOT NULL);
INSERT INTO bench_large
SELECT i, jsonb_build_object(
    'id', i,
    'items', (SELECT jsonb_agg(jsonb_build_object('n', j, 'h', md5((i * 100000 + j)::text), 's', 'q"\ü'))
              FROM generate_series(1, 15000) j))
FROM generate_series(1, %d) i;

CREATE TABLE bench_small_json AS SELECT id, data::json AS data FROM bench_small;
CREATE TABLE bench_medium_json AS SELECT id, data::json AS data FROM bench_medium;

CREATE VIEW v_small AS SELECT data FROM bench_small;
CREATE VIEW v_medium AS SELECT data FROM bench_medium;
CREATE VIEW v_large AS SELECT data FROM bench_large;
CREATE VIEW v_small_json AS SELECT data FROM bench_small_json;
CREATE VIEW v_medium_json AS SELECT data FROM bench_medium_json;
CREATE TABLE bench_tiny AS SELECT id, data FROM bench_small WHERE id <= 10;
CREATE VIEW %s AS SELECT data FROM bench_tiny;

GRANT USAGE ON SCHEMA public TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;
`, n("v_small"), n("v_medium"), n("v_large"), tinyView)
}

// seedKey identifies the definitions and the scale of seeded data.
func seedKey(smoke bool) string {
	if smoke {
		return seedVersion + "/smoke"
	}
	return seedVersion + "/full"
}

// seed loads the data sets unless the cluster already holds them, then
// freezes and analyzes the tables.
func seed(ctx context.Context, srv *pgtest.Server, smoke bool, logf func(string, ...any)) error {
	out, err := srv.Psql(ctx, "SELECT version FROM bench_meta")
	if err == nil && strings.TrimSpace(out) == seedKey(smoke) {
		logf("data sets already seeded (%s)", seedKey(smoke))
		return nil
	}
	logf("seeding the data sets (%s); this takes a few minutes at full scale", seedKey(smoke))
	if _, err := srv.Psql(ctx, seedSQL(smoke)); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	// VACUUM cannot run in a transaction block, and psql sends a script
	// on stdin one statement at a time, so it runs here on its own.
	if _, err := srv.Psql(ctx, "VACUUM (FREEZE, ANALYZE)"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	mark := fmt.Sprintf("CREATE TABLE bench_meta AS SELECT '%s'::text AS version", seedKey(smoke))
	if _, err := srv.Psql(ctx, mark); err != nil {
		return fmt.Errorf("marking the seed: %w", err)
	}
	return nil
}

// keyedTwin is a table with an index on id and a view streaming id and
// data: the --parallel section splits by that id.
type keyedTwin struct{ table, index, view string }

// keyedTwins are made after seeding rather than by it, so that a kept
// cluster gains them without being seeded again.
var keyedTwins = []keyedTwin{
	{"bench_small", "bench_small_id", "v_small_keyed"},
	{"bench_medium", "bench_medium_id", "v_medium_keyed"},
}

// keyed makes the keyed twins, idempotently: an index made now is
// followed by ANALYZE of its table; one already there leaves the table's
// statistics alone.
func keyed(ctx context.Context, srv *pgtest.Server, logf func(string, ...any)) error {
	for _, k := range keyedTwins {
		out, err := srv.Psql(ctx, fmt.Sprintf("SELECT to_regclass('%s') IS NULL", k.index))
		if err != nil {
			return fmt.Errorf("keyed twin of %s: %w", k.table, err)
		}
		sql := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (id);
CREATE OR REPLACE VIEW %s AS SELECT id, data FROM %s;
GRANT SELECT ON %s TO PUBLIC;
`, k.index, k.table, k.view, k.table, k.view)
		if fresh := strings.TrimSpace(out) == "t"; fresh {
			logf("indexing %s (id) for %s", k.table, k.view)
			sql += "ANALYZE " + k.table + ";\n"
		}
		if _, err := srv.Psql(ctx, sql); err != nil {
			return fmt.Errorf("keyed twin of %s: %w", k.table, err)
		}
	}
	return nil
}
