package cli_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

// resumeEdgeFixtures: a nullable key, a char(6) key, a date, a float and
// an interval key, 100 rows each, wide enough for a proxy to stall among
// them.
const resumeEdgeFixtures = `
DROP TABLE IF EXISTS rs_edges CASCADE;
CREATE TABLE rs_edges (id int, code char(6), d date, f float8, iv interval, data jsonb NOT NULL);
INSERT INTO rs_edges SELECT g, 'k' || lpad(g::text, 5, '0'), date '2024-01-01' + g, g * 0.1, g * interval '1 day 1 second',
  jsonb_build_object('n', g, 'pad', repeat('x', 300)) FROM generate_series(1, 100) g;
INSERT INTO rs_edges SELECT NULL, 'n' || g, NULL, NULL, NULL, jsonb_build_object('null', g) FROM generate_series(1, 3) g;
GRANT SELECT ON rs_edges TO PUBLIC;
`

// TestResumeEdges: the cases a review of --resume found: an output that
// fits in one segment is a valid array; a resumed run refuses a NULL key
// its keyset would skip; a char(n) key is cast back whole; a key whose
// text depends on a setting is refused where the setting makes it
// inexact, or differs from the first run's; an empty compressed output
// is a valid file; a run that ended at jq's halt and was stopped before
// publishing is published as it was, without reading a row again.
func TestResumeEdges(t *testing.T) {
	srv := resumeTestServer(t, resumeEdgeFixtures, 10)
	if _, err := srv.Psql(context.Background(), resumeFixtures); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	edges := func(dsn, file, order string, more ...string) []string {
		return append([]string{"stream", "rs_edges", "-d", dsn, "--order-by", order, "-o", file, "--resume"}, more...)
	}
	t.Run("one segment, json", func(t *testing.T) {
		cli.SetSegmentBounds(t, 100_000, 16<<20)
		file := filepath.Join(t.TempDir(), "out.json")
		code, stderr := runInProcess(ctx, []string{"stream", "rs_items", "-d", dsn, "--where", "id <= 3", "--order-by", "id", "-o", file, "--resume", "--format", "json"})
		b, _ := os.ReadFile(file)
		var v []any
		if err := json.Unmarshal(b, &v); code != 0 || err != nil || len(v) != 3 {
			t.Fatalf("exit %d (%s): %d values (%v) in %q", code, stderr, len(v), err, b)
		}
	})
	t.Run("a NULL key after the resume point", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out.ndjson")
		cutByProxy(t, srv, 9000, file, 10, func(d string) []string { return edges(d, file, "id", "--where", "code LIKE 'k%' OR id IS NULL") })
		code, stderr := runInProcess(ctx, edges(dsn, file, "id", "--where", "code LIKE 'k%' OR id IS NULL"))
		if code != 4 || !strings.Contains(stderr, "a row has a NULL key") {
			t.Errorf("resumed run: exit %d, stderr %q; want 4: the keyset would leave the NULL keys out", code, stderr)
		}
	})
	t.Run("char(6)", func(t *testing.T) {
		dir := t.TempDir()
		ref, file := filepath.Join(dir, "ref.ndjson"), filepath.Join(dir, "out.ndjson")
		if code, stderr := runInProcess(ctx, edges(dsn, ref, "code")); code != 0 {
			t.Fatalf("uninterrupted: exit %d: %s", code, stderr)
		}
		want, _ := os.ReadFile(ref)
		cutByProxy(t, srv, 9000, file, 10, func(d string) []string { return edges(d, file, "code") })
		resumeFinishes(t, edges(dsn, file, "code"), file, 103, want)
	})
	t.Run("settings", func(t *testing.T) {
		if srv.Pooler != nil {
			t.Skip("PgBouncer refuses the startup parameter options, which this test sets; the direct runs test it")
		}
		with := func(opts string) string { return dsn + " options='" + opts + "'" }
		dir := t.TempDir()
		for _, tc := range []struct{ order, opts, want string }{
			{"d", "-c DateStyle=SQL,DMY", `DateStyle "SQL, DMY"`},
			{"f", "-c extra_float_digits=0", `extra_float_digits "0"`},
		} {
			code, stderr := runInProcess(ctx, edges(with(tc.opts), filepath.Join(dir, "x.ndjson"), tc.order))
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("--order-by %s with %s: exit %d, stderr %q; want 2 naming %s", tc.order, tc.opts, code, stderr, tc.want)
			}
		}
		file := filepath.Join(dir, "out.ndjson")
		cutByProxy(t, srv, 9000, file, 10, func(d string) []string { return edges(d, file, "iv", "--where", "iv IS NOT NULL") })
		code, stderr := runInProcess(ctx, edges(with("-c IntervalStyle=sql_standard"), file, "iv", "--where", "iv IS NOT NULL"))
		if code != 2 || !strings.Contains(stderr, `IntervalStyle was "postgres", is "sql_standard"`) {
			t.Errorf("another IntervalStyle: exit %d, stderr %q; want 2 naming it", code, stderr)
		}
	})
	t.Run("empty gzip", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out.ndjson.gz")
		code, stderr := runInProcess(ctx, []string{"stream", "rs_items", "-d", dsn, "--where", "false", "--order-by", "id", "-o", file, "--resume"})
		b, _ := os.ReadFile(file)
		if _, err := gzip.NewReader(bytes.NewReader(b)); code != 0 || err != nil {
			t.Errorf("exit %d (%s); %d bytes that gzip refuses: %v", code, stderr, len(b), err)
		}
	})
	t.Run("halted, not published", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out.ndjson")
		args := []string{"stream", "rs_items", "-d", dsn, "--order-by", "id", "-o", file, "--resume", "--jq", "if .id == 50 then halt else . end"}
		// The output's name taken by a directory between the last seal
		// and the publication: as a run killed there.
		cli.SetBeforePublish(t, func() { _ = os.Mkdir(file, 0o755) })
		if code, stderr := runInProcess(ctx, args); code != 6 {
			t.Fatalf("first run: exit %d, want 6: %s", code, stderr)
		}
		cli.SetBeforePublish(t, nil)
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		code, stderr := runInProcess(ctx, append(args, "--stats"))
		b, _ := os.ReadFile(file)
		if n := bytes.Count(b, []byte("\n")); code != 0 || n != 49 || !strings.Contains(stderr, `"rows_read":0,`) {
			t.Errorf("second run: exit %d, %d lines, stderr %s; want the 49 lines before the halt, published without reading a row", code, n, stderr)
		}
	})
}
