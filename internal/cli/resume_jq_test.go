package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// resumeWideFixtures: rows wide enough (about 700 bytes) for --jq to be
// pushed down.
const resumeWideFixtures = `
DROP TABLE IF EXISTS rs_wide CASCADE;
CREATE TABLE rs_wide (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO rs_wide SELECT g, jsonb_build_object('id', g, 'n', g * 3, 'pad', repeat(md5(g::text), 20)) FROM generate_series(1, 3000) g;
ANALYZE rs_wide;
GRANT SELECT ON rs_wide TO PUBLIC;
`

// TestResumeWithJQ: with --jq, the key comes from the row before the
// filter, so a row the expression drops still advances the checkpoint;
// with pushdown (a projection, and rows a select drops sent as NULL), the
// keyset's parameters and pushdown's are bound apart. A run cut after
// some segments and resumed writes the lines of one uninterrupted run
// without pushdown, and reads only the rows after the sealed ones.
func TestResumeWithJQ(t *testing.T) {
	const segment = 200
	srv := resumeTestServer(t, resumeWideFixtures, segment)
	ctx := context.Background()
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, tc := range []struct {
		filter string
		pushed string // what -v says was pushed
	}{
		{"select(.id % 3 != 0) | {id, n}", "projection"},
		{"select(.n > 4000) | {id}", "select"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			dir := t.TempDir()
			args := func(dsn, file string, more ...string) []string {
				return append([]string{"stream", "rs_wide", "-d", dsn, "--order-by", "id", "--jq", tc.filter, "-o", file}, more...)
			}
			ref := filepath.Join(dir, "ref.ndjson")
			if code, stderr := runInProcess(ctx, args(dsn, ref, "--no-pushdown")); code != 0 {
				t.Fatalf("reference run: exit %d: %s", code, stderr)
			}
			want, err := os.ReadFile(ref)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "out.ndjson")
			cutByProxy(t, srv, 60_000, file, 2*segment, func(dsn string) []string { return args(dsn, file, "--resume") })
			stderr := resumeFinishes(t, args(dsn, file, "--resume", "-v"), file, 3000, want)
			if !strings.Contains(stderr, "pushdown") || !strings.Contains(stderr, tc.pushed) {
				t.Errorf("-v does not say a %s was pushed down: %s", tc.pushed, stderr)
			}
		})
	}
}
