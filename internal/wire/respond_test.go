package wire

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// recorder is an exchange that writes down what the response loop hands
// it. It owns RowDescription and CommandComplete; serverError fails with
// errStop for SQLSTATE stopCode.
type recorder struct {
	calls    []string
	stopCode string
}

var errStop = errors.New("the exchange stops")

func (r *recorder) add(f string, a ...any) { r.calls = append(r.calls, fmt.Sprintf(f, a...)) }

func (r *recorder) await() error { r.add("await"); return nil }

func (r *recorder) row(body []byte) error {
	v, err := dataRowValue(body)
	r.add("row %s", v)
	return err
}

func (r *recorder) message(msg pgproto3.BackendMessage) (bool, error) {
	r.add("message %T", msg)
	switch msg.(type) {
	case *pgproto3.RowDescription, *pgproto3.CommandComplete:
		return true, nil
	}
	return false, nil
}

func (r *recorder) serverError(pe *PgError) error {
	r.add("error %s", pe.Code)
	if pe.Code == r.stopCode {
		return errStop
	}
	return nil
}

func (r *recorder) lost(err error) error   { r.add("lost"); return err }
func (r *recorder) broken(err error) error { r.add("broken"); return err }

// closeConn is a net.Conn that only records being closed.
type closeConn struct {
	net.Conn
	closed bool
}

func (c *closeConn) Close() error { c.closed = true; return nil }

// TestRespond: what the response loop does with each kind of message and
// each way reading fails, and what it leaves to the exchange.
func TestRespond(t *testing.T) {
	row := func(v string) pgproto3.BackendMessage { return &pgproto3.DataRow{Values: [][]byte{[]byte(v)}} }
	rfq := func(s byte) pgproto3.BackendMessage { return &pgproto3.ReadyForQuery{TxStatus: s} }
	for _, tc := range []struct {
		name     string
		msgs     []pgproto3.BackendMessage
		raw      []byte // sent after msgs
		stopCode string
		calls    string // the exchange's calls, one per line
		err      string // "" for none
		closed   bool   // the connection was closed
		txStatus byte
		notices  string
		params   string
	}{
		{name: "rows and the exchange's own messages, up to ReadyForQuery",
			msgs:  []pgproto3.BackendMessage{&pgproto3.RowDescription{}, row("a"), row("b"), &pgproto3.CommandComplete{}, rfq('T'), row("next")},
			calls: "await\nmessage *pgproto3.RowDescription\nrow a\nrow b\nmessage *pgproto3.CommandComplete", txStatus: 'T'},
		{name: "notices, parameters and notifications are the loop's, between rows too",
			msgs: []pgproto3.BackendMessage{row("a"), &pgproto3.NoticeResponse{Severity: "NOTICE", Code: "00000", Message: "n"},
				&pgproto3.ParameterStatus{Name: "TimeZone", Value: "UTC"}, &pgproto3.NotificationResponse{Channel: "c"}, row("b"), rfq('I')},
			calls: "await\nrow a\nrow b", txStatus: 'I', notices: "[n]", params: "UTC"},
		{name: "an error mid-rows goes to the exchange, and reading goes on",
			msgs:  []pgproto3.BackendMessage{row("a"), &pgproto3.ErrorResponse{Severity: "ERROR", Code: "22012"}, rfq('E')},
			calls: "await\nrow a\nerror 22012", txStatus: 'E'},
		{name: "the exchange's error ends the loop",
			msgs: []pgproto3.BackendMessage{&pgproto3.ErrorResponse{Severity: "FATAL", Code: "57P01"}, rfq('E')}, stopCode: "57P01",
			calls: "await\nerror 57P01", err: errStop.Error()},
		{name: "an unexpected message breaks the protocol",
			msgs:  []pgproto3.BackendMessage{row("a"), &pgproto3.CloseComplete{}, rfq('I')},
			calls: "await\nrow a\nmessage *pgproto3.CloseComplete\nbroken", err: "protocol violation: unexpected message *pgproto3.CloseComplete", closed: true},
		{name: "a message that cannot be read breaks the protocol",
			raw:   []byte{'Z', 0, 0, 0, 4},
			calls: "await\nbroken", err: "protocol violation: malformed *pgproto3.ReadyForQuery", closed: true},
		{name: "a connection lost mid-rows",
			msgs:  []pgproto3.BackendMessage{row("a")},
			calls: "await\nrow a\nawait\nlost", err: io.ErrUnexpectedEOF.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := append(encode(t, tc.msgs...), tc.raw...)
			nc := &closeConn{}
			var notices []string
			c := &Conn{nc: nc, rd: newMsgReader(bytes.NewReader(data)), params: map[string]string{},
				cfg: &Config{OnNotice: func(n *PgError) { notices = append(notices, n.Message) }}}
			x := &recorder{stopCode: tc.stopCode}
			err := c.respond(x)
			if got := strings.Join(x.calls, "\n"); got != tc.calls {
				t.Errorf("calls:\n%s\nwant:\n%s", got, tc.calls)
			}
			if (err == nil) != (tc.err == "") || (err != nil && !strings.HasPrefix(err.Error(), tc.err)) {
				t.Errorf("respond = %v, want %q", err, tc.err)
			}
			if nc.closed != tc.closed || c.txStatus != tc.txStatus {
				t.Errorf("closed %v, transaction status %q; want %v, %q", nc.closed, c.txStatus, tc.closed, tc.txStatus)
			}
			if fmt.Sprint(notices) != cmp.Or(tc.notices, "[]") || c.params["TimeZone"] != tc.params {
				t.Errorf("notices %q, TimeZone %q; want %s, %q", notices, c.params["TimeZone"], cmp.Or(tc.notices, "[]"), tc.params)
			}
		})
	}
}
