package wire_test

// A scripted fake PostgreSQL server, for protocol edge cases that a real
// server cannot be made to produce. It listens on a Unix socket, serves one
// session with a script written by the test, and records the cancel
// requests that arrive on further connections.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakePort is the number in the fake's socket name, .s.PGSQL.<port>. Every
// fake has a directory of its own, so they can share it.
const fakePort = 5439

// fakeTimeout bounds every wait, so that a broken client fails a test
// instead of hanging it.
const fakeTimeout = 10 * time.Second

// fakeScript plays the server's part of one session, after the
// StartupMessage. Returning ends the session: the fake closes the socket.
type fakeScript func(b *pgproto3.Backend, conn net.Conn) error

type fakeServer struct {
	t   *testing.T
	Dir string // socket directory
	ln  *net.UnixListener

	// Accepted counts the connections accepted, cancel requests included.
	Accepted atomic.Int32
	// Startup receives the parameters of the session's StartupMessage.
	Startup chan map[string]string
	// Cancels receives the cancel requests, in arrival order.
	Cancels chan *pgproto3.CancelRequest
	// CancelWatch, when set, is how long the fake keeps a cancel
	// connection open after its request, before hanging up; ClosedFirst
	// counts the clients that closed theirs meanwhile.
	CancelWatch time.Duration
	ClosedFirst atomic.Int32

	done     chan error // the script's result
	hadMain  atomic.Bool
	waited   bool
	loopDone chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	errs  []error // from connections other than the session
}

// newFakeServer listens in a fresh short directory (Unix socket paths are
// limited to about 107 bytes, more than t.TempDir can promise). Call start
// to serve; cleanup stops everything and reports the script's errors.
func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "fw")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf(".s.PGSQL.%d", fakePort))
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatal(err)
	}
	fs := &fakeServer{
		t: t, Dir: dir, ln: ln,
		Startup:  make(chan map[string]string, 1),
		Cancels:  make(chan *pgproto3.CancelRequest, 8),
		done:     make(chan error, 1),
		loopDone: make(chan struct{}),
	}
	t.Cleanup(fs.shutdown)
	return fs
}

// startFake returns a fake server already running script.
func startFake(t *testing.T, script fakeScript) *fakeServer {
	t.Helper()
	fs := newFakeServer(t)
	fs.start(script)
	return fs
}

// start accepts connections: the first runs script, later ones must be
// cancel requests.
func (fs *fakeServer) start(script fakeScript) {
	go func() {
		defer close(fs.loopDone)
		first := true
		for {
			conn, err := fs.ln.Accept()
			if err != nil {
				return
			}
			fs.Accepted.Add(1)
			_ = conn.SetDeadline(time.Now().Add(fakeTimeout))
			fs.mu.Lock()
			fs.conns = append(fs.conns, conn)
			fs.mu.Unlock()
			fs.wg.Add(1)
			if first {
				first = false
				fs.hadMain.Store(true)
				go func() {
					defer fs.wg.Done()
					err := fs.session(conn, script)
					_ = conn.Close()
					fs.done <- err
				}()
			} else {
				go func() {
					defer fs.wg.Done()
					defer conn.Close()
					fs.other(conn)
				}()
			}
		}
	}()
}

func (fs *fakeServer) session(conn net.Conn, script fakeScript) error {
	b := pgproto3.NewBackend(conn, conn)
	msg, err := b.ReceiveStartupMessage()
	if err != nil {
		return fmt.Errorf("receiving the startup message: %w", err)
	}
	sm, ok := msg.(*pgproto3.StartupMessage)
	if !ok {
		return fmt.Errorf("first message is %T, want *pgproto3.StartupMessage", msg)
	}
	params := map[string]string{}
	for k, v := range sm.Parameters {
		params[k] = v
	}
	fs.Startup <- params
	return script(b, conn)
}

// other handles a connection after the first: a cancel request, then the
// fake hangs up, as PostgreSQL does.
func (fs *fakeServer) other(conn net.Conn) {
	msg, err := pgproto3.NewBackend(conn, conn).ReceiveStartupMessage()
	if err == nil {
		if cr, ok := msg.(*pgproto3.CancelRequest); ok {
			fs.Cancels <- &pgproto3.CancelRequest{ProcessID: cr.ProcessID, SecretKey: append([]byte(nil), cr.SecretKey...)}
			if fs.CancelWatch > 0 {
				_ = conn.SetReadDeadline(time.Now().Add(fs.CancelWatch))
				if _, err := conn.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
					fs.ClosedFirst.Add(1)
				}
			}
			return
		}
		err = fmt.Errorf("got %T on a second connection, want *pgproto3.CancelRequest", msg)
	}
	fs.mu.Lock()
	fs.errs = append(fs.errs, err)
	fs.mu.Unlock()
}

// wait waits for the script to end and reports its error. Call it after
// closing the client; cleanup calls it otherwise.
func (fs *fakeServer) wait() {
	fs.t.Helper()
	if fs.waited || !fs.hadMain.Load() {
		return
	}
	fs.waited = true
	select {
	case err := <-fs.done:
		if err != nil {
			fs.t.Errorf("fake server: %v", err)
		}
	case <-time.After(fakeTimeout):
		fs.t.Errorf("fake server: script still running after %s", fakeTimeout)
	}
}

// cancelRequest returns the next cancel request received, or fails the
// test after fakeTimeout.
func (fs *fakeServer) cancelRequest() *pgproto3.CancelRequest {
	fs.t.Helper()
	cr, err := fakeAwait(fs.Cancels, "a cancel request")
	if err != nil {
		fs.t.Error(err)
	}
	return cr
}

func (fs *fakeServer) shutdown() {
	_ = fs.ln.Close()
	<-fs.loopDone
	fs.wait()
	fs.mu.Lock()
	for _, c := range fs.conns {
		_ = c.Close()
	}
	errs := fs.errs
	fs.mu.Unlock()
	fs.wg.Wait()
	for _, err := range errs {
		fs.t.Errorf("fake server: %v", err)
	}
	_ = os.RemoveAll(fs.Dir)
}

// fakeAwait receives from ch, giving up after fakeTimeout.
func fakeAwait[T any](ch <-chan T, what string) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(fakeTimeout):
		var zero T
		return zero, fmt.Errorf("no %s within %s", what, fakeTimeout)
	}
}

// fakeEnv is an Environment that reads nothing from the process: no PG*
// variables but vars, OS user "u", an empty home directory.
func fakeEnv(t *testing.T, vars map[string]string) (wire.Environment, string) {
	home := t.TempDir()
	return wire.Environment{
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Username:  func() (string, error) { return "u", nil },
		HomeDir:   func() (string, error) { return home, nil },
	}, home
}

// fakeConfig builds a Config for the given socket directories, as user u
// and database d, with extra conninfo appended.
func fakeConfig(t *testing.T, env wire.Environment, extra string, dirs ...string) *wire.Config {
	t.Helper()
	conninfo := fmt.Sprintf("host=%s port=%d user=u dbname=d %s", fakeQuote(strings.Join(dirs, ",")), fakePort, extra)
	cfg, err := wire.ParseConfig(conninfo, env)
	if err != nil {
		t.Fatalf("ParseConfig(%q): %v", conninfo, err)
	}
	return cfg
}

// fakeQuote quotes a conninfo value.
func fakeQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// fakeConnect connects with a deadline and closes the session at cleanup.
func fakeConnect(t *testing.T, cfg *wire.Config) (*wire.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fakeTimeout)
	defer cancel()
	conn, err := wire.Connect(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { _ = conn.Close() })
	}
	return conn, err
}

// --- script steps ---

// fakeSeq runs steps in order, stopping at the first error.
func fakeSeq(steps ...fakeScript) fakeScript {
	return func(b *pgproto3.Backend, conn net.Conn) error {
		for _, s := range steps {
			if err := s(b, conn); err != nil {
				return err
			}
		}
		return nil
	}
}

// fakeRecv receives the next message, which must be a T.
func fakeRecv[T pgproto3.FrontendMessage](b *pgproto3.Backend) (T, error) {
	var zero T
	msg, err := b.Receive()
	if err != nil {
		return zero, fmt.Errorf("waiting for %T: %w", zero, err)
	}
	m, ok := msg.(T)
	if !ok {
		return zero, fmt.Errorf("got %T, want %T", msg, zero)
	}
	return m, nil
}

// fakeSend sends msgs and flushes.
func fakeSend(msgs ...pgproto3.BackendMessage) fakeScript {
	return func(b *pgproto3.Backend, _ net.Conn) error {
		for _, m := range msgs {
			b.Send(m)
		}
		return b.Flush()
	}
}

// fakeRaw writes bytes as they are, for messages pgproto3 cannot encode.
func fakeRaw(p []byte) fakeScript {
	return func(_ *pgproto3.Backend, conn net.Conn) error {
		_, err := conn.Write(p)
		return err
	}
}

// fakeTrust logs the client in without a password: AuthenticationOk,
// parameters, the cancel key if key is not nil, and ReadyForQuery, in one
// write.
func fakeTrust(key *pgproto3.BackendKeyData) fakeScript { return fakeTrustVersion(key, "17.2") }

// fakeTrustVersion is fakeTrust reporting server_version version.
func fakeTrustVersion(key *pgproto3.BackendKeyData, version string) fakeScript {
	msgs := []pgproto3.BackendMessage{&pgproto3.AuthenticationOk{}}
	for _, p := range [][2]string{
		{"server_version", version}, {"server_encoding", "UTF8"}, {"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"}, {"in_hot_standby", "off"}, {"standard_conforming_strings", "on"},
	} {
		msgs = append(msgs, &pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	if key != nil {
		msgs = append(msgs, key)
	}
	return fakeSend(append(msgs, &pgproto3.ReadyForQuery{TxStatus: 'I'})...)
}

// fakeQuery expects a simple Query starting with prefix and answers it
// with tag and ReadyForQuery(status).
func fakeQuery(prefix, tag string, status byte) fakeScript {
	return func(b *pgproto3.Backend, _ net.Conn) error {
		q, err := fakeRecv[*pgproto3.Query](b)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(q.String, prefix) {
			return fmt.Errorf("query %q, want %s…", q.String, prefix)
		}
		b.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		b.Send(&pgproto3.ReadyForQuery{TxStatus: status})
		return b.Flush()
	}
}

var (
	fakeBegin    = fakeQuery("BEGIN", "BEGIN", 'T')
	fakeRollback = fakeQuery("ROLLBACK", "ROLLBACK", 'I')
)

// fakeField describes a result column.
func fakeField(name string, oid uint32) pgproto3.FieldDescription {
	return pgproto3.FieldDescription{Name: []byte(name), DataTypeOID: oid, DataTypeSize: -1, TypeModifier: -1}
}

// fakeDescribe expects Parse and Describe, which the client pipelines
// with the rest, and describes a statement without parameters returning
// fields (NoData if there are none).
func fakeDescribe(fields ...pgproto3.FieldDescription) fakeScript {
	return func(b *pgproto3.Backend, _ net.Conn) error {
		if _, err := fakeRecv[*pgproto3.Parse](b); err != nil {
			return err
		}
		if d, err := fakeRecv[*pgproto3.Describe](b); err != nil {
			return err
		} else if d.ObjectType != 'S' {
			return fmt.Errorf("Describe %q, want 'S'", d.ObjectType)
		}
		b.Send(&pgproto3.ParseComplete{})
		b.Send(&pgproto3.ParameterDescription{})
		if len(fields) == 0 {
			b.Send(&pgproto3.NoData{})
		} else {
			b.Send(&pgproto3.RowDescription{Fields: fields})
		}
		return b.Flush()
	}
}

// fakeRecvStatement takes the client's Parse, Describe, Bind, Execute and
// Sync, answering nothing: the script answers as it likes.
func fakeRecvStatement(b *pgproto3.Backend, c net.Conn) error {
	if _, err := fakeRecv[*pgproto3.Parse](b); err != nil {
		return err
	}
	if _, err := fakeRecv[*pgproto3.Describe](b); err != nil {
		return err
	}
	return fakeExecute(b, c)
}

// fakeExecute expects Bind, Execute and Sync; it answers nothing.
func fakeExecute(b *pgproto3.Backend, _ net.Conn) error {
	if _, err := fakeRecv[*pgproto3.Bind](b); err != nil {
		return err
	}
	if _, err := fakeRecv[*pgproto3.Execute](b); err != nil {
		return err
	}
	_, err := fakeRecv[*pgproto3.Sync](b)
	return err
}

// fakeRows is one single-value DataRow per value.
func fakeRows(values ...[]byte) []pgproto3.BackendMessage {
	msgs := make([]pgproto3.BackendMessage, len(values))
	for i, v := range values {
		msgs[i] = &pgproto3.DataRow{Values: [][]byte{v}}
	}
	return msgs
}

// fakeDone is the end of a successful execution returning n rows.
func fakeDone(n int) []pgproto3.BackendMessage {
	return []pgproto3.BackendMessage{
		&pgproto3.CommandComplete{CommandTag: fmt.Appendf(nil, "SELECT %d", n)},
		&pgproto3.ReadyForQuery{TxStatus: 'T'},
	}
}

// fakeMsgs concatenates message lists.
func fakeMsgs(lists ...[]pgproto3.BackendMessage) []pgproto3.BackendMessage {
	var all []pgproto3.BackendMessage
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

// fakeStreamed logs in with key and serves a whole successful stream of
// one column of type oid holding values.
func fakeStreamed(key *pgproto3.BackendKeyData, oid uint32, values ...[]byte) fakeScript {
	return fakeSeq(fakeTrust(key), fakeBegin, fakeDescribe(fakeField("j", oid)), fakeExecute,
		fakeSend(fakeMsgs([]pgproto3.BackendMessage{&pgproto3.BindComplete{}}, fakeRows(values...), fakeDone(len(values)))...),
		fakeRollback, fakeExpectClose)
}

// fakeExpectClose expects the client to end the session: Terminate or
// the socket closing, with nothing else before but the ROLLBACK of a
// transaction left open.
func fakeExpectClose(b *pgproto3.Backend, _ net.Conn) error {
	msg, err := b.Receive()
	if q, ok := msg.(*pgproto3.Query); ok && err == nil && q.String == "ROLLBACK" {
		msg, err = b.Receive()
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET): // closed with unread data: a reset
		return nil
	case err != nil:
		return fmt.Errorf("waiting for the client to close: %w", err)
	}
	if _, ok := msg.(*pgproto3.Terminate); !ok {
		return fmt.Errorf("got %T, want Terminate or the socket closed", msg)
	}
	return nil
}

// fakeError is an ErrorResponse with both severity fields.
func fakeError(severity, code, msg string) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: severity, SeverityUnlocalized: severity, Code: code, Message: msg}
}

// fakeSink is a RowSink that records what it is given.
type fakeSink struct {
	col     wire.Column
	begins  int
	values  [][]byte
	events  []string // "write", "flush", in order
	failAt  int      // WriteValue fails on this row (1-based); 0 never
	failErr error
	onFlush func(rows int) // called on every Flush with the rows so far
}

func (s *fakeSink) Begin(col wire.Column) error {
	s.col = col
	s.begins++
	return nil
}

func (s *fakeSink) WriteValue(v []byte) error {
	if v != nil {
		v = append([]byte{}, v...)
	}
	s.values = append(s.values, v)
	s.events = append(s.events, "write")
	if len(s.values) == s.failAt {
		return s.failErr
	}
	return nil
}

func (s *fakeSink) Flush() error {
	s.events = append(s.events, "flush")
	if s.onFlush != nil {
		s.onFlush(len(s.values))
	}
	return nil
}

// fakeRun connects to fs and streams a statement into sink.
func fakeRun(t *testing.T, fs *fakeServer, sink *fakeSink) (*wire.Conn, wire.Result, error) {
	t.Helper()
	env, _ := fakeEnv(t, nil)
	conn, err := fakeConnect(t, fakeConfig(t, env, "", fs.Dir))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), fakeTimeout)
	defer cancel()
	res, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT j FROM t"}, sink, wire.Observer{})
	return conn, res, err
}
