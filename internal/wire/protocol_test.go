package wire_test

// The query path against the fake server: malformed results, errors and
// disconnections at awkward moments, flushing and cancellation.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

var fakeKey = &pgproto3.BackendKeyData{ProcessID: 4242, SecretKey: []byte{0xde, 0xad, 0xbe, 0xef}}

// fakeUpToExecute logs in with key and takes a jsonb statement up to its
// execution, answering BindComplete.
func fakeUpToExecute(key *pgproto3.BackendKeyData) fakeScript {
	return fakeSeq(fakeTrust(key), fakeBegin, fakeDescribe(fakeField("j", wire.OIDJSONB)), fakeExecute,
		fakeSend(&pgproto3.BindComplete{}))
}

// checkCancel checks a cancel request against fakeKey.
func checkCancel(cr *pgproto3.CancelRequest) error {
	if cr == nil {
		return errors.New("no cancel request")
	}
	if cr.ProcessID != fakeKey.ProcessID || !bytes.Equal(cr.SecretKey, fakeKey.SecretKey) {
		return fmt.Errorf("cancel request for pid %d key %x, want pid %d key %x",
			cr.ProcessID, cr.SecretKey, fakeKey.ProcessID, fakeKey.SecretKey)
	}
	return nil
}

func TestProtocolStreamValues(t *testing.T) {
	tests := []struct {
		name      string
		oid       uint32
		keepsText bool
		values    [][]byte
	}{
		{"jsonb", wire.OIDJSONB, false, [][]byte{[]byte(`{"a": 1}`), []byte(`[]`)}},
		{"json keeps its input text", wire.OIDJSON, true, [][]byte{[]byte("{\"a\":\n 1}")}},
		{"SQL NULL arrives as nil", wire.OIDJSONB, false, [][]byte{[]byte(`1`), nil, []byte(`""`)}},
		{"no rows", wire.OIDJSONB, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := startFake(t, fakeStreamed(fakeKey, tt.oid, tt.values...))
			var sink fakeSink
			conn, res, err := fakeRun(t, fs, &sink)
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			_ = conn.Close()
			fs.wait()
			if sink.begins != 1 || sink.col != (wire.Column{Name: "j", TypeOID: tt.oid}) {
				t.Errorf("Begin called %d times with %+v", sink.begins, sink.col)
			}
			if sink.col.KeepsInputText() != tt.keepsText {
				t.Errorf("KeepsInputText() = %v for type %d", sink.col.KeepsInputText(), tt.oid)
			}
			var size int64
			for _, v := range tt.values {
				size += int64(len(v))
			}
			if res.Rows != int64(len(tt.values)) || res.Bytes != size {
				t.Errorf("Result = %+v, want %d rows, %d bytes", res, len(tt.values), size)
			}
			if len(sink.values) != len(tt.values) {
				t.Fatalf("sink got %d values, want %d", len(sink.values), len(tt.values))
			}
			for i, v := range tt.values {
				if (v == nil) != (sink.values[i] == nil) || !bytes.Equal(v, sink.values[i]) {
					t.Errorf("value %d = %q (nil %v), want %q (nil %v)", i, sink.values[i], sink.values[i] == nil, v, v == nil)
				}
			}
		})
	}
}

func TestProtocolNoCancelKey(t *testing.T) {
	fs := startFake(t, fakeStreamed(nil, wire.OIDJSONB, []byte(`1`)))
	var sink fakeSink
	conn, _, err := fakeRun(t, fs, &sink)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), fakeTimeout)
	defer cancel()
	if err := conn.Cancel(ctx); !errors.Is(err, wire.ErrNoCancelKey) {
		t.Errorf("Cancel = %v, want ErrNoCancelKey", err)
	}
	_ = conn.Close()
	fs.wait()
	params := <-fs.Startup
	for k, want := range map[string]string{"user": "u", "database": "d", "client_encoding": "UTF8", "application_name": "fraise"} {
		if params[k] != want {
			t.Errorf("startup parameter %s = %q, want %q", k, params[k], want)
		}
	}
	if n := fs.Accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1: no cancel key, no cancel request", n)
	}
}

// Results that break the protocol end the session with a *wire.ProtocolError.
func TestProtocolMalformedResults(t *testing.T) {
	row := fakeRows([]byte(`1`))
	tests := []struct {
		name string
		msgs []pgproto3.BackendMessage
		want string
	}{
		{"row count above rows sent", fakeMsgs(fakeRows([]byte(`1`), []byte(`2`)), fakeDone(3)), "server reported 3 rows but sent 2"},
		{"row count below rows sent", fakeMsgs(fakeRows([]byte(`1`), []byte(`2`)), fakeDone(1)), "server reported 1 rows but sent 2"},
		{"INSERT tag", fakeMsgs(row, []pgproto3.BackendMessage{&pgproto3.CommandComplete{CommandTag: []byte("INSERT 0 1")}}),
			`unexpected command tag "INSERT 0 1"`},
		{"no CommandComplete", fakeMsgs(row, []pgproto3.BackendMessage{&pgproto3.ReadyForQuery{TxStatus: 'T'}}),
			"sent 1 rows but no CommandComplete"},
		{"data row with 2 values", []pgproto3.BackendMessage{&pgproto3.DataRow{Values: [][]byte{[]byte(`1`), []byte(`2`)}}},
			"data row with 2 values, expected 1"},
		{"data row with no value", []pgproto3.BackendMessage{&pgproto3.DataRow{}}, "data row with 0 values, expected 1"},
		{"copy data", []pgproto3.BackendMessage{&pgproto3.CopyData{Data: []byte("x")}}, "unexpected message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := startFake(t, fakeSeq(fakeUpToExecute(nil), fakeSend(tt.msgs...), fakeExpectClose))
			var sink fakeSink
			conn, _, err := fakeRun(t, fs, &sink)
			_ = conn.Close()
			fs.wait()
			var pe *wire.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v (%T), want a *wire.ProtocolError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// fakeTypeNames answers the client's format_type lookups until it closes,
// and fails if the client binds or executes anything. The first lookup of
// a type named "!cancel:NAME" fails as a late cancel request would make it
// (57014); the next one answers NAME.
func fakeTypeNames(names map[uint32]string) fakeScript {
	re := regexp.MustCompile(`^SELECT format_type\((\d+), NULL\)$`)
	return func(b *pgproto3.Backend, _ net.Conn) error {
		for {
			msg, err := b.Receive()
			if err != nil {
				return nil // the client hung up
			}
			switch m := msg.(type) {
			case *pgproto3.Terminate:
				return nil
			case *pgproto3.Query:
				if m.String == "ROLLBACK" {
					continue // sent with the Terminate, unanswered
				}
				sub := re.FindStringSubmatch(m.String)
				if sub == nil {
					return fmt.Errorf("client sent %q", m.String)
				}
				oid, _ := strconv.ParseUint(sub[1], 10, 32)
				name, ok := names[uint32(oid)]
				if after, cancelled := strings.CutPrefix(name, "!cancel:"); cancelled {
					names[uint32(oid)] = after
					b.Send(fakeError("ERROR", "57014", "canceling statement due to user request"))
					b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
					break
				}
				if !ok {
					b.Send(fakeError("ERROR", "XX000", "cache lookup failed"))
					b.Send(&pgproto3.ReadyForQuery{TxStatus: 'E'})
					break
				}
				b.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{fakeField("format_type", 25)}})
				b.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(name)}})
				b.Send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
				b.Send(&pgproto3.ReadyForQuery{TxStatus: 'T'})
			default:
				return fmt.Errorf("client sent %T after a rejected describe; it must not execute", msg)
			}
			if err := b.Flush(); err != nil {
				return err
			}
		}
	}
}

// TestProtocolColumnsCheckedBeforeAnyRow: the result's shape is checked
// when its RowDescription arrives; a result that is not one json or jsonb
// column hands on no row (the server executes the pipelined statement all
// the same: its rows, here of two values, are drained unread), and the
// error names the columns' types as the server does, asked once the
// session is idle again.
func TestProtocolColumnsCheckedBeforeAnyRow(t *testing.T) {
	tests := []struct {
		name   string
		fields []pgproto3.FieldDescription
		want   string
	}{
		{"two columns", []pgproto3.FieldDescription{fakeField("a", wire.OIDJSONB), fakeField("b", wire.OIDJSON)},
			`the query returns 2 columns ("a" of type jsonb, "b" of type json), not one json or jsonb column`},
		{"int4", []pgproto3.FieldDescription{fakeField("n", 23)}, `column "n" of type integer is not json or jsonb`},
		{"jsonb[]", []pgproto3.FieldDescription{fakeField("j", 3807)}, `column "j" of type jsonb[] is not json or jsonb`},
		{"json[]", []pgproto3.FieldDescription{fakeField("j", 199)}, `column "j" of type json[] is not json or jsonb`},
		{"type name lookup fails", []pgproto3.FieldDescription{fakeField("x", 16000)}, `column "x" of type oid 16000 is not json or jsonb`},
		// The statement's cancel request, signalled late, cancels the
		// lookup instead: asked again.
		{"type name lookup cancelled", []pgproto3.FieldDescription{fakeField("t", 25)}, `column "t" of type text is not json or jsonb`},
		{"no result columns", nil, "returns no columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := map[uint32]string{23: "integer", 3807: "jsonb[]", 199: "json[]", wire.OIDJSONB: "jsonb", wire.OIDJSON: "json", 25: "!cancel:text"}
			executed := fakeSend(&pgproto3.BindComplete{}, &pgproto3.DataRow{Values: [][]byte{[]byte("1"), []byte("2")}},
				&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}, &pgproto3.ReadyForQuery{TxStatus: 'T'})
			fs := startFake(t, fakeSeq(fakeTrust(nil), fakeBegin, fakeDescribe(tt.fields...), fakeExecute, executed,
				fakeRollback, fakeTypeNames(names)))
			var sink fakeSink
			conn, _, err := fakeRun(t, fs, &sink)
			_ = conn.Close()
			fs.wait()
			var qe *wire.QueryError
			var ce *wire.ColumnError
			if !errors.As(err, &qe) || !errors.As(err, &ce) {
				t.Fatalf("error = %v (%T), want a *wire.QueryError wrapping a *wire.ColumnError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
			if sink.begins != 0 || len(sink.values) != 0 {
				t.Errorf("sink.Begin called %d times, %d rows handed on, for a rejected result", sink.begins, len(sink.values))
			}
		})
	}
}

// TestProtocolFlushWhenIdle: every row is passed on while the server is
// idle, before the next one comes: the first at once, the later ones once
// the reader has held them for at most flushHold (waiting for more).
func TestProtocolFlushWhenIdle(t *testing.T) {
	const rows = 3
	var flushed [rows + 1]chan struct{}
	for i := range flushed {
		flushed[i] = make(chan struct{})
	}
	sink := fakeSink{onFlush: func(n int) {
		select {
		case <-flushed[n]:
		default:
			close(flushed[n])
		}
	}}
	steps := []fakeScript{fakeUpToExecute(nil)}
	for i := 1; i <= rows; i++ {
		steps = append(steps, fakeSend(fakeRows([]byte(strconv.Itoa(i)))...),
			func(*pgproto3.Backend, net.Conn) error {
				// Nothing more is coming for now: the client must pass the
				// row on before waiting for the next.
				_, err := fakeAwait(flushed[i], fmt.Sprintf("Flush after row %d while the server was idle", i))
				return err
			})
	}
	steps = append(steps, fakeSend(fakeDone(rows)...), fakeRollback, fakeExpectClose)
	fs := startFake(t, fakeSeq(steps...))
	conn, _, err := fakeRun(t, fs, &sink)
	if err != nil {
		t.Errorf("Stream: %v", err)
	}
	_ = conn.Close()
	fs.wait()
	events := strings.Join(sink.events, " ")
	if !strings.Contains(events, "write flush write flush write flush") {
		t.Errorf("sink events %q: want a flush after each row", events)
	}
}

func TestProtocolServerErrors(t *testing.T) {
	tests := []struct {
		name   string
		script fakeScript
		code   string
	}{
		{"FATAL mid-stream, then hang up", fakeSeq(fakeUpToExecute(nil),
			fakeSend(fakeMsgs(fakeRows([]byte(`1`)), []pgproto3.BackendMessage{
				fakeError("FATAL", "57P01", "terminating connection due to administrator command")})...)), "57P01"},
		{"ERROR mid-stream, then ready", fakeSeq(fakeUpToExecute(nil),
			fakeSend(fakeMsgs(fakeRows([]byte(`1`)), []pgproto3.BackendMessage{
				fakeError("ERROR", "22012", "division by zero"), &pgproto3.ReadyForQuery{TxStatus: 'E'}})...),
			fakeRollback, fakeExpectClose), "22012"},
		// PgBouncer's own errors carry S but no V field (pre-9.6 servers'
		// too): a FATAL from it must not be lost when it hangs up.
		{"FATAL without V mid-stream, then hang up", fakeSeq(fakeUpToExecute(nil),
			fakeSend(fakeMsgs(fakeRows([]byte(`1`)), []pgproto3.BackendMessage{
				&pgproto3.ErrorResponse{Severity: "FATAL", Code: "08P01", Message: "query_timeout"}})...)), "08P01"},
		// pg_terminate_backend between BEGIN and Parse: the FATAL is what
		// the user needs to see, not "unexpected EOF".
		{"FATAL during prepare, then hang up", fakeSeq(fakeTrust(nil), fakeBegin,
			func(b *pgproto3.Backend, conn net.Conn) error {
				if _, err := fakeRecv[*pgproto3.Parse](b); err != nil {
					return err
				}
				return fakeSend(fakeError("FATAL", "57P01", "terminating connection due to administrator command"))(b, conn)
			}), "57P01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := startFake(t, tt.script)
			var sink fakeSink
			conn, _, err := fakeRun(t, fs, &sink)
			_ = conn.Close()
			fs.wait()
			var qe *wire.QueryError
			var pe *wire.PgError
			if !errors.As(err, &qe) || !errors.As(err, &pe) {
				t.Fatalf("error = %v (%T), want a *wire.QueryError wrapping a *wire.PgError", err, err)
			}
			if pe.Code != tt.code {
				t.Errorf("SQLSTATE %s, want %s", pe.Code, tt.code)
			}
		})
	}
}

func TestProtocolConnectionLost(t *testing.T) {
	tests := []struct {
		name   string
		script fakeScript
		rows   int
	}{
		{"after one row", fakeSeq(fakeUpToExecute(nil), fakeSend(fakeRows([]byte(`1`))...)), 1},
		{"while computing", fakeUpToExecute(nil), 0},
		{"inside a row", fakeSeq(fakeUpToExecute(nil), fakeRaw([]byte{'D', 0, 0, 0, 100, 0, 1})), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := startFake(t, tt.script)
			var sink fakeSink
			conn, _, err := fakeRun(t, fs, &sink)
			_ = conn.Close()
			fs.wait()
			var le *wire.ConnLostError
			if !errors.As(err, &le) {
				t.Fatalf("error = %v (%T), want a *wire.ConnLostError", err, err)
			}
			if !strings.HasPrefix(err.Error(), "lost the connection to the server") {
				t.Errorf("error %q", err)
			}
			if len(sink.values) != tt.rows {
				t.Errorf("sink got %d rows, want %d", len(sink.values), tt.rows)
			}
		})
	}
}

func TestProtocolSinkErrorCancels(t *testing.T) {
	sinkErr := errors.New("stdout: broken pipe")
	for _, key := range []*pgproto3.BackendKeyData{fakeKey, nil} {
		t.Run(fmt.Sprintf("cancel key %v", key != nil), func(t *testing.T) {
			fs := startFake(t, fakeSeq(fakeUpToExecute(key),
				fakeSend(fakeMsgs(fakeRows([]byte(`1`), []byte(`2`), []byte(`3`)), fakeDone(3))...), fakeExpectClose))
			sink := fakeSink{failAt: 1, failErr: sinkErr}
			conn, _, err := fakeRun(t, fs, &sink)
			_ = conn.Close()
			if !errors.Is(err, sinkErr) {
				t.Errorf("Stream = %v, want the sink's error", err)
			}
			if len(sink.values) != 1 {
				t.Errorf("sink got %d rows after failing on the first", len(sink.values))
			}
			fs.wait() // the session was closed
			if key == nil {
				if n := fs.Accepted.Load(); n != 1 {
					t.Errorf("%d connections without a cancel key, want 1", n)
				}
				return
			}
			if err := checkCancel(fs.cancelRequest()); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestProtocolContextCancelWhileComputing(t *testing.T) {
	executing := make(chan struct{})
	fs := newFakeServer(t)
	fs.start(fakeSeq(fakeUpToExecute(fakeKey),
		func(*pgproto3.Backend, net.Conn) error {
			// Computing: nothing to send until the cancel request arrives.
			close(executing)
			cr, err := fakeAwait(fs.Cancels, "a cancel request")
			if err != nil {
				return err
			}
			return checkCancel(cr)
		},
		fakeSend(fakeError("ERROR", "57014", "canceling statement due to user request"), &pgproto3.ReadyForQuery{TxStatus: 'E'}),
		fakeRollback, fakeExpectClose))
	env, _ := fakeEnv(t, nil)
	conn, err := fakeConnect(t, fakeConfig(t, env, "", fs.Dir))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := make(chan time.Time, 1)
	go func() {
		select {
		case <-executing:
		case <-time.After(fakeTimeout):
		}
		cancelled <- time.Now()
		cancel()
	}()
	var sink fakeSink
	_, err = conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT j FROM t"}, &sink, wire.Observer{})
	returned := time.Now()
	_ = conn.Close() // drained and rolled back: the session is in step and ends with Terminate
	fs.wait()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Stream = %v, want an error wrapping context.Canceled", err)
	}
	var qe *wire.QueryError
	if !errors.As(err, &qe) {
		t.Errorf("Stream = %v (%T), want a *wire.QueryError", err, err)
	}
	select {
	case at := <-cancelled:
		// The drain deadline is 5 s: coming back well before it shows the
		// client stopped on the server's acknowledgement.
		if d := returned.Sub(at); d > 3*time.Second {
			t.Errorf("Stream returned %s after the cancel", d)
		}
	default:
		t.Error("Stream returned before the context was cancelled")
	}
}
