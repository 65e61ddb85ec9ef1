package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// resumeKeyFixtures are keys of every common type, each unique, 3,000
// rows: int, bigint (negative and beyond int4), numeric (its scale kept),
// text under the ICU collation en-x-icu where the server has it ("a…"
// before "B…", unlike "C"), timestamptz with microseconds, uuid, and a
// composite (a, b).
const resumeKeyFixtures = `
DROP TABLE IF EXISTS rs_keys CASCADE;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'en-x-icu') THEN
    CREATE TABLE rs_keys (id int PRIMARY KEY, big bigint, num numeric, txt text COLLATE "en-x-icu", ts timestamptz, u uuid, a text, b int, data jsonb NOT NULL);
  ELSE
    CREATE TABLE rs_keys (id int PRIMARY KEY, big bigint, num numeric, txt text, ts timestamptz, u uuid, a text, b int, data jsonb NOT NULL);
  END IF;
END $$;
INSERT INTO rs_keys
SELECT g, (g - 1500)::bigint * 4000000000, g * 7 / 3.0,
       CASE g % 2 WHEN 0 THEN 'a' ELSE 'B' END || lpad(g::text, 5, '0'),
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1.000001 second',
       md5(g::text)::uuid, 'grp' || g % 7, g,
       jsonb_build_object('id', g, 'pad', repeat('y', g % 30))
FROM generate_series(1, 3000) g;
ANALYZE rs_keys;
GRANT SELECT ON rs_keys TO PUBLIC;
`

// TestResumeKeyTypes: for a key of every common type, a run cut after
// some segments is resumed after the last sealed key, bound from its
// text and cast to the key's type, so that nothing is rounded and text
// compares under the collation the rows were sorted by: the file is the
// bytes of an uninterrupted run, and the resumed run read only the rows
// after the sealed ones.
func TestResumeKeyTypes(t *testing.T) {
	const segment = 200
	srv := resumeTestServer(t, resumeKeyFixtures, segment)
	ctx := context.Background()
	order, err := srv.Psql(ctx, "SELECT string_agg(txt, ',' ORDER BY txt) FROM rs_keys WHERE id IN (1, 2)")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("text key order: %s (a… first: ICU en-x-icu; B… first: the server has no ICU)", strings.TrimSpace(order))
	for _, key := range []string{"id", "big DESC", "num", "txt", "ts", "u", "a, b", "a DESC, b DESC"} {
		t.Run(key, func(t *testing.T) {
			dir := t.TempDir()
			args := func(dsn, file string, more ...string) []string {
				return append([]string{"stream", "rs_keys", "-d", dsn, "--order-by", key, "-o", file, "--resume"}, more...)
			}
			dsn := srv.ConnString(pgtest.RoleTrust, false)
			ref := filepath.Join(dir, "ref.ndjson.zst")
			if code, stderr := runInProcess(ctx, args(dsn, ref)); code != 0 {
				t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
			}
			want, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "out.ndjson.zst")
			cutByProxy(t, srv, 120_000, file, 2*segment, func(dsn string) []string { return args(dsn, file) })
			m := readManifest(t, file)
			t.Logf("cut after %d rows sealed, the last key %q", m.rows(), m.Segments[len(m.Segments)-1].LastKey)
			resumeFinishes(t, args(dsn, file), file, 3000, want)
		})
	}
}
