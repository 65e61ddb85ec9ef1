package cli_test

// Connections that break in ways a healthy server never breaks them: a TCP
// proxy in front of the test server resets them, or keeps them open while
// delivering nothing more, and fraise must end the run with the right exit
// code, whole lines on stdout and no query left behind on the server.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

// hangGuard bounds a run of fraise that should end on its own in a second
// or so. It guards against hangs and is no performance bound.
const hangGuard = 60 * time.Second

// seqRows is the number of rows of v_seq.
const seqRows = 100000

// proxyRecordMax bounds the bytes a proxy connection records each way.
const proxyRecordMax = 8 << 20

// proxy is a loopback TCP proxy in front of the test server. It forwards
// every connection it accepts to the server, recording the bytes it
// forwards, and can be told to cut them all (an abortive close: the peers
// get a reset). What it does with its first connection's data from the
// server is set by a proxyPlan; later connections, such as a cancel
// request's, are always forwarded in full.
type proxy struct {
	t      *testing.T
	ln     *net.TCPListener
	target string
	plan   proxyPlan

	stalled   chan struct{} // closed once the first connection stops forwarding
	closed    chan struct{} // closed by close
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu       sync.Mutex
	conns    []*proxyConn
	isClosed bool
}

// proxyPlan is what the proxy does with its first connection's data from
// the server.
type proxyPlan struct {
	// StallAfter, when 0 or more, is how many bytes the connection
	// forwards before it stalls: it stops reading from the server and
	// delivers nothing more, keeping both sockets open until either side
	// closes. Below zero, it forwards everything.
	StallAfter int64
	// HangUpBurst, when above zero, replaces the stall: the proxy reads
	// that many more bytes from the server, delivers them in one write,
	// and closes the connection in good order, so that the client gets
	// them all and then the end of the stream.
	HangUpBurst int
	// Nth is the connection, in the order accepted from 0, that the plan
	// applies to; the others only forward.
	Nth int
}

// forwardAll is the plan of a proxy that only forwards.
var forwardAll = proxyPlan{StallAfter: -1}

// proxyConn is one forwarded connection.
type proxyConn struct {
	client, server *net.TCPConn
	done           chan struct{} // closed once both sockets are closed
	once           sync.Once

	mu       sync.Mutex
	up, down []byte // forwarded client→server and server→client
}

// newProxy starts a proxy to srv's TCP port (its pooler's, when it has
// one); the test's cleanup stops it.
func newProxy(t *testing.T, srv *pgtest.Server, plan proxyPlan) *proxy {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{
		t: t, ln: ln, plan: plan,
		target:  net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.ClientPort())),
		stalled: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// conninfo is srv's TCP conninfo for RoleTrust pointed at the proxy,
// without TLS, with application_name app.
func (p *proxy) conninfo(srv *pgtest.Server, app string) string {
	p.t.Helper()
	direct := srv.ConnString(pgtest.RoleTrust, true)
	port := fmt.Sprintf(" port=%d ", srv.ClientPort())
	if !strings.Contains(direct, port) {
		p.t.Fatalf("no %q in the conninfo %q", port, direct)
	}
	return strings.Replace(direct, port, fmt.Sprintf(" port=%d ", p.ln.Addr().(*net.TCPAddr).Port), 1) +
		" sslmode=disable application_name=" + app
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.AcceptTCP()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

func (p *proxy) handle(client *net.TCPConn) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: 10 * time.Second}
	nc, err := d.Dial("tcp", p.target)
	if err != nil {
		p.t.Errorf("proxy: %v", err)
		_ = client.Close()
		return
	}
	c := &proxyConn{client: client, server: nc.(*net.TCPConn), done: make(chan struct{})}
	p.mu.Lock()
	if p.isClosed {
		p.mu.Unlock()
		c.close()
		return
	}
	nth := len(p.conns)
	p.conns = append(p.conns, c)
	p.mu.Unlock()
	plan := forwardAll
	if nth == p.plan.Nth {
		plan = p.plan
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		defer c.close()
		c.forward(c.client, c.server, &c.up, -1)
	}()
	go func() {
		defer p.wg.Done()
		defer c.close()
		if !c.forward(c.server, c.client, &c.down, plan.StallAfter) {
			return
		}
		if plan.HangUpBurst > 0 {
			burst := make([]byte, plan.HangUpBurst)
			if _, err := io.ReadFull(c.server, burst); err != nil {
				p.t.Errorf("proxy: reading the burst: %v", err)
				return
			}
			if _, err := c.client.Write(burst); err != nil {
				return
			}
			c.record(&c.down, burst)
			close(p.stalled)
			return // closes the connection
		}
		close(p.stalled)
		<-c.done
	}()
}

// forward copies from src to dst, recording the bytes, until either fails
// or, with a budget of 0 or more, until it has copied that many bytes; it
// reports whether the budget ran out.
func (c *proxyConn) forward(src, dst *net.TCPConn, record *[]byte, budget int64) bool {
	buf := make([]byte, 32<<10)
	for budget != 0 {
		n := int64(len(buf))
		if budget > 0 {
			n = min(n, budget)
		}
		k, err := src.Read(buf[:n])
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return false
			}
			c.record(record, buf[:k])
			if budget > 0 {
				budget -= int64(k)
			}
		}
		if err != nil {
			return false
		}
	}
	return true
}

// record appends p to what the connection recorded one way.
func (c *proxyConn) record(record *[]byte, p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(*record) < proxyRecordMax {
		*record = append(*record, p[:min(len(p), proxyRecordMax-len(*record))]...)
	}
}

// close closes both sockets: the end of either direction ends the
// connection, as it does for the server and for fraise.
func (c *proxyConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.client.Close()
		_ = c.server.Close()
	})
}

// reset closes both sockets abortively: each peer gets a reset.
func (c *proxyConn) reset() {
	_ = c.client.SetLinger(0)
	_ = c.server.SetLinger(0)
	c.close()
}

// recorded returns copies of the bytes forwarded each way so far.
func (c *proxyConn) recorded() (up, down []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.up), bytes.Clone(c.down)
}

// first returns the first connection, fraise's session.
func (p *proxy) first(t *testing.T) *proxyConn {
	t.Helper()
	conns := p.connections()
	if len(conns) == 0 {
		t.Fatal("fraise never connected through the proxy")
	}
	return conns[0]
}

// cut resets every connection the proxy has accepted so far.
func (p *proxy) cut() {
	for _, c := range p.connections() {
		c.reset()
	}
}

// connections returns the connections accepted so far, in order.
func (p *proxy) connections() []*proxyConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*proxyConn(nil), p.conns...)
}

// awaitClosed waits until every connection accepted so far is closed.
func (p *proxy) awaitClosed(t *testing.T) {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	for i, c := range p.connections() {
		select {
		case <-c.done:
		case <-guard.C:
			t.Fatalf("proxy connection %d still open after %s", i, hangGuard)
		}
	}
}

func (p *proxy) close() {
	p.closeOnce.Do(func() {
		close(p.closed)
		_ = p.ln.Close()
		p.mu.Lock()
		p.isClosed = true
		p.mu.Unlock()
		p.cut()
		p.wg.Wait()
	})
}

// runGuarded runs fraise in-process like run, with stdout as given and a
// clean libpq environment, and fails the test if the run does not end
// before hangGuard.
func runGuarded(t *testing.T, stdout io.Writer, args ...string) (code int, stderr string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "FRAISE_") {
			t.Setenv(k, "") // restored at the end of the test
			_ = os.Unsetenv(k)
		}
	}
	t.Setenv("PGPASSFILE", "/nonexistent/pgpass")
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	var errb bytes.Buffer
	code = cli.Run(ctx, args, stdout, &errb)
	if ctx.Err() != nil {
		t.Fatalf("fraise did not end on its own within %s: exit %d, stderr %q", hangGuard, code, errb.String())
	}
	return code, errb.String()
}

// backendMsg is one message from the server.
type backendMsg struct {
	typ  byte
	body []byte
}

// backendMessages splits bytes the server sent on a plain-text session
// into messages, leaving out an incomplete last one.
func backendMessages(t *testing.T, b []byte) []backendMsg {
	t.Helper()
	var msgs []backendMsg
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if n < 4 {
			t.Fatalf("server message %q with length %d", b[0], n)
		}
		if len(b) < 1+n {
			break
		}
		msgs = append(msgs, backendMsg{b[0], b[5 : 1+n]})
		b = b[1+n:]
	}
	return msgs
}

// rowLines returns the NDJSON fraise writes for the whole DataRows among
// msgs: each row's single value, as it is, on a line.
func rowLines(t *testing.T, msgs []backendMsg) (lines string, rows int) {
	t.Helper()
	var b strings.Builder
	for _, m := range msgs {
		if m.typ != 'D' {
			continue
		}
		if len(m.body) < 6 || binary.BigEndian.Uint16(m.body) != 1 || int(int32(binary.BigEndian.Uint32(m.body[2:]))) != len(m.body)-6 {
			t.Fatalf("DataRow %x is not one non-null value", m.body)
		}
		b.Write(m.body[6:])
		b.WriteByte('\n')
		rows++
	}
	return b.String(), rows
}

// backendKey returns the cancel key of a session from its BackendKeyData.
func backendKey(t *testing.T, msgs []backendMsg) []byte {
	t.Helper()
	for _, m := range msgs {
		if m.typ == 'K' {
			return m.body
		}
	}
	t.Fatal("the server sent no BackendKeyData")
	return nil
}

// cancelRequestCode is the CancelRequest's request code, 1234 5678.
const cancelRequestCode = 80877102

// cancelKey returns the process ID and key of a connection that carried
// just a CancelRequest, as a BackendKeyData body, or nil.
func cancelKey(up []byte) []byte {
	if len(up) != 16 || binary.BigEndian.Uint32(up) != 16 || binary.BigEndian.Uint32(up[4:]) != cancelRequestCode {
		return nil
	}
	return up[8:]
}

// checkLines checks that out is whole lines of valid JSON and returns how
// many there are.
func checkLines(t *testing.T, out string) int {
	t.Helper()
	if out == "" {
		return 0
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("stdout ends in a partial line: …%q", out[max(0, len(out)-80):])
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("line %d is not JSON: %q", i+1, l)
			break
		}
	}
	return len(lines)
}

// triggerWriter is a stdout that calls trigger, once, as soon as it has
// received at least after bytes.
type triggerWriter struct {
	after   int
	trigger func()

	mu    sync.Mutex
	buf   bytes.Buffer
	fired bool
}

func (w *triggerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	fire := !w.fired && w.buf.Len() >= w.after
	w.fired = w.fired || fire
	w.mu.Unlock()
	if fire {
		w.trigger()
	}
	return len(p), nil
}

func (w *triggerWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestProxyResetMidStream resets the connection in the middle of v_seq's
// rows: fraise reports the lost connection (exit 3) after writing the rows
// it received, as whole lines, exactly as the server sent them.
func TestProxyResetMidStream(t *testing.T) {
	srv := pgtest.Require(t)
	tests := []struct {
		name string
		// stallAfter bounds the server's bytes the proxy forwards, so that
		// fraise cannot have the whole result before the reset.
		stallAfter int64
		// atStall delays the reset until the proxy has stalled, so that
		// it finds fraise waiting for data rather than reading it.
		atStall bool
	}{
		{"while rows flow", 4 << 20, false},
		{"while waiting for rows", 256 << 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProxy(t, srv, proxyPlan{StallAfter: tt.stallAfter})
			cutDone := make(chan struct{}) // closed as the cut starts
			cut := func() {
				close(cutDone)
				p.cut()
			}
			stdout := &triggerWriter{after: 64 << 10, trigger: cut}
			if tt.atStall {
				stdout.trigger = func() {
					go func() {
						select {
						case <-p.stalled:
							cut()
						case <-p.closed:
						}
					}()
				}
			}
			code, stderr := runGuarded(t, stdout, "stream", "v_seq", "-d", p.conninfo(srv, "fraise-test-proxy-reset"))
			select {
			case <-cutDone:
			default:
				t.Fatalf("the run ended before the proxy cut the connection: exit %d, stderr %q", code, stderr)
			}
			if code != 3 {
				t.Errorf("exit %d, want 3; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, "lost the connection to the server") {
				t.Errorf("stderr %q does not name the lost connection", stderr)
			}
			out := stdout.String()
			n := checkLines(t, out)
			if n >= seqRows {
				t.Errorf("%d lines: the whole result came through despite the reset", n)
			}
			// Every line is a row the proxy forwarded, in order.
			_, down := p.first(t).recorded()
			sent, _ := rowLines(t, backendMessages(t, down))
			if !strings.HasPrefix(sent, out) {
				t.Errorf("stdout (%d bytes, %d lines) is not the first rows the server sent", len(out), n)
			}
			t.Logf("%d lines written before the reset, %d bytes forwarded", n, len(down))
		})
	}
}

// TestProxyHangUpMidStream ends the connection in good order in the middle
// of v_seq's rows, just after a burst of rows that fraise reads along with
// the end of the stream: fraise reports the lost connection (exit 3) having
// written every whole row it received, though it never waited for more
// data after the burst.
func TestProxyHangUpMidStream(t *testing.T) {
	srv := pgtest.Require(t)
	p := newProxy(t, srv, proxyPlan{StallAfter: 128 << 10, HangUpBurst: 48 << 10})
	var stdout bytes.Buffer
	code, stderr := runGuarded(t, &stdout, "stream", "v_seq", "-d", p.conninfo(srv, "fraise-test-proxy-hang-up"))
	if code != 3 {
		t.Errorf("exit %d, want 3; stderr: %s", code, stderr)
	}
	if !strings.Contains(stderr, "lost the connection to the server") {
		t.Errorf("stderr %q does not name the lost connection", stderr)
	}
	select {
	case <-p.stalled:
	default:
		t.Fatal("the run ended before the proxy hung up")
	}
	out := stdout.String()
	n := checkLines(t, out)
	_, down := p.first(t).recorded()
	want, rows := rowLines(t, backendMessages(t, down))
	if out != want {
		t.Errorf("stdout has %d lines (%d bytes); the proxy delivered %d whole rows (%d bytes)", n, len(out), rows, len(want))
	}
	if n == 0 || n >= seqRows {
		t.Errorf("%d lines, want some but not all %d rows", n, seqRows)
	}
}

// TestProxyStallIdleTimeout stalls the connection in the middle of v_seq's
// rows: after --idle-timeout fraise ends the run (exit 4) having written
// every row it received, sends the server a cancel request for the session
// over a new connection, and closes the session, whose backend then goes.
func TestProxyStallIdleTimeout(t *testing.T) {
	srv := pgtest.Require(t)
	p := newProxy(t, srv, proxyPlan{StallAfter: 256 << 10})
	const app = "fraise-test-proxy-idle"
	var stdout bytes.Buffer
	code, stderr := runGuarded(t, &stdout, "stream", "v_seq", "--idle-timeout", "500ms", "-d", p.conninfo(srv, app))
	if code != 4 {
		t.Errorf("exit %d, want 4; stderr: %s", code, stderr)
	}
	for _, want := range []string{"no data from the server for 500ms", "--idle-timeout"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not contain %q", stderr, want)
		}
	}
	select {
	case <-p.stalled:
	default:
		t.Fatal("the run ended before the proxy stalled")
	}

	// The stream was stalled, not lost: fraise had read everything the
	// proxy forwarded, and wrote out every whole row of it.
	out := stdout.String()
	n := checkLines(t, out)
	_, down := p.first(t).recorded()
	msgs := backendMessages(t, down)
	want, rows := rowLines(t, msgs)
	if out != want {
		t.Errorf("stdout has %d lines (%d bytes); the proxy forwarded %d whole rows (%d bytes)", n, len(out), rows, len(want))
	}
	if n == 0 || n >= seqRows {
		t.Errorf("%d lines, want some but not all %d rows", n, seqRows)
	}

	// The cancel request went to the same address on a new connection,
	// with the stalled session's key.
	p.awaitClosed(t)
	key := backendKey(t, msgs)
	cancelled := false
	for _, c := range p.connections()[1:] {
		up, _ := c.recorded()
		cancelled = cancelled || bytes.Equal(cancelKey(up), key)
	}
	if !cancelled {
		t.Errorf("no cancel request for the stalled session (key %x) among the proxy's %d connections", key, len(p.connections()))
	}
	awaitLeftNothing(t, srv, app)
}

// TestProxyStallConnectTimeout stalls the server's side of connecting:
// --connect-timeout ends the attempt (exit 3) without waiting for the run's
// own guard, and fraise closes the connection it gave up on.
func TestProxyStallConnectTimeout(t *testing.T) {
	srv := pgtest.Require(t)
	authOK := []byte{'R', 0, 0, 0, 8, 0, 0, 0, 0}
	tests := []struct {
		name       string
		stallAfter int64
		delivered  []byte // what fraise gets from the server
	}{
		{"before the server's first byte", 0, nil},
		{"after AuthenticationOk", int64(len(authOK)), authOK},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProxy(t, srv, proxyPlan{StallAfter: tt.stallAfter})
			app := fmt.Sprintf("fraise-test-proxy-connect-%d", i)
			var stdout bytes.Buffer
			code, stderr := runGuarded(t, &stdout, "stream", "v_user", "--connect-timeout", "300ms", "-d", p.conninfo(srv, app))
			if code != 3 {
				t.Errorf("exit %d, want 3; stderr: %s", code, stderr)
			}
			for _, want := range []string{"timed out after 300ms", "connect_timeout"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not contain %q", stderr, want)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			conns := p.connections()
			if len(conns) != 1 {
				t.Fatalf("the proxy saw %d connections, want 1", len(conns))
			}
			if _, down := conns[0].recorded(); !bytes.Equal(down, tt.delivered) {
				t.Errorf("the proxy delivered %q, want %q", down, tt.delivered)
			}
			// fraise closed its socket, so the proxy closed the server's,
			// and the backend, which had started, went.
			p.awaitClosed(t)
			awaitLeftNothing(t, srv, app)
		})
	}
}

// TestIdleTimeoutBeforeFirstRow runs a query that computes for longer than
// --idle-timeout before its first row: fraise ends the run (exit 4), the
// cancel request reaches the backend, which cancels the statement, and the
// backend goes.
func TestIdleTimeoutBeforeFirstRow(t *testing.T) {
	srv := pgtest.Require(t)
	for _, tt := range []struct {
		name string
		tcp  bool
	}{{"unix socket", false}, {"tcp", true}} {
		t.Run(tt.name, func(t *testing.T) {
			app := "fraise-test-idle-first-row-" + strings.ReplaceAll(tt.name, " ", "-")
			logStart := logSize(t, srv)
			var stdout bytes.Buffer
			code, stderr := runGuarded(t, &stdout, "stream", "v_user",
				"--where", "pg_sleep(30) IS NOT NULL",
				"--where", "'"+app+"' <> ''", // marks the statement in the server log
				"--idle-timeout", "500ms",
				"-d", srv.ConnString(pgtest.RoleTrust, tt.tcp)+" application_name="+app)
			if code != 4 {
				t.Errorf("exit %d, want 4; stderr: %s", code, stderr)
			}
			for _, want := range []string{"no data from the server for 500ms", "--idle-timeout"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not contain %q", stderr, want)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			awaitLeftNothing(t, srv, app)
			// The backend would go anyway once fraise closes the
			// connection (client_connection_check_interval): the log says
			// whether the cancel request reached it.
			if !cancelLogged(t, srv, logStart, app) {
				t.Errorf("the server log has no statement marked %q cancelled by user request", app)
			}
		})
	}
}

// logSize returns the size of the server log.
func logSize(t *testing.T, srv *pgtest.Server) int64 {
	t.Helper()
	fi, err := os.Stat(srv.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// cancelLogged reports whether the server log, from offset on, shows a
// statement containing marker ended by a cancel request: an ERROR
// "canceling statement due to user request" and then its STATEMENT.
func cancelLogged(t *testing.T, srv *pgtest.Server, offset int64, marker string) bool {
	t.Helper()
	f, err := os.Open(srv.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, offset, 1<<40))
	if err != nil {
		t.Fatal(err)
	}
	// An entry's lines after the first (a statement's) start with a tab.
	var entries []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "\t") && len(entries) > 0 {
			entries[len(entries)-1] += "\n" + l
			continue
		}
		entries = append(entries, l)
	}
	for i := 1; i < len(entries); i++ {
		if strings.Contains(entries[i-1], "ERROR:  canceling statement due to user request") &&
			strings.Contains(entries[i], "STATEMENT:") && strings.Contains(entries[i], marker) {
			return true
		}
	}
	t.Logf("server log from offset %d:\n%s", offset, b)
	return false
}
