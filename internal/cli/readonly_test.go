package cli_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// What PostgreSQL lets a READ ONLY transaction do anyway, run from --where:
// large objects (up to 15), notifications and transactional logical
// messages. Every
// transaction fraise opens ends with ROLLBACK, so none of it may outlive
// the run — on success, on failure and on interruption.

// loWrite is INV_WRITE, lo_open's mode for writing.
const loWrite = "131072"

// readOnlyWorld is what a test watches on the server: the large objects,
// a canary large object the streaming role owns, notifications on a
// channel, and transactional messages on a logical replication slot.
type readOnlyWorld struct {
	srv      *pgtest.Server
	canary   string // oid of the canary large object
	objects  string // count of large objects before the run
	listener *psqlListener
}

const (
	readOnlySlot    = "fraise_readonly"
	readOnlyChannel = "fraise_readonly"
	canaryContent   = "canary"
)

func newReadOnlyWorld(t *testing.T, srv *pgtest.Server) *readOnlyWorld {
	t.Helper()
	ctx := context.Background()
	w := &readOnlyWorld{srv: srv}
	w.canary = psqlValue(t, srv, "SELECT lo_from_bytea(0, '"+canaryContent+"')")
	psqlValue(t, srv, "ALTER LARGE OBJECT "+w.canary+" OWNER TO "+pgtest.RoleTrust)
	t.Cleanup(func() { _, _ = srv.Psql(ctx, "SELECT lo_unlink("+w.canary+")") })
	// PostgreSQL 17 gave pg_logical_emit_message a fourth parameter,
	// flush (default false).
	emitMessage := "pg_logical_emit_message(boolean, text, text)"
	if srv.Major >= 17 {
		emitMessage = "pg_logical_emit_message(boolean, text, text, boolean)"
	}
	psqlValue(t, srv, "GRANT EXECUTE ON FUNCTION "+emitMessage+" TO "+pgtest.RoleTrust)
	psqlValue(t, srv, "SELECT pg_create_logical_replication_slot('"+readOnlySlot+"', 'test_decoding')")
	t.Cleanup(func() { _, _ = srv.Psql(ctx, "SELECT pg_drop_replication_slot('"+readOnlySlot+"')") })
	w.objects = psqlValue(t, srv, "SELECT count(*) FROM pg_largeobject_metadata")
	w.listener = listen(t, srv, readOnlyChannel)
	return w
}

// check fails t if anything the run did outlived it.
func (w *readOnlyWorld) check(t *testing.T) {
	t.Helper()
	if got := psqlValue(t, w.srv, "SELECT count(*) FROM pg_largeobject_metadata"); got != w.objects {
		t.Errorf("%s large objects after the run, %s before: the run created or removed some", got, w.objects)
	}
	if got := psqlValue(t, w.srv, "SELECT encode(lo_get("+w.canary+"), 'escape')"); got != canaryContent {
		t.Errorf("canary large object holds %q after the run, want %q", got, canaryContent)
	}
	if got := w.messages(t); len(got) != 0 {
		t.Errorf("logical messages decoded after the run: %q", got)
	}
	if got := w.listener.drain(t); len(got) != 0 {
		t.Errorf("notifications delivered after the run: %q", got)
	}
}

// messages returns the logical messages decoded since the last call,
// other than its own marker. Logical decoding reads only WAL that is
// flushed, and the harness runs with synchronous_commit off: a marker
// committed with synchronous_commit on flushes everything before it, so
// once the marker is decoded, so is anything committed earlier.
func (w *readOnlyWorld) messages(t *testing.T) []string {
	t.Helper()
	psqlValue(t, w.srv, "SET synchronous_commit = on; SELECT pg_logical_emit_message(true, 'fraise-marker', 'm')")
	out := psqlValue(t, w.srv, "SELECT data FROM pg_logical_slot_get_changes('"+readOnlySlot+"', NULL, NULL) WHERE data LIKE 'message:%'")
	var got []string
	marker := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "prefix: fraise-marker"):
			marker = true
		case line != "":
			got = append(got, line)
		}
	}
	if !marker {
		t.Fatalf("the slot's marker message was not decoded: %q", out)
	}
	return got
}

// largeObjectsRefused is the first major whose READ ONLY transactions
// refuse to write large objects (25006, "cannot execute lo_creat() in a
// read-only transaction"): PostgreSQL 16.
const largeObjectsRefused = 16

// TestReadOnlyNothingOutlivesTheRun runs, as a role allowed to do all of
// it, each thing PostgreSQL does not block in a READ ONLY transaction, and
// checks afterwards that none of it happened, whether the run succeeded,
// failed or was interrupted. Where the server blocks it (large objects
// from PostgreSQL 16), the run fails with the server's refusal instead,
// and there is nothing to interrupt.
func TestReadOnlyNothingOutlivesTheRun(t *testing.T) {
	srv := pgtest.Require(t)
	w := newReadOnlyWorld(t, srv)
	effects := []struct {
		name, where string
		refusedFrom int // the first major that refuses it in a READ ONLY transaction; 0: none
	}{
		{"lo_creat", "lo_creat(-1) > 0", largeObjectsRefused},
		{"lo_from_bytea", "lo_from_bytea(0, 'x') > 0", largeObjectsRefused},
		{"lo_put", "lo_put(" + w.canary + ", 0, 'CHANGED') IS NULL", largeObjectsRefused},
		{"lowrite", "lowrite(lo_open(" + w.canary + ", " + loWrite + "), 'CHANGED') > 0", largeObjectsRefused},
		{"lo_truncate", "lo_truncate(lo_open(" + w.canary + ", " + loWrite + "), 0) = 0", largeObjectsRefused},
		{"lo_unlink", "lo_unlink(" + w.canary + ") = 1", largeObjectsRefused},
		{"pg_notify", "pg_notify('" + readOnlyChannel + "', 'from fraise') IS NULL", 0},
		{"pg_logical_emit_message", "pg_logical_emit_message(true, 'fraise', 'from fraise') IS NOT NULL", 0},
	}
	// Each effect runs on the first row, then the outcome's clause
	// decides how the run ends. CASE keeps the effect from being skipped
	// however it compares (several of the functions return void).
	outcomes := []struct {
		name, then string
		code       int
		run        func(t *testing.T, app string, args []string) (int, string)
	}{
		{"success", "true", 0, runToEnd},
		{"failure", "1 / ((data->>'id')::int * 0) = 1", 4, runToEnd},
		{"interruption", "pg_sleep(60) IS NOT NULL", 130, func(t *testing.T, app string, args []string) (int, string) {
			c := startChild(t, srv, app, args...)
			awaitCount(t, srv, c.sessions("state = 'active' AND wait_event = 'PgSleep'"), "1")
			if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			return c.wait(t), c.stderr.String()
		}},
	}
	for _, o := range outcomes {
		for _, e := range effects {
			t.Run(o.name+"/"+e.name, func(t *testing.T) {
				refused := e.refusedFrom != 0 && srv.Major >= e.refusedFrom
				if refused && o.name == "interruption" {
					t.Skipf("needs PostgreSQL %d or earlier: PostgreSQL %d refuses %s in a READ ONLY transaction, so the run fails before there is anything to interrupt (success/%s checks the refusal)",
						e.refusedFrom-1, srv.Major, e.name, e.name)
				}
				app := "fraise-ro-" + o.name + "-" + e.name
				where := fmt.Sprintf("CASE WHEN (%s) IS NULL THEN %s ELSE %s END", e.where, o.then, o.then)
				args := []string{"v_user", "--limit", "1", "--where", where}
				code, stderr := o.run(t, app, args)
				want, wantErr := o.code, ""
				if refused {
					// The effect, on the first row, fails the run before
					// the outcome's clause can.
					want, wantErr = 4, "in a read-only transaction (SQLSTATE 25006)"
				}
				if code != want || !strings.Contains(stderr, wantErr) {
					t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, want, wantErr)
				}
				awaitLeftNothing(t, srv, app)
				w.check(t)
			})
		}
	}
}

// TestReadOnlyWatchersSeeCommits proves the watchers of
// TestReadOnlyNothingOutlivesTheRun: the same effects, committed by psql,
// are seen; and a non-transactional logical message, which no client can
// undo, is decoded even from a transaction rolled back (SECURITY.md says
// so).
func TestReadOnlyWatchersSeeCommits(t *testing.T) {
	srv := pgtest.Require(t)
	w := newReadOnlyWorld(t, srv)
	psqlValue(t, srv, "SELECT lo_put("+w.canary+", 0, 'CHANGED'), pg_notify('"+readOnlyChannel+"', 'committed'), "+
		"pg_logical_emit_message(true, 'fraise', 'committed')")
	if got := psqlValue(t, srv, "SELECT encode(lo_get("+w.canary+"), 'escape')"); got == canaryContent {
		t.Errorf("canary = %q after a committed lo_put", got)
	}
	if got := w.messages(t); len(got) != 1 || !strings.HasSuffix(got[0], "content:committed") {
		t.Errorf("logical messages = %q, want the committed one", got)
	}
	if got := w.listener.drain(t); len(got) != 1 || !strings.Contains(got[0], `"committed"`) {
		t.Errorf("notifications = %q, want the committed one", got)
	}
	code, _, stderr := runFraise(t, exec.Command(os.Args[0], "stream", "v_user", "--limit", "1",
		"--where", "pg_logical_emit_message(false, 'fraise', 'not transactional') IS NOT NULL",
		"-d", srv.ConnString(pgtest.RoleTrust, false)))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := w.messages(t); len(got) != 1 || !strings.HasSuffix(got[0], "content:not transactional") {
		t.Errorf("logical messages = %q, want the non-transactional one: the limit SECURITY.md documents does not hold as written", got)
	}
}

// runToEnd runs fraise stream with args to its end and returns its exit
// code and standard error.
func runToEnd(t *testing.T, app string, args []string) (int, string) {
	srv := pgtest.Require(t)
	args = append(append([]string{"stream"}, args...), "-d", srv.ConnString(pgtest.RoleTrust, false)+" application_name="+app)
	code, _, stderr := runFraise(t, exec.Command(os.Args[0], args...))
	return code, stderr
}

// psqlValue runs sql as the superuser and returns its output, trimmed.
func psqlValue(t *testing.T, srv *pgtest.Server, sql string) string {
	t.Helper()
	out, err := srv.Psql(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// psqlListener is a psql session that LISTENs on a channel; psql prints
// the notifications it has received after each command.
type psqlListener struct {
	channel string
	in      io.WriteCloser
	out     *bufio.Reader
	n       int
}

func listen(t *testing.T, srv *pgtest.Server, channel string) *psqlListener {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := srv.PsqlCommand(ctx)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Wait()
		cancel()
	})
	l := &psqlListener{channel: channel, in: in, out: bufio.NewReader(out)}
	if _, err := fmt.Fprintf(in, "LISTEN %s;\n", channel); err != nil {
		t.Fatal(err)
	}
	l.drain(t)
	return l
}

// drain returns the notifications received since the last call, other
// than its own markers. It notifies a marker of its own from its session
// and reads until psql reports it: notifications are delivered in commit
// order, so any committed before the marker have been printed by then.
func (l *psqlListener) drain(t *testing.T) []string {
	t.Helper()
	l.n++
	marker := fmt.Sprintf("marker-%d", l.n)
	if _, err := fmt.Fprintf(l.in, "NOTIFY %s, '%s';\nSELECT 'after %s';\n", l.channel, marker, marker); err != nil {
		t.Fatal(err)
	}
	var got []string
	sawMarker := false
	deadline := time.AfterFunc(30*time.Second, func() { _ = l.in.Close() })
	defer deadline.Stop()
	for {
		line, err := l.out.ReadString('\n')
		if err != nil {
			t.Fatalf("listener: %v (notifications so far %q)", err, got)
		}
		line = strings.TrimSpace(line)
		switch {
		case strings.Contains(line, `"`+marker+`"`):
			sawMarker = true
		case strings.HasPrefix(line, "Asynchronous notification"):
			got = append(got, line)
		case line == "after "+marker && sawMarker:
			return got
		case line == "after "+marker:
			// The marker is printed after the next command; ask again.
			if _, err := fmt.Fprintf(l.in, "SELECT 'after %s';\n", marker); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestWhereStaysInItsClauseUnderItsPrivileges: a --where that would
// close the parentheses around it and add a query of its own is refused
// before connecting (exit 2, a caret under the ')'); a fragment may still
// hold a subquery, which runs under the role's privileges, the boundary
// (SECURITY.md says so).
func TestWhereStaysInItsClauseUnderItsPrivileges(t *testing.T) {
	srv := pgtest.Require(t)
	psqlValue(t, srv, "CREATE TABLE IF NOT EXISTS t_secret (x int); INSERT INTO t_secret VALUES (42); REVOKE ALL ON t_secret FROM PUBLIC")
	t.Cleanup(func() { _, _ = srv.Psql(context.Background(), "DROP TABLE t_secret") })
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	code, stdout, stderr := runFraise(t, exec.Command(os.Args[0], "stream", "v_user", "--where",
		"false) UNION ALL SELECT to_jsonb(t_victim) FROM t_victim WHERE (true", "-d", dsn))
	if code != 2 || stdout != "" || !strings.Contains(stderr, "this ')' closes no '(' of the fragment") || !strings.Contains(stderr, "\n               ^\n") {
		t.Errorf("a --where leaving its clause: exit %d, stdout %q, stderr %q; want 2 and a caret under the ')'", code, stdout, stderr)
	}
	code, stdout, stderr = runFraise(t, exec.Command(os.Args[0], "stream", "v_user", "--where",
		"EXISTS (SELECT 1 FROM t_secret)", "-d", dsn))
	if code != 4 || stdout != "" || !strings.Contains(stderr, "permission denied for table t_secret") {
		t.Errorf("a subquery on a table the role may not read: exit %d, stdout %q, stderr %q; want exit 4, permission denied", code, stdout, stderr)
	}
}

// TestFunctionDenialAdvice: a function in --where the role may not call
// gets advice about that function, not about the relation's SELECT.
func TestFunctionDenialAdvice(t *testing.T) {
	srv := pgtest.Require(t)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, where := range []string{"pg_read_file('/etc/hostname') <> ''", "lo_import('/etc/hostname') > 0"} {
		t.Run(strings.Fields(where)[0], func(t *testing.T) {
			code, _, stderr := run(t, "stream", "v_user", "--where", where, "-d", dsn)
			if code != 4 || !strings.Contains(stderr, "(SQLSTATE 42501)") ||
				!strings.Contains(stderr, "hint: the role may not call that function (it lacks EXECUTE on it)") {
				t.Errorf("exit %d, stderr %q; want 42501 with advice about EXECUTE on the function", code, stderr)
			}
			if strings.Contains(stderr, "GRANT SELECT") {
				t.Errorf("stderr %q advises GRANT SELECT on the relation", stderr)
			}
		})
	}
}
