package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/cli"
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
	srv := pgtest.Require(t)
	clearPGEnv(t)
	ctx := context.Background()
	if _, err := srv.Psql(ctx, resumeWideFixtures); err != nil {
		t.Fatal(err)
	}
	const segment = 200
	cli.SetSegmentBounds(t, segment, 1<<40)
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
			p := newProxy(t, srv, proxyPlan{StallAfter: 60_000})
			file := filepath.Join(dir, "out.ndjson")
			done := make(chan int, 1)
			go func() {
				code, _ := runInProcess(ctx, args(p.conninfo(srv, "resume_jq"), file, "--resume"))
				done <- code
			}()
			awaitSealed(t, file, 2*segment)
			p.cut()
			if code := <-done; code != 3 {
				t.Fatalf("cut run: exit %d, want 3", code)
			}
			sealed := readManifest(t, file).rows()
			code, stderr := runInProcess(ctx, args(dsn, file, "--resume", "--stats", "-v"))
			if code != 0 {
				t.Fatalf("resumed run: exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "pushdown") || !strings.Contains(stderr, tc.pushed) {
				t.Errorf("-v does not say a %s was pushed down: %s", tc.pushed, stderr)
			}
			if w := `"rows_read":` + strconv.FormatInt(3000-sealed, 10) + `,`; !strings.Contains(stderr, w) {
				t.Errorf("--stats: want %s after %d sealed rows, in %s", w, sealed, stderr)
			}
			got, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("the resumed file (%d lines) differs from an uninterrupted run's without pushdown (%d lines)", strings.Count(string(got), "\n"), strings.Count(string(want), "\n"))
			}
		})
	}
}
