package wire_test

// QueryText, Ping and IsStandby against the scripted fake server: the
// messages sent, the values handed on, and each way a statement can fail.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeExtendedQuery expects Parse of sql, Bind of params, Execute and Sync,
// in that order, and answers nothing.
func fakeExtendedQuery(sql string, params ...string) fakeScript {
	return func(b *pgproto3.Backend, _ net.Conn) error {
		p, err := fakeRecv[*pgproto3.Parse](b)
		if err != nil {
			return err
		}
		if p.Query != sql {
			return fmt.Errorf("Parse %q, want %q", p.Query, sql)
		}
		bind, err := fakeRecv[*pgproto3.Bind](b)
		if err != nil {
			return err
		}
		var got []string
		for _, v := range bind.Parameters {
			got = append(got, string(v))
		}
		if !slices.Equal(got, params) {
			return fmt.Errorf("Bind %q, want %q", got, params)
		}
		if len(bind.ResultFormatCodes) > 1 || (len(bind.ResultFormatCodes) == 1 && bind.ResultFormatCodes[0] != 0) {
			return fmt.Errorf("Bind result formats %v, want text", bind.ResultFormatCodes)
		}
		if _, err := fakeRecv[*pgproto3.Execute](b); err != nil {
			return err
		}
		_, err = fakeRecv[*pgproto3.Sync](b)
		return err
	}
}

// fakeLogin logs the client in without a password, reporting params and
// the cancel key fakeKey.
func fakeLogin(params ...[2]string) fakeScript {
	msgs := []pgproto3.BackendMessage{&pgproto3.AuthenticationOk{}}
	for _, p := range params {
		msgs = append(msgs, &pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	return fakeSend(append(msgs, fakeKey, &pgproto3.ReadyForQuery{TxStatus: 'I'})...)
}

// fakeTextRow is a DataRow of text values; nil is SQL NULL.
func fakeTextRow(values ...[]byte) *pgproto3.DataRow { return &pgproto3.DataRow{Values: values} }

func TestQueryTextHandsOnRows(t *testing.T) {
	const sql = "SELECT a, b, c FROM t WHERE x = $1 AND y = $2"
	fs := startFake(t, fakeSeq(fakeTrust(fakeKey), fakeBegin, fakeExtendedQuery(sql, "data", ""),
		fakeSend(&pgproto3.ParseComplete{}, &pgproto3.BindComplete{},
			fakeTextRow([]byte("public"), []byte("v_user"), nil),
			fakeTextRow([]byte("Odd Schema"), []byte(""), []byte("42")),
			&pgproto3.NoticeResponse{Severity: "NOTICE", Code: "00000", Message: "a notice in between"},
			&pgproto3.CommandComplete{CommandTag: []byte("SELECT 2")}, &pgproto3.ReadyForQuery{TxStatus: 'T'}),
		fakeRollback, fakeExpectClose))
	conn := fakeConnectTo(t, fs)
	var got [][]string
	err := conn.QueryText(context.Background(), sql, []string{"data", ""}, func(v [][]byte) error {
		var row []string
		for _, b := range v {
			if b == nil {
				row = append(row, "NULL")
			} else {
				row = append(row, "'"+string(b)+"'")
			}
		}
		got = append(got, row)
		return nil
	})
	if err != nil {
		t.Fatalf("QueryText: %v", err)
	}
	want := [][]string{{"'public'", "'v_user'", "NULL"}, {"'Odd Schema'", "''", "'42'"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	_ = conn.Close()
	fs.wait()
}

// TestQueryTextErrors: each way a statement can fail, the error it gives
// and what happens to the connection.
func TestQueryTextErrors(t *testing.T) {
	errRow := errors.New("the row callback failed")
	rows := func(n int) []pgproto3.BackendMessage {
		var m []pgproto3.BackendMessage
		for i := range n {
			m = append(m, fakeTextRow(fmt.Appendf(nil, "%d", i)))
		}
		return m
	}
	ok := []pgproto3.BackendMessage{&pgproto3.ParseComplete{}, &pgproto3.BindComplete{}}
	for _, tc := range []struct {
		name    string
		after   fakeScript // the server's answer to the statement, and what follows
		rowErr  error      // returned by the callback for the first row
		wantErr func(err error) string
		cancel  bool // a cancel request must arrive
	}{
		{
			name:  "syntax error at parse",
			after: fakeSeq(fakeSend(fakeError("ERROR", "42601", "syntax error at or near \"SELEC\""), &pgproto3.ReadyForQuery{TxStatus: 'E'}), fakeExpectClose),
			wantErr: func(err error) string {
				return wantQueryError(err, "prepare", "42601")
			},
		},
		{
			name:  "error while executing",
			after: fakeSeq(fakeSend(fakeMsgs(ok, rows(1), []pgproto3.BackendMessage{fakeError("ERROR", "42501", "permission denied for table t"), &pgproto3.ReadyForQuery{TxStatus: 'E'}})...), fakeExpectClose),
			wantErr: func(err error) string {
				return wantQueryError(err, "execute", "42501")
			},
		},
		{
			name:  "administrator ends the session",
			after: fakeSend(fakeMsgs(ok, []pgproto3.BackendMessage{fakeError("FATAL", "57P01", "terminating connection due to administrator command")})...),
			wantErr: func(err error) string {
				return wantQueryError(err, "execute", "57P01")
			},
		},
		{
			name:  "server hangs up",
			after: fakeSend(fakeMsgs(ok, rows(1))...),
			wantErr: func(err error) string {
				var cl *wire.ConnLostError
				if !errors.As(err, &cl) {
					return "want a *wire.ConnLostError"
				}
				return ""
			},
		},
		{
			name: "malformed row",
			// One value said to be 9 bytes long, with 1 byte there.
			after: fakeSeq(fakeSend(ok...), fakeRaw([]byte{'D', 0, 0, 0, 11, 0, 1, 0, 0, 0, 9, 'x'})),
			wantErr: func(err error) string {
				return wantProtocolError(err, "malformed DataRow")
			},
		},
		{
			name:  "row count differs from the command tag",
			after: fakeSeq(fakeSend(fakeMsgs(ok, rows(1), fakeDone(2))...), fakeExpectClose),
			wantErr: func(err error) string {
				return wantProtocolError(err, "server reported 2 rows but sent 1")
			},
		},
		{
			name:   "the callback fails",
			after:  fakeSeq(fakeSend(fakeMsgs(ok, rows(2), fakeDone(2))...), fakeExpectClose),
			rowErr: errRow,
			wantErr: func(err error) string {
				if !errors.Is(err, errRow) {
					return "want the callback's error"
				}
				return ""
			},
			cancel: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFake(t, fakeSeq(fakeTrust(fakeKey), fakeBegin, fakeExtendedQuery("SELECT x FROM t"), tc.after))
			conn := fakeConnectTo(t, fs)
			err := conn.QueryText(context.Background(), "SELECT x FROM t", nil, func([][]byte) error { return tc.rowErr })
			if msg := tc.wantErr(err); msg != "" {
				t.Errorf("QueryText = %v (%T): %s", err, err, msg)
			}
			if tc.cancel {
				if err := checkCancel(fs.cancelRequest()); err != nil {
					t.Error(err)
				}
			}
			_ = conn.Close()
			fs.wait()
		})
	}
}

func wantQueryError(err error, step wire.QueryStep, code string) string {
	var qe *wire.QueryError
	switch {
	case !errors.As(err, &qe):
		return "want a *wire.QueryError"
	case qe.Step != step:
		return fmt.Sprintf("step %q, want %q", qe.Step, step)
	case wire.SQLState(err) != code:
		return fmt.Sprintf("SQLSTATE %q, want %s", wire.SQLState(err), code)
	}
	return ""
}

func wantProtocolError(err error, text string) string {
	var pe *wire.ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), text) {
		return fmt.Sprintf("want a *wire.ProtocolError saying %q", text)
	}
	return ""
}

// TestQueryTextStops: the context is done while rows arrive. No further
// row is handed on; the server is asked to cancel, the rest of the result
// is read until it acknowledges, and the error wraps the context's cause.
func TestQueryTextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs := newFakeServer(t)
	acknowledge := func(b *pgproto3.Backend, conn net.Conn) error {
		cr, err := fakeAwait(fs.Cancels, "a cancel request")
		if err != nil {
			return err
		}
		if err := checkCancel(cr); err != nil {
			return err
		}
		return fakeSend(fakeTextRow([]byte("late")), fakeError("ERROR", "57014", "canceling statement due to user request"),
			&pgproto3.ReadyForQuery{TxStatus: 'E'})(b, conn)
	}
	fs.start(fakeSeq(fakeTrust(fakeKey), fakeBegin, fakeExtendedQuery("SELECT x FROM t"),
		fakeSend(&pgproto3.ParseComplete{}, &pgproto3.BindComplete{}, fakeTextRow([]byte("first"))), acknowledge, fakeExpectClose))
	conn := fakeConnectTo(t, fs)
	var got []string
	err := conn.QueryText(ctx, "SELECT x FROM t", nil, func(v [][]byte) error {
		got = append(got, string(v[0]))
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("QueryText = %v, want an error wrapping context.Canceled", err)
	}
	if !slices.Equal(got, []string{"first"}) {
		t.Errorf("rows handed on %q, want only the first", got)
	}
	_ = conn.Close()
	fs.wait()
}

func TestIsStandby(t *testing.T) {
	const sql = "SELECT pg_catalog.pg_is_in_recovery()"
	answer := func(v string) fakeScript {
		return fakeSeq(fakeBegin, fakeExtendedQuery(sql),
			fakeSend(&pgproto3.ParseComplete{}, &pgproto3.BindComplete{}, fakeTextRow([]byte(v)),
				&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}, &pgproto3.ReadyForQuery{TxStatus: 'T'}),
			fakeRollback)
	}
	version := [2]string{"server_version", "13.9"}
	for _, tc := range []struct {
		name    string
		script  fakeScript
		want    bool
		wantErr string
	}{
		// PostgreSQL 14+ reports in_hot_standby: nothing is asked.
		{"reported on", fakeLogin(version, [2]string{"in_hot_standby", "on"}), true, ""},
		{"reported off", fakeLogin(version, [2]string{"in_hot_standby", "off"}), false, ""},
		// Older servers are asked.
		{"asked, in recovery", fakeSeq(fakeLogin(version), answer("t")), true, ""},
		{"asked, primary", fakeSeq(fakeLogin(version), answer("f")), false, ""},
		{"asked, nonsense", fakeSeq(fakeLogin(version), answer("maybe")), false, `returned 1 rows, the first "maybe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := startFake(t, fakeSeq(tc.script, fakeExpectClose))
			conn := fakeConnectTo(t, fs)
			got, err := conn.IsStandby(context.Background())
			switch {
			case tc.wantErr != "":
				if msg := wantProtocolError(err, tc.wantErr); msg != "" {
					t.Errorf("IsStandby = %v: %s", err, msg)
				}
			case err != nil || got != tc.want:
				t.Errorf("IsStandby = %v, %v; want %v", got, err, tc.want)
			}
			_ = conn.Close()
			fs.wait()
		})
	}
}

func TestPing(t *testing.T) {
	one := func(v string) fakeScript {
		return fakeSeq(fakeExtendedQuery("SELECT 1"),
			fakeSend(&pgproto3.ParseComplete{}, &pgproto3.BindComplete{}, fakeTextRow([]byte(v)),
				&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}, &pgproto3.ReadyForQuery{TxStatus: 'T'}))
	}
	t.Run("three round trips in one transaction", func(t *testing.T) {
		fs := startFake(t, fakeSeq(fakeTrust(fakeKey), fakeBegin, one("1"), one("1"), one("1"), fakeRollback, fakeExpectClose))
		conn := fakeConnectTo(t, fs)
		rtts, err := conn.Ping(context.Background(), 3)
		if err != nil || len(rtts) != 3 {
			t.Fatalf("Ping = %v, %v; want 3 durations", rtts, err)
		}
		for i, d := range rtts {
			if d <= 0 {
				t.Errorf("round trip %d took %s", i+1, d)
			}
		}
		_ = conn.Close()
		fs.wait()
	})
	t.Run("wrong answer", func(t *testing.T) {
		fs := startFake(t, fakeSeq(fakeTrust(fakeKey), fakeBegin, one("2"), fakeExpectClose))
		conn := fakeConnectTo(t, fs)
		_, err := conn.Ping(context.Background(), 3)
		if msg := wantProtocolError(err, `SELECT 1 returned ["2"]`); msg != "" {
			t.Errorf("Ping = %v: %s", err, msg)
		}
		if err := checkCancel(fs.cancelRequest()); err != nil {
			t.Error(err)
		}
		_ = conn.Close()
		fs.wait()
	})
	t.Run("no round trips asked for", func(t *testing.T) {
		fs := startFake(t, fakeSeq(fakeTrust(fakeKey), fakeExpectClose))
		conn := fakeConnectTo(t, fs)
		if _, err := conn.Ping(context.Background(), 0); err == nil {
			t.Error("Ping(0) succeeded")
		}
		_ = conn.Close()
		fs.wait()
	})
}
