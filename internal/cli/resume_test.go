package cli_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/klauspost/compress/zstd"
)

// resumeFixtures are what the --resume tests read: rs_items, 6,000 rows
// keyed by id (and dup, which is not unique), and a gate: rs_gate(name,
// id) lets every row through, except that, while the gate named name is
// set at a row, the resumable statement ("fraise:key" is in its text; the
// parallel run's extent query is not stopped) waits there for a shared
// advisory lock the test holds exclusively. A run stopped at a known row,
// without sleeping: the test cuts it there, however it means to.
const resumeFixtures = `
DROP TABLE IF EXISTS rs_items, rs_gates CASCADE;
DROP FUNCTION IF EXISTS rs_gate(text, int);
CREATE TABLE rs_items (id int PRIMARY KEY, dup int NOT NULL, data jsonb NOT NULL);
INSERT INTO rs_items SELECT g, g / 2, jsonb_build_object('id', g, 'pad', repeat('x', g % 40), 'n', g * 1.5)
FROM generate_series(1, 6000) g;
ANALYZE rs_items;
CREATE TABLE rs_gates (name text PRIMARY KEY, at int);
CREATE FUNCTION rs_gate(gate text, row_id int) RETURNS bool LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN row_id = (SELECT at FROM rs_gates WHERE name = gate) AND current_query() LIKE '%fraise:key%'
    THEN (SELECT true FROM (SELECT pg_advisory_lock_shared(hashtext(gate))) AS l)
    ELSE true END
$$;
GRANT SELECT ON rs_items, rs_gates TO PUBLIC;
`

// resumeRows are rs_items' rows; resumeSegment the rows of a segment in
// these tests.
const (
	resumeRows    = 6000
	resumeSegment = 500
)

var resumeOnce sync.Once

// resumeServer is the shared server with the --resume fixtures.
func resumeServer(t *testing.T) *pgtest.Server {
	t.Helper()
	srv := pgtest.Require(t)
	var err error
	resumeOnce.Do(func() { err = loadResumeFixtures(srv) })
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func loadResumeFixtures(srv *pgtest.Server) error {
	_, err := srv.Psql(context.Background(), resumeFixtures)
	return err
}

// resumeTestServer is the shared server with fixtures loaded, for a test
// whose runs seal a segment every segment rows and see no libpq
// variables.
func resumeTestServer(t *testing.T, fixtures string, segment int64) *pgtest.Server {
	t.Helper()
	srv := pgtest.Require(t)
	clearPGEnv(t)
	if _, err := srv.Psql(context.Background(), fixtures); err != nil {
		t.Fatal(err)
	}
	cli.SetSegmentBounds(t, segment, 1<<40)
	return srv
}

// resumeFormat is one kind of output a resumable run writes.
type resumeFormat struct {
	name, file string
	args       []string
	// decode returns the content of a published file.
	decode func(t *testing.T, b []byte) []byte
}

func plainContent(_ *testing.T, b []byte) []byte { return b }

var resumeFormats = []resumeFormat{
	{"ndjson", "out.ndjson", nil, plainContent},
	{"zstd", "out.ndjson.zst", nil, func(t *testing.T, b []byte) []byte {
		r, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return readAllOrFail(t, r)
	}},
	{"gzip", "out.ndjson.gz", nil, func(t *testing.T, b []byte) []byte {
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return readAllOrFail(t, r)
	}},
	{"json array", "out.json", []string{"--format", "json"}, func(t *testing.T, b []byte) []byte {
		var v []any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("not one JSON array: %v", err)
		}
		return b
	}},
}

func readAllOrFail(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("the published file does not decompress: %v", err)
	}
	return b
}

// resumeCase is the command of one resumable export: rs_items through
// the gate, ordered by id, into dir/file.
type resumeCase struct {
	srv    *pgtest.Server
	dsn    string
	gate   string
	file   string
	format resumeFormat
	extra  []string
}

func newResumeCase(t *testing.T, srv *pgtest.Server, f resumeFormat, extra ...string) *resumeCase {
	t.Helper()
	gate := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if _, err := srv.Psql(context.Background(), "INSERT INTO rs_gates VALUES ("+pgQuote(gate)+", NULL) ON CONFLICT (name) DO UPDATE SET at = NULL"); err != nil {
		t.Fatal(err)
	}
	return &resumeCase{srv: srv, dsn: srv.ConnString(pgtest.RoleTrust, false), gate: gate,
		file: filepath.Join(t.TempDir(), f.file), format: f, extra: extra}
}

func pgQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// args is the command, writing into file, with more arguments after it.
func (c *resumeCase) args(file string, more ...string) []string {
	a := []string{"stream", "rs_items", "-d", c.dsn, "--where", "rs_gate(" + pgQuote(c.gate) + ", id)", "--order-by", "id", "-o", file, "--resume"}
	a = append(a, c.format.args...)
	a = append(a, c.extra...)
	return append(a, more...)
}

// setGate stops the resumable statement at row at (0: never).
func (c *resumeCase) setGate(t *testing.T, at int) {
	t.Helper()
	v := "NULL"
	if at > 0 {
		v = strconv.Itoa(at)
	}
	if _, err := c.srv.Psql(context.Background(), "UPDATE rs_gates SET at = "+v+" WHERE name = "+pgQuote(c.gate)); err != nil {
		t.Fatal(err)
	}
}

// holdGate takes the gate's lock, so that a run reaching the gate's row
// waits there, and returns what lets it go on.
func (c *resumeCase) holdGate(t *testing.T) (release func()) {
	t.Helper()
	return holdLock(t, c.srv, c.gate)
}

// holdLock takes the advisory lock hashtext(name) in a psql session of
// its own, waits until the server shows it held, and returns what ends
// the session and the lock with it (at the latest when the test ends).
func holdLock(t *testing.T, srv *pgtest.Server, name string) (release func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := srv.PsqlCommand(ctx, "-X", "-q", "-v", "ON_ERROR_STOP=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(stdin, "SELECT pg_advisory_lock(hashtext(%s)), 'held';\n", pgQuote(name))
	if err := srv.Await(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND mode = 'ExclusiveLock' AND objid = hashtext("+pgQuote(name)+")::oid", "1"); err != nil {
		t.Fatalf("%v (psql: %s)", err, out.String())
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = stdin.Close() // psql ends, and its session's lock with it
			_ = cmd.Wait()
			cancel()
		})
	}
	t.Cleanup(release)
	return release
}

// cutByProxy runs the command args gives (for a conninfo) in this
// process through a proxy that stalls after stall bytes, and cuts the
// connection once file's manifest records rows rows sealed: exit 3.
func cutByProxy(t *testing.T, srv *pgtest.Server, stall int64, file string, rows int64, args func(dsn string) []string) {
	t.Helper()
	p := newProxy(t, srv, proxyPlan{StallAfter: stall})
	done := make(chan int, 1)
	a := args(p.conninfo(srv, "resume_cut"))
	go func() {
		code, _ := runInProcess(context.Background(), a)
		done <- code
	}()
	awaitSealed(t, file, rows)
	p.cut()
	if code := <-done; code != 3 {
		t.Fatalf("cut run: exit %d, want 3", code)
	}
}

// resumeFinishes runs args (a resumed run) with --stats and checks that
// it succeeds having read only the total rows less those sealed in
// file's manifest, and that file then holds want. It returns stderr.
func resumeFinishes(t *testing.T, args []string, file string, total int64, want []byte) string {
	t.Helper()
	sealed := readManifest(t, file).rows()
	code, stderr := runInProcess(context.Background(), append(args, "--stats"))
	if code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	if w := `"rows_read":` + strconv.FormatInt(total-sealed, 10) + `,`; !strings.Contains(stderr, w) {
		t.Errorf("--stats: want %s after %d sealed rows, in %s", w, sealed, stderr)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the resumed file (%d bytes, %d lines) differs from an uninterrupted run's (%d bytes, %d lines)",
			len(got), bytes.Count(got, []byte("\n")), len(want), bytes.Count(want, []byte("\n")))
	}
	return stderr
}

// breakAtGate runs the command in this process until it is held at the
// gate's row at, with the segments before it sealed; then breaks it with
// brk, and checks that it ends with exit code want.
func (c *resumeCase) breakAtGate(t *testing.T, at int, brk func(), want int) {
	t.Helper()
	release := c.holdGate(t)
	defer release()
	c.setGate(t, at)
	done := make(chan int, 1)
	go func() {
		code, _ := runInProcess(context.Background(), c.args(c.file))
		done <- code
	}()
	c.awaitAtGate(t, c.srv)
	awaitSealed(t, c.file, sealedBefore(at))
	brk()
	if code := <-done; code != want {
		t.Errorf("broken run: exit %d, want %d", code, want)
	}
}

// awaitAtGate waits until a run is held at the gate.
func (c *resumeCase) awaitAtGate(t *testing.T, srv *pgtest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := srv.Await(ctx, "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%rs_gate('||"+pgQuote(pgQuote(c.gate))+"||'%'", "t"); err != nil {
		t.Fatal(err)
	}
}

// manifest is what the tests read of a resumable output: its sealed segments.
type manifest struct {
	Segments []segmentRecord
}

// segmentRecord is what the tests read of a sealed segment.
type segmentRecord struct {
	Rows    int64    `json:"rows"`
	LastKey []string `json:"last_key"`
}

// readManifest reads the sealed segments of file's resumable output
// (its journal: a JSON line each; a last line without its newline is not
// whole yet): nil when there is none.
func readManifest(t *testing.T, file string) *manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "."+filepath.Base(file)+".fraise-resume", "segments"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest{}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return m
		}
		var seg segmentRecord
		if err := json.Unmarshal(b[:i], &seg); err != nil {
			t.Fatalf("journal: %v", err)
		}
		m.Segments = append(m.Segments, seg)
		b = b[i+1:]
	}
}

func (m *manifest) rows() int64 {
	var n int64
	if m != nil {
		for _, s := range m.Segments {
			n += s.Rows
		}
	}
	return n
}

// awaitSealed waits until file's manifest records segments of at least
// rows rows. The manifest is written by another process or goroutine, so
// it is polled (a file has no event to wait on here).
func awaitSealed(t *testing.T, file string, rows int64) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for readManifest(t, file).rows() < rows {
		if time.Now().After(deadline) {
			t.Fatalf("the manifest records %d rows after %s, want %d", readManifest(t, file).rows(), hangGuard, rows)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// resumeStats is what the tests read of --stats.
type resumeStats struct {
	RowsRead int64 `json:"rows_read"`
	ExitCode int   `json:"exit_code"`
	Resume   *struct {
		Segments int `json:"segments"`
		Runs     []struct {
			Rows     int64  `json:"rows"`
			Snapshot string `json:"snapshot"`
		} `json:"runs"`
	} `json:"resume"`
}

// runInProcess runs fraise in this process.
func runInProcess(ctx context.Context, args []string) (int, string) {
	var out, errb bytes.Buffer
	code := cli.Run(ctx, args, &out, &errb)
	return code, errb.String()
}

// clearPGEnv unsets the libpq variables for t, as run does, so that runs
// in goroutines see only their -d.
func clearPGEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "FRAISE_") {
			t.Setenv(k, "")
			_ = os.Unsetenv(k)
		}
	}
	t.Setenv("PGPASSFILE", "/nonexistent/pgpass")
}

// reference runs the command uninterrupted into a file of its own and
// returns the file's bytes, checked against plain -o's content.
func (c *resumeCase) reference(t *testing.T) []byte {
	t.Helper()
	ref := filepath.Join(t.TempDir(), filepath.Base(c.file))
	if code, stderr := runInProcess(context.Background(), c.args(ref)); code != 0 {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), filepath.Base(c.file))
	args := c.args(plain)
	args = slicesDelete(args, "--resume")
	if code, stderr := runInProcess(context.Background(), args); code != 0 {
		t.Fatalf("plain run: exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.format.decode(t, want), c.format.decode(t, got)) {
		t.Fatal("an uninterrupted --resume run's content differs from plain -o's")
	}
	return want
}

func slicesDelete(args []string, drop string) []string {
	var out []string
	for _, a := range args {
		if a != drop {
			out = append(out, a)
		}
	}
	return out
}

// finish resumes the cut run, and checks that the file is want, that the
// resumed run read only the rows after the sealed ones, and that its
// stats say which run gave which rows. identical: the bytes, else the
// content (a parallel run's compressed frames fall where its ranges end).
func (c *resumeCase) finish(t *testing.T, want []byte, identical bool) {
	t.Helper()
	sealed := readManifest(t, c.file).rows()
	code, stderr := runInProcess(context.Background(), c.args(c.file, "--stats"))
	if code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	var st resumeStats
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil || st.Resume == nil {
		t.Fatalf("--stats: %v in %q", err, stderr)
	}
	if st.RowsRead != resumeRows-sealed {
		t.Errorf("the resumed run read %d rows, want %d: the %d after the %d sealed", st.RowsRead, resumeRows-sealed, resumeRows-sealed, sealed)
	}
	var runs int64
	for _, r := range st.Resume.Runs {
		runs += r.Rows
		if r.Snapshot == "" {
			t.Errorf("a run without its snapshot time: %+v", st.Resume.Runs)
		}
	}
	if wantRuns := map[bool]int{true: 1, false: 2}[sealed == 0]; len(st.Resume.Runs) != wantRuns || runs != resumeRows {
		t.Errorf("--stats resume runs %+v; want %d runs giving %d rows", st.Resume.Runs, wantRuns, resumeRows)
	}
	got, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case identical && !bytes.Equal(got, want):
		t.Errorf("the resumed file (%d bytes) differs from an uninterrupted run's (%d bytes)", len(got), len(want))
	case !bytes.Equal(c.format.decode(t, got), c.format.decode(t, want)):
		t.Errorf("the resumed file's content differs from an uninterrupted run's")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(c.file), "."+filepath.Base(c.file)+".fraise-resume")); !os.IsNotExist(err) {
		t.Errorf("the resume directory is left after the run completed: %v", err)
	}
}

// startChild starts the command as a process of its own, with small
// segments.
func (c *resumeCase) startChild(t *testing.T, wrap ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	argv := append(append(wrap, os.Args[0]), c.args(c.file)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "FRAISE_TEST_AS_MAIN=1", "FRAISE_TEST_SEGMENT_ROWS="+strconv.Itoa(resumeSegment))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &stderr
}

// sealedBefore is how many rows are sealed, at least, once a run stopped
// at row at has received what the server sent: the server holds up to
// 8 KB of rows unsent (about 100 here), and segments end every
// resumeSegment rows.
func sealedBefore(at int) int64 {
	return int64(max(at-200, 0) / resumeSegment * resumeSegment)
}

// TestResumeAfterKill: fraise killed outright (SIGKILL) at several points
// of an export, before any segment and after several, in every format and
// with --parallel 3: the same command with --resume finishes, the file is
// the bytes of an uninterrupted run, and the resumed run read only the
// rows after the sealed segments.
func TestResumeAfterKill(t *testing.T) {
	srv := resumeServer(t)
	clearPGEnv(t)
	cli.SetSegmentBounds(t, resumeSegment, 1<<40)
	type point struct {
		format   resumeFormat
		at       int
		parallel bool
	}
	var points []point
	for _, f := range resumeFormats {
		points = append(points, point{f, 3100, false}, point{f, 2700, true})
	}
	points = append(points, point{resumeFormats[0], 5, false}, point{resumeFormats[0], 5900, false})
	for _, p := range points {
		name := fmt.Sprintf("%s at %d", p.format.name, p.at)
		var extra []string
		if p.parallel {
			name += " parallel 3"
			extra = []string{"--parallel", "3"}
		}
		t.Run(name, func(t *testing.T) {
			c := newResumeCase(t, srv, p.format, extra...)
			want := c.reference(t)
			release := c.holdGate(t)
			c.setGate(t, p.at)
			cmd, stderr := c.startChild(t)
			c.awaitAtGate(t, srv)
			if !p.parallel {
				awaitSealed(t, c.file, sealedBefore(p.at))
			} else if p.at > 2*resumeSegment {
				awaitSealed(t, c.file, 1) // the ranges before the gate's, as they are written
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			t.Logf("killed with %d rows sealed; stderr %q", readManifest(t, c.file).rows(), stderr.String())
			release()
			c.setGate(t, 0)
			c.finish(t, want, !p.parallel || p.format.name == "ndjson" || p.format.name == "json array")
		})
	}
}

// TestResumeAfterBrokenRun: a run whose connection is cut by a proxy
// (exit 3), whose backend is terminated (exit 4), or which outgrows its file size limit (a
// full disk, as the process sees it) fails, keeping its sealed segments;
// the same command with --resume finishes with the bytes of an
// uninterrupted run, having read only the rows after them.
func TestResumeAfterBrokenRun(t *testing.T) {
	srv := resumeServer(t)
	clearPGEnv(t)
	cli.SetSegmentBounds(t, resumeSegment, 1<<40)
	const at = 3100
	for _, f := range resumeFormats {
		t.Run("proxy cut "+f.name, func(t *testing.T) {
			c := newResumeCase(t, srv, f)
			want := c.reference(t)
			p := newProxy(t, srv, forwardAll)
			c.dsn = p.conninfo(srv, "resume_proxy")
			c.breakAtGate(t, at, p.cut, 3)
			c.setGate(t, 0)
			c.finish(t, want, true)
		})
		t.Run("backend terminated "+f.name, func(t *testing.T) {
			c := newResumeCase(t, srv, f)
			want := c.reference(t)
			c.breakAtGate(t, at, func() {
				if _, err := srv.Psql(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'advisory' AND query LIKE '%rs_gate('||"+pgQuote(pgQuote(c.gate))+"||'%'"); err != nil {
					t.Fatal(err)
				}
			}, 4) // the server's 57P01
			c.setGate(t, 0)
			c.finish(t, want, true)
		})
		t.Run("file size limit "+f.name, func(t *testing.T) {
			prlimit, err := exec.LookPath("prlimit")
			if err != nil {
				t.Fatalf("prlimit (util-linux) is needed: %v", err)
			}
			c := newResumeCase(t, srv, f)
			want := c.reference(t)
			limit := len(want) / 2
			cmd, stderr := c.startChild(t, prlimit, "--fsize="+strconv.Itoa(limit), "--")
			if code := exitCodeOf(t, cmd.Wait()); code != 6 {
				t.Fatalf("run past the size limit: exit %d, want 6; stderr %q", code, stderr.String())
			}
			if sealed := readManifest(t, c.file).rows(); sealed == 0 {
				t.Errorf("nothing sealed before the limit (%d bytes)", limit)
			}
			c.finish(t, want, true)
		})
	}
}

// TestResumeAfterServerStop: the server stopped under a run (fast
// shutdown) fails it with exit 4 (its 57P01); once it is back, the same command with
// --resume finishes with the bytes of an uninterrupted run.
func TestResumeAfterServerStop(t *testing.T) {
	pgtest.Require(t)
	clearPGEnv(t)
	cli.SetSegmentBounds(t, resumeSegment, 1<<40)
	ctx := context.Background()
	// Kept between its starts: short (socket paths are limited) and
	// traversable by the server's user.
	base, err := os.MkdirTemp("/tmp", "fraise-kept-*")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(base, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	dir := filepath.Join(base, "c")
	start := func() *pgtest.Server {
		srv, err := pgtest.Start(ctx, pgtest.Options{NoFixtures: true, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	srv := start()
	if err := loadResumeFixtures(srv); err != nil {
		t.Fatal(err)
	}
	const at = 3100
	for _, f := range []resumeFormat{resumeFormats[0], resumeFormats[1]} {
		t.Run(f.name, func(t *testing.T) {
			c := newResumeCase(t, srv, f)
			want := c.reference(t)
			c.breakAtGate(t, at, func() {
				if err := srv.Close(); err != nil {
					t.Fatal(err)
				}
			}, 4) // the server's 57P01
			srv = start()
			c.srv, c.dsn = srv, srv.ConnString(pgtest.RoleTrust, false)
			c.setGate(t, 0)
			c.finish(t, want, true)
		})
	}
}
