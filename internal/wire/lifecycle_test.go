package wire_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeQuerySeen expects a simple query, sends its text to seen, and
// answers with reply.
func fakeQuerySeen(seen chan<- string, reply ...pgproto3.BackendMessage) fakeScript {
	return func(b *pgproto3.Backend, conn net.Conn) error {
		q, err := fakeRecv[*pgproto3.Query](b)
		if err != nil {
			return err
		}
		seen <- q.String
		return fakeSend(reply...)(b, conn)
	}
}

// fakeBeginSeen answers the query that opens the transaction, sending its
// text to seen.
func fakeBeginSeen(seen chan<- string) fakeScript {
	return fakeQuerySeen(seen, &pgproto3.CommandComplete{CommandTag: []byte("SET")}, &pgproto3.ReadyForQuery{TxStatus: 'T'})
}

// TestProtocolBeginSettings checks the statement that opens a stream: the
// statement timeout and, from PostgreSQL 14 on, the client check, set
// LOCAL in the same round trip as BEGIN.
func TestProtocolBeginSettings(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		timeout       time.Duration
		want          string
	}{
		{"17, no timeout", "17.2", 0, wire.BeginSQL + "; SET LOCAL client_connection_check_interval = 1000"},
		{"15 with timeout", "15.4 (Debian 15.4-1.pgdg120+1)", 1500 * time.Millisecond,
			wire.BeginSQL + "; SET LOCAL statement_timeout = 1500; SET LOCAL client_connection_check_interval = 1000"},
		{"sub-millisecond timeout", "14beta1", 10 * time.Microsecond,
			wire.BeginSQL + "; SET LOCAL statement_timeout = 1; SET LOCAL client_connection_check_interval = 1000"},
		{"13: no client check", "13.9", 2 * time.Second, wire.BeginSQL + "; SET LOCAL statement_timeout = 2000"},
		{"9.6", "9.6.24", 0, wire.BeginSQL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan string, 1)
			fs := startFake(t, fakeSeq(fakeTrustVersion(fakeKey, tc.version), fakeBeginSeen(seen),
				fakeDescribe(fakeField("j", wire.OIDJSONB)), fakeExecute,
				fakeSend(fakeMsgs([]pgproto3.BackendMessage{&pgproto3.BindComplete{}}, fakeRows([]byte(`1`)), fakeDone(1))...),
				fakeRollback, fakeExpectClose))
			conn := fakeConnectTo(t, fs)
			var sink fakeSink
			_, err := conn.Stream(wire.NewStop(context.Background(), nil), wire.Statement{SQL: "SELECT j FROM t", Timeout: tc.timeout}, &sink, wire.Observer{})
			_ = conn.Close()
			fs.wait()
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			if got := <-seen; got != tc.want {
				t.Errorf("begin = %q\nwant    %q", got, tc.want)
			}
		})
	}
}

// TestProtocolClientCheckRefused: a server that refuses
// client_connection_check_interval (a platform without the check) gets the
// transaction again without it, and the stream goes on.
func TestProtocolClientCheckRefused(t *testing.T) {
	seen := make(chan string, 3)
	refuse := fakeQuerySeen(seen,
		fakeError("ERROR", "22023", `invalid value for parameter "client_connection_check_interval": 1000`),
		&pgproto3.ReadyForQuery{TxStatus: 'E'})
	rollback := fakeQuerySeen(seen, &pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	// The statement, pipelined behind the refused BEGIN, fails in the
	// aborted transaction; the pipelined ROLLBACK ends it.
	aborted := fakeSeq(fakeRecvStatement, fakeSend(fakeError("ERROR", "25P02", "current transaction is aborted, commands ignored until end of transaction block"),
		&pgproto3.ReadyForQuery{TxStatus: 'E'}))
	fs := startFake(t, fakeSeq(fakeTrust(fakeKey), refuse, aborted, rollback, fakeBeginSeen(seen),
		fakeDescribe(fakeField("j", wire.OIDJSONB)), fakeExecute,
		fakeSend(fakeMsgs([]pgproto3.BackendMessage{&pgproto3.BindComplete{}}, fakeRows([]byte(`1`), []byte(`2`)), fakeDone(2))...),
		fakeRollback, fakeExpectClose))
	conn := fakeConnectTo(t, fs)
	var sink fakeSink
	res, err := conn.Stream(wire.NewStop(context.Background(), nil), wire.Statement{SQL: "SELECT j FROM t"}, &sink, wire.Observer{})
	_ = conn.Close()
	fs.wait()
	if err != nil || res.Rows != 2 {
		t.Fatalf("Stream = %+v, %v; want 2 rows", res, err)
	}
	want := []string{wire.BeginSQL + "; SET LOCAL client_connection_check_interval = 1000", "ROLLBACK", wire.BeginSQL}
	for i, w := range want {
		if got := <-seen; got != w {
			t.Errorf("query %d = %q, want %q", i+1, got, w)
		}
	}
}

// TestProtocolCancelWithoutKey: a server (a pooler) that sent no
// BackendKeyData cannot be sent a cancel request; stopping closes the
// socket at once, and the stream returns.
func TestProtocolCancelWithoutKey(t *testing.T) {
	executing := make(chan struct{})
	fs := startFake(t, fakeSeq(fakeUpToExecute(nil),
		func(*pgproto3.Backend, net.Conn) error { close(executing); return nil },
		fakeExpectClose)) // computing forever: only the client can end it
	conn := fakeConnectTo(t, fs)
	ctx, cancel := context.WithCancelCause(context.Background())
	stopCause := errors.New("stop")
	go func() {
		<-executing
		cancel(stopCause)
	}()
	var sink fakeSink
	_, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT j FROM t"}, &sink, wire.Observer{})
	fs.wait() // the script saw the socket close
	var qe *wire.QueryError
	if !errors.As(err, &qe) || !errors.Is(err, stopCause) {
		t.Errorf("Stream = %v, want a *wire.QueryError wrapping the cause", err)
	}
	if n := fs.Accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1: no cancel request without a key", n)
	}
}

// TestProtocolEndsMidStream covers the ways a stream ends early on the
// server's or the network's side: the rows received before are handed on
// and flushed, then the error says what happened.
func TestProtocolEndsMidStream(t *testing.T) {
	big := []byte(`"` + strings.Repeat("x", 2000) + `"`)
	for _, tc := range []struct {
		name   string
		st     wire.Statement
		after  fakeScript // what the server does after the first row
		check  func(error) error
		cancel bool // a cancel request is expected
	}{
		{
			name:  "row over --max-row-size",
			st:    wire.Statement{MaxRowSize: 1000},
			after: fakeSeq(fakeSend(fakeRows(big)...), fakeExpectClose),
			check: func(err error) error {
				var tl *wire.RowTooLargeError
				if !errors.As(err, &tl) || tl.Row != 2 || tl.Size != int64(len(big)) || tl.Limit != 1000 {
					return fmt.Errorf("want RowTooLargeError{Row 2, Size %d, Limit 1000}", len(big))
				}
				if !strings.Contains(err.Error(), "row 2 is 2.0 KiB (2002 bytes), more than the limit of 1000 bytes") {
					return errors.New("message does not give the sizes")
				}
				return nil
			},
			cancel: true,
		},
		{
			name:  "nothing for longer than the idle timeout",
			st:    wire.Statement{IdleTimeout: 100 * time.Millisecond},
			after: fakeExpectClose,
			check: func(err error) error {
				var it *wire.IdleTimeoutError
				if !errors.As(err, &it) || it.After != 100*time.Millisecond {
					return errors.New("want IdleTimeoutError{100ms}")
				}
				return nil
			},
			cancel: true,
		},
		{
			name:  "FATAL: terminated by an administrator",
			after: fakeSend(fakeError("FATAL", "57P01", "terminating connection due to administrator command")),
			check: func(err error) error {
				var qe *wire.QueryError
				if !errors.As(err, &qe) || wire.SQLState(err) != "57P01" {
					return errors.New("want a QueryError with SQLSTATE 57P01")
				}
				return nil
			},
		},
		{
			name:  "connection closed",
			after: func(*pgproto3.Backend, net.Conn) error { return nil },
			check: func(err error) error {
				var cl *wire.ConnLostError
				if !errors.As(err, &cl) {
					return errors.New("want a ConnLostError")
				}
				return nil
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFake(t, fakeSeq(fakeUpToExecute(fakeKey), fakeSend(fakeRows([]byte(`1`))...), tc.after))
			conn := fakeConnectTo(t, fs)
			var sink fakeSink
			st := tc.st
			st.SQL = "SELECT j FROM t"
			ctx, cancel := context.WithTimeout(context.Background(), fakeTimeout)
			defer cancel()
			_, err := conn.Stream(wire.NewStop(ctx, nil), st, &sink, wire.Observer{})
			_ = conn.Close()
			fs.wait()
			if cerr := tc.check(err); cerr != nil {
				t.Errorf("Stream = %v (%T): %v", err, err, cerr)
			}
			if len(sink.values) != 1 || sink.events[len(sink.events)-1] != "flush" {
				t.Errorf("sink events %v with %d rows, want the first row, flushed last", sink.events, len(sink.values))
			}
			if tc.cancel {
				if err := checkCancel(fs.cancelRequest()); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// fakeConnectTo connects to fs with the default fake settings.
func fakeConnectTo(t *testing.T, fs *fakeServer) *wire.Conn {
	t.Helper()
	env, _ := fakeEnv(t, nil)
	conn, err := fakeConnect(t, fakeConfig(t, env, "", fs.Dir))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return conn
}

// TestProtocolStopWhileBeginIsAnswered: a stop that comes while BEGIN is
// answered, the statement already on its way, cancels the statement: no
// row is handed on, and the stream returns once the server has
// acknowledged and rolled back, in step.
func TestProtocolStopWhileBeginIsAnswered(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	begin := func(b *pgproto3.Backend, conn net.Conn) error {
		if _, err := fakeRecv[*pgproto3.Query](b); err != nil {
			return err
		}
		cancel() // the client stops while the server answers
		return fakeSend(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")}, &pgproto3.ReadyForQuery{TxStatus: 'T'})(b, conn)
	}
	var fs *fakeServer
	cancelled := func(b *pgproto3.Backend, conn net.Conn) error {
		cr, err := fakeAwait(fs.Cancels, "a cancel request")
		if err != nil {
			return err
		}
		if err := checkCancel(cr); err != nil {
			return err
		}
		return fakeSend(fakeMsgs([]pgproto3.BackendMessage{&pgproto3.BindComplete{}}, fakeRows([]byte(`1`)),
			[]pgproto3.BackendMessage{fakeError("ERROR", "57014", "canceling statement due to user request"), &pgproto3.ReadyForQuery{TxStatus: 'E'}})...)(b, conn)
	}
	fs = newFakeServer(t)
	fs.start(fakeSeq(fakeTrust(fakeKey), begin, fakeDescribe(fakeField("j", wire.OIDJSONB)), fakeExecute,
		cancelled, fakeRollback, fakeExpectClose))
	conn := fakeConnectTo(t, fs)
	var sink fakeSink
	_, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT j FROM t"}, &sink, wire.Observer{})
	_ = conn.Close()
	fs.wait() // fakeExpectClose fails on anything but the session's end
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Stream = %v, want an error wrapping context.Canceled", err)
	}
	if len(sink.values) != 0 {
		t.Errorf("%d rows handed on after the stop, want none", len(sink.values))
	}
}

// TestProtocolLateStopCannotHitLaterStatements: the context is done during
// the ROLLBACK of a stream that has handed on every row. The stream
// succeeds; the cancel request its stop sent has been delivered by the
// time Stream returns, so it cannot land on a later statement.
func TestProtocolLateStopCannotHitLaterStatements(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	flushed := make(chan struct{})
	once := false
	sink := fakeSink{onFlush: func(rows int) {
		if rows == 1 && !once {
			once = true
			close(flushed)
		}
	}}
	rollback := func(b *pgproto3.Backend, conn net.Conn) error {
		if _, err := fakeRecv[*pgproto3.Query](b); err != nil {
			return err
		}
		if _, err := fakeAwait(flushed, "the row flushed"); err != nil {
			return err
		}
		cancel() // the client stops while the server rolls back
		return fakeSend(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})(b, conn)
	}
	fs := startFake(t, fakeSeq(fakeUpToExecute(fakeKey),
		fakeSend(fakeMsgs(fakeRows([]byte(`1`)), fakeDone(1))...), rollback, fakeExpectClose))
	conn := fakeConnectTo(t, fs)
	res, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT j FROM t"}, &sink, wire.Observer{})
	// The stop may have come too late to act (nothing sent) or in time
	// (a cancel request sent): either way, every cancel connection begun
	// has been delivered by now, and no other begins later.
	began := fs.Accepted.Load() - 1
	if delivered := int32(len(fs.Cancels)); delivered != began {
		t.Errorf("Stream returned with %d cancel requests begun but %d delivered", began, delivered)
	}
	for range len(fs.Cancels) {
		if err := checkCancel(<-fs.Cancels); err != nil {
			t.Error(err)
		}
	}
	_ = conn.Close()
	fs.wait()
	if later := fs.Accepted.Load() - 1; later != began {
		t.Errorf("%d cancel requests after Stream returned", later-began)
	}
	if err != nil || res.Rows != 1 {
		t.Errorf("Stream = %+v, %v; want 1 row and success", res, err)
	}
}

// TestProtocolEveryTransactionEndsWithRollback: whatever way a stream in
// step with the server ends, its transaction ends with ROLLBACK, never
// COMMIT: the ROLLBACK is written with the statement, and answered after
// it, before the session closes.
func TestProtocolEveryTransactionEndsWithRollback(t *testing.T) {
	rejected := fakeSend(&pgproto3.BindComplete{}, fakeError("ERROR", "22012", "division by zero"), &pgproto3.ReadyForQuery{TxStatus: 'E'})
	for _, tc := range []struct {
		name   string
		script fakeScript
		ok     bool
	}{
		{"success", fakeSeq(fakeTrust(fakeKey), fakeBegin, fakeDescribe(fakeField("j", wire.OIDJSONB)), fakeExecute,
			fakeSend(fakeMsgs([]pgproto3.BackendMessage{&pgproto3.BindComplete{}}, fakeRows([]byte(`1`)), fakeDone(1))...),
			fakeQuery("ROLLBACK", "ROLLBACK", 'I'), fakeExpectClose), true},
		{"statement rejected", fakeSeq(fakeTrust(fakeKey), fakeBegin, fakeDescribe(fakeField("j", wire.OIDJSONB)), fakeExecute,
			rejected, fakeRollback, fakeExpectClose), false},
		{"describe rejected", fakeSeq(fakeTrust(fakeKey), fakeBegin, fakeRecvStatement,
			fakeSend(fakeError("ERROR", "42P01", `relation "t" does not exist`), &pgproto3.ReadyForQuery{TxStatus: 'E'}),
			fakeRollback, fakeExpectClose), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFake(t, tc.script)
			conn := fakeConnectTo(t, fs)
			var sink fakeSink
			_, err := conn.Stream(wire.NewStop(context.Background(), nil), wire.Statement{SQL: "SELECT j FROM t"}, &sink, wire.Observer{})
			_ = conn.Close()
			fs.wait()
			if (err == nil) != tc.ok {
				t.Errorf("Stream: %v, want success %v", err, tc.ok)
			}
		})
	}
}

// TestProtocolAbandonedStopDoesNotDrain: a stop whose cause the statement
// abandons (a reader gone) sends the cancel request and closes the
// connection at once: the stream returns while the server has not yet
// answered the cancel (other stops drain until it does:
// TestProtocolStopWhileBeginIsAnswered). The same for a sink error that
// Abandon accepts.
func TestProtocolAbandonedStopDoesNotDrain(t *testing.T) {
	defer wire.SetDrainTimeout(time.Hour)()
	gone := errors.New("the reader went away")
	for _, tc := range []struct {
		name   string
		failAt int // the sink fails on this row with gone; 0: the context stops
	}{
		{name: "context stopped"},
		{name: "sink failed", failAt: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sent := make(chan struct{})
			answered := make(chan struct{})
			var once sync.Once
			answer := func() { once.Do(func() { close(answered) }) }
			defer answer() // a failed test still ends the script
			fs := startFake(t, fakeSeq(fakeUpToExecute(fakeKey), fakeSend(fakeRows([]byte(`1`))...),
				func(b *pgproto3.Backend, c net.Conn) error {
					close(sent)
					<-answered // the server does not answer the cancel
					return fakeExpectClose(b, c)
				}))
			conn := fakeConnectTo(t, fs)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			st := wire.Statement{SQL: "SELECT j FROM t"}
			stop := wire.NewStop(ctx, func(err error) bool { return errors.Is(err, gone) })
			defer stop.Close()
			sink := fakeSink{failAt: tc.failAt, failErr: gone}
			returned := make(chan error, 1)
			go func() {
				_, err := conn.Stream(stop, st, &sink, wire.Observer{})
				returned <- err
			}()
			<-sent
			if tc.failAt == 0 {
				cancel(gone)
			}
			if err := checkCancel(fs.cancelRequest()); err != nil {
				t.Error(err)
			}
			var err error
			select {
			case err = <-returned:
			case <-time.After(fakeTimeout):
				t.Fatal("Stream still waits for the server after an abandoned stop")
			}
			answer()
			_ = conn.Close()
			fs.wait()
			if !errors.Is(err, gone) {
				t.Errorf("Stream = %v, want the stop's cause", err)
			}
		})
	}
}
