package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

// cutRun runs args (a resumable export of rs_items) and cuts it once
// segments are sealed: exit 3, and a resumable output left behind.
func cutRun(t *testing.T, srv *pgtest.Server, args func(dsn string) []string) {
	t.Helper()
	a := args("")
	cutByProxy(t, srv, 150_000, a[slicesIndex(a, "-o")+1], resumeSegment, args)
}

func slicesIndex(a []string, s string) int {
	for i, x := range a {
		if x == s {
			return i
		}
	}
	return -1
}

// TestResumeRefusals: a resumable output is continued only by the same
// command, unchanged: another command, a tampered data file, a key that
// is not unique (from the client's check, the server's, and a view that
// repeats one row), no --order-by, standard output, --limit, a value
// --resume does not take, and a split key that is not the order's are
// refused, each with its exit code and what to do; --resume=restart
// discards the earlier output and starts over.
func TestResumeRefusals(t *testing.T) {
	srv := resumeServer(t)
	clearPGEnv(t)
	cli.SetSegmentBounds(t, resumeSegment, 1<<40)
	ctx := context.Background()
	if _, err := srv.Psql(ctx, `CREATE OR REPLACE VIEW rs_dup_view AS
		SELECT id, data FROM rs_items UNION ALL SELECT id, data FROM rs_items WHERE id = 3000;
		GRANT SELECT ON rs_dup_view TO PUBLIC;`); err != nil {
		t.Fatal(err)
	}
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	base := func(dsn, file string, more ...string) []string {
		return append([]string{"stream", "rs_items", "-d", dsn, "-o", file, "--resume", "--order-by", "id"}, more...)
	}
	t.Run("another command, then restart", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out.ndjson")
		cutRun(t, srv, func(d string) []string { return base(d, file, "--where", "id > 0") })
		code, stderr := runInProcess(ctx, base(dsn, file, "--where", "id > 1"))
		if code != 2 || !strings.Contains(stderr, `where was "[\"id > 0\"]", is "[\"id > 1\"]"`) || !strings.Contains(stderr, "--resume=restart") {
			t.Errorf("another --where: exit %d, stderr %q; want 2 naming the difference and --resume=restart", code, stderr)
		}
		code, stderr = runInProcess(ctx, base(dsn, file, "--jq", ".id", "--where", "id > 0"))
		if code != 2 || !strings.Contains(stderr, `jq was "", is ".id"`) {
			t.Errorf("another --jq: exit %d, stderr %q", code, stderr)
		}
		args := base(dsn, file, "--where", "id > 1")
		args[slicesIndex(args, "--resume")] = "--resume=restart"
		if code, stderr := runInProcess(ctx, args); code != 0 {
			t.Fatalf("--resume=restart: exit %d: %s", code, stderr)
		}
		got, err := os.ReadFile(file)
		if err != nil || strings.Count(string(got), "\n") != resumeRows-1 || !strings.Contains(strings.SplitN(string(got), "\n", 2)[0], `"id": 2,`) {
			t.Errorf("after --resume=restart the file has %d lines (%v), want the %d of the new command", strings.Count(string(got), "\n"), err, resumeRows-1)
		}
	})
	t.Run("a tampered data file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out.ndjson")
		cutRun(t, srv, func(d string) []string { return base(d, file) })
		data := filepath.Join(filepath.Dir(file), ".out.ndjson.fraise-resume", "data")
		b, err := os.ReadFile(data)
		if err != nil {
			t.Fatal(err)
		}
		b[100] ^= 1
		if err := os.WriteFile(data, b, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := runInProcess(ctx, base(dsn, file))
		if code != 2 || !strings.Contains(stderr, "segment 1 of") || !strings.Contains(stderr, "does not match its checksum") {
			t.Errorf("exit %d, stderr %q; want 2 and the segment that changed", code, stderr)
		}
	})
	for _, tc := range []struct {
		name     string
		relation string
		order    string
		want     string
	}{
		{"a duplicated key (client's check)", "rs_items", "dup", `row 3's key ["1"] is not after the key of the row before it`},
		{"a duplicated key (server's check)", "rs_items", "dup::numeric", `row 3's key ["1"] is not after the key of the row before it`},
		{"a view that repeats a row", "rs_dup_view", "id", `row 3001's key ["3000"] is not after the key of the row before it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "out.ndjson")
			code, stderr := runInProcess(ctx, []string{"stream", tc.relation, "-d", dsn, "-o", file, "--resume", "--order-by", tc.order})
			if code != 4 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "not unique") || !strings.Contains(stderr, "primary key") {
				t.Errorf("exit %d, stderr %q; want 4, %q and what to do", code, stderr, tc.want)
			}
			// No segment may end on the repeated key: the next run would
			// continue after it and lose its second row.
			if m := readManifest(t, file); m != nil {
				for _, s := range m.Segments {
					if s.LastKey[0] == "3000" || s.LastKey[0] == "1" {
						t.Errorf("a segment ends on the repeated key %q", s.LastKey)
					}
				}
			}
			if _, err := os.Stat(file); !os.IsNotExist(err) {
				t.Errorf("the output was published: %v", err)
			}
			// Stopped before any segment was sealed: nothing to resume is
			// left behind.
			if _, err := os.Stat(filepath.Join(filepath.Dir(file), ".out.ndjson.fraise-resume")); strings.Contains(tc.want, "row 3'") && !os.IsNotExist(err) {
				t.Errorf("a run that sealed nothing left its resume directory: %v", err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no --order-by", []string{"stream", "rs_items", "-o", "{file}", "--resume"}, 2, "--resume needs --order-by: the unique key the export continues after, such as --order-by id"},
		{"standard output", []string{"stream", "rs_items", "--order-by", "id", "--resume"}, 2, "--resume needs -o FILE"},
		{"-o -", []string{"stream", "rs_items", "--order-by", "id", "-o", "-", "--resume"}, 2, "--resume needs -o FILE"},
		{"--limit", []string{"stream", "rs_items", "--order-by", "id", "-o", "{file}", "--resume", "--limit", "5"}, 2, "--resume cannot continue a run with --limit or --offset"},
		{"a bad value", []string{"stream", "rs_items", "--order-by", "id", "-o", "{file}", "--resume=sometimes"}, 2, `--resume takes no value (continue), or =restart, got "sometimes"`},
		{"USING", []string{"stream", "rs_items", "--order-by", "id USING <", "-o", "{file}", "--resume"}, 2, "--resume cannot continue after a key sorted with USING"},
		{"mixed directions", []string{"stream", "rs_items", "--order-by", "dup, id DESC", "-o", "{file}", "--resume"}, 2, "--resume needs every ORDER BY item sorted the same way"},
		{"another split key", []string{"stream", "rs_items", "--order-by", "id", "-o", "{file}", "--resume", "--parallel", "2", "--split-by", "dup"}, 2, "--split-by"},
		{"a device", []string{"stream", "rs_items", "--order-by", "id", "-o", "/dev/null", "--resume"}, 6, "it is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "out.ndjson")
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "{file}", file)
			}
			args = append(args, "-d", dsn)
			code, stderr := runInProcess(ctx, args)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.want)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(file), ".out.ndjson.fraise-resume")); !os.IsNotExist(err) {
				t.Errorf("a refused run left a resume directory: %v", err)
			}
		})
	}
}

// TestResumeExplain: --explain --resume prints the statement a resumable
// run streams now, after the last sealed key of an earlier run when
// there is one, and creates nothing.
func TestResumeExplain(t *testing.T) {
	srv := resumeServer(t)
	clearPGEnv(t)
	cli.SetSegmentBounds(t, resumeSegment, 1<<40)
	ctx := context.Background()
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	file := filepath.Join(t.TempDir(), "out.ndjson")
	args := func(dsn string) []string {
		return []string{"stream", "rs_items", "-d", dsn, "-o", file, "--resume", "--order-by", "id"}
	}
	var out, errb strings.Builder
	if code := cli.Run(ctx, append(args(dsn), "--explain"), &out, &errb); code != 0 || !strings.Contains(out.String(), `)::text AS "fraise:key1"`) || strings.Contains(out.String(), "$1") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want the key selected, no key to continue after", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(file), ".out.ndjson.fraise-resume")); !os.IsNotExist(err) {
		t.Errorf("--explain created the resume directory: %v", err)
	}
	cutRun(t, srv, args)
	m := readManifest(t, file)
	out.Reset()
	if code := cli.Run(ctx, append(args(dsn), "--explain"), &out, &errb); code != 0 || !strings.Contains(out.String(), "> ($1::integer)") ||
		!strings.Contains(out.String(), "-- $1 = '"+m.Segments[len(m.Segments)-1].LastKey[0]+"'") {
		t.Errorf("after a cut: exit %d, stdout %q; want the keyset after the last sealed key", code, out.String())
	}
}
