package wire_test

// The response loop against the fake server: each kind of message that
// may come in any answer, in each phase of a session — the startup, a
// stream's BEGIN, Describe, EXPLAIN, rows and ROLLBACK, QueryText's BEGIN,
// rows and ROLLBACK — and what it does there.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// A phase is where a message is put in: the request whose answer it joins
// (its index in the session's requests after the startup, or -1 for the
// startup) and the place among that answer's messages.
type respondPhase struct {
	name    string
	request int
	at      int
	text    bool // QueryText rather than Stream
	explain bool // the stream asks for the planner's estimate
	step    wire.QueryStep
}

var respondPhases = []respondPhase{
	{name: "startup", request: -1, at: 7},
	{name: "stream begin", request: 0, at: 0, step: wire.StepBegin},
	{name: "stream describe", request: 1, at: 1, step: wire.StepPrepare},
	{name: "stream explain", request: 1, at: 6, explain: true, step: wire.StepExplain},
	{name: "stream rows", request: 1, at: 5, step: wire.StepExecute},
	{name: "stream rollback", request: 2, at: 0, step: wire.StepRollback},
	{name: "text begin", request: 0, at: 0, text: true, step: wire.StepBegin},
	{name: "text rows", request: 1, at: 3, text: true, step: wire.StepExecute},
	{name: "text rollback", request: 2, at: 0, text: true, step: wire.StepRollback},
}

// answers are the server's answers to each request of the phase's
// session, in order: the startup's, then BEGIN's, the statement's up to
// its Sync, and ROLLBACK's.
func (p respondPhase) answers() [][]pgproto3.BackendMessage {
	rfq := func(s byte) *pgproto3.ReadyForQuery { return &pgproto3.ReadyForQuery{TxStatus: s} }
	done := func(tag string) *pgproto3.CommandComplete { return &pgproto3.CommandComplete{CommandTag: []byte(tag)} }
	startup := []pgproto3.BackendMessage{&pgproto3.AuthenticationOk{},
		&pgproto3.ParameterStatus{Name: "server_version", Value: "17.2"}, &pgproto3.ParameterStatus{Name: "client_encoding", Value: "UTF8"},
		&pgproto3.ParameterStatus{Name: "in_hot_standby", Value: "off"}, &pgproto3.ParameterStatus{Name: "server_encoding", Value: "UTF8"},
		&pgproto3.ParameterStatus{Name: "DateStyle", Value: "ISO, MDY"}, fakeKey, rfq('I')}
	var stmt []pgproto3.BackendMessage
	switch {
	case p.text:
		stmt = []pgproto3.BackendMessage{&pgproto3.ParseComplete{}, &pgproto3.BindComplete{},
			fakeTextRow([]byte("1")), fakeTextRow([]byte("2")), done("SELECT 2"), rfq('T')}
	case p.explain:
		stmt = []pgproto3.BackendMessage{&pgproto3.ParseComplete{}, &pgproto3.ParameterDescription{},
			&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{fakeField("j", wire.OIDJSONB)}},
			&pgproto3.ParseComplete{}, &pgproto3.BindComplete{}, &pgproto3.DataRow{Values: [][]byte{[]byte(`[{"Plan": {"Plan Rows": 2}}]`)}},
			done("EXPLAIN"), &pgproto3.ParseComplete{}, &pgproto3.BindComplete{},
			fakeRows([]byte(`1`))[0], fakeRows([]byte(`2`))[0], done("SELECT 2"), rfq('T')}
	default:
		stmt = []pgproto3.BackendMessage{&pgproto3.ParseComplete{}, &pgproto3.ParameterDescription{},
			&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{fakeField("j", wire.OIDJSONB)}},
			&pgproto3.BindComplete{}, fakeRows([]byte(`1`))[0], fakeRows([]byte(`2`))[0], done("SELECT 2"), rfq('T')}
	}
	return [][]pgproto3.BackendMessage{startup, {done("BEGIN"), rfq('T')}, stmt, {done("ROLLBACK"), rfq('I')}}
}

// with returns the answers with extra put in at the phase's place. An
// ErrorResponse ends its answer there, as the server ends a request it
// fails; after a BEGIN that failed, the statement fails too, in the
// aborted transaction.
func (p respondPhase) with(extra pgproto3.BackendMessage) [][]pgproto3.BackendMessage {
	all := p.answers()
	i := p.request + 1
	head := append([]pgproto3.BackendMessage{}, all[i][:p.at]...)
	head = append(head, extra)
	if _, failed := extra.(*pgproto3.ErrorResponse); failed && p.request >= 0 {
		all[i] = append(head, &pgproto3.ReadyForQuery{TxStatus: 'E'})
		if p.request == 0 {
			all[2] = []pgproto3.BackendMessage{fakeError("ERROR", "25P02", "current transaction is aborted"), &pgproto3.ReadyForQuery{TxStatus: 'E'}}
		}
		if p.request == 2 {
			all[i][len(all[i])-1] = &pgproto3.ReadyForQuery{TxStatus: 'I'}
		}
		return all
	}
	all[i] = append(head, all[i][p.at:]...)
	return all
}

// respondScript answers each request with its answer; once an answer has
// ended the client's session (ends, a message in it), the fake only reads
// until the client is gone.
func respondScript(answers [][]pgproto3.BackendMessage, ends pgproto3.BackendMessage) fakeScript {
	return func(b *pgproto3.Backend, conn net.Conn) error {
		for i, msgs := range answers {
			if i > 0 {
				if err := fakeRecvRequest(b); err != nil {
					return err
				}
			}
			if err := fakeSend(msgs...)(b, conn); err != nil {
				return err
			}
			for _, m := range msgs {
				if m == ends {
					return fakeUntilClosed(b, conn)
				}
			}
		}
		return fakeUntilClosed(b, conn)
	}
}

// fakeRecvRequest reads one request: a Query, or extended-protocol
// messages up to a Sync.
func fakeRecvRequest(b *pgproto3.Backend) error {
	for {
		msg, err := b.Receive()
		if err != nil {
			return fmt.Errorf("waiting for a request: %w", err)
		}
		switch msg.(type) {
		case *pgproto3.Query, *pgproto3.Sync:
			return nil
		}
	}
}

// fakeUntilClosed reads whatever the client sends until it closes the
// connection.
func fakeUntilClosed(b *pgproto3.Backend, _ net.Conn) error {
	for {
		_, err := b.Receive()
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET):
			return nil
		case err != nil:
			return fmt.Errorf("waiting for the client to close: %w", err)
		}
	}
}

// respondRun runs the phase's session against fs: a stream of two jsonb
// rows, or QueryText of two text rows. It returns the rows handed on, the
// notices received, the estimate, the connection (nil if Connect failed)
// and the first error.
type respondRun struct {
	conn     *wire.Conn
	rows     []string
	notices  []string
	estimate int64
	err      error
}

func (p respondPhase) run(t *testing.T, fs *fakeServer) respondRun {
	t.Helper()
	env, _ := fakeEnv(t, nil)
	cfg := fakeConfig(t, env, "", fs.Dir)
	out := respondRun{estimate: -1}
	cfg.OnNotice = func(n *wire.PgError) { out.notices = append(out.notices, n.Message) }
	if out.conn, out.err = fakeConnect(t, cfg); out.err != nil {
		out.conn = nil
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), fakeTimeout)
	defer cancel()
	if p.text {
		out.err = out.conn.QueryText(ctx, "SELECT x FROM t", nil, func(v [][]byte) error {
			out.rows = append(out.rows, string(v[0]))
			return nil
		})
		return out
	}
	var obs wire.Observer
	if p.explain {
		obs.Estimate = func(n int64) { out.estimate = n }
	}
	var sink fakeSink
	_, out.err = out.conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT j FROM t"}, &sink, obs)
	for _, v := range sink.values {
		out.rows = append(out.rows, string(v))
	}
	return out
}

// TestResponsesInEveryPhase: a NoticeResponse, a ParameterStatus or a
// NotificationResponse is handled the same way wherever it comes, between
// rows included, and the session goes on; a message no request expects
// there ends the session with a *wire.ProtocolError; an ErrorResponse is
// the error of the step it comes in (mid-rows, after the rows before it
// are handed on), and a FATAL one ends the session at once.
func TestResponsesInEveryPhase(t *testing.T) {
	for _, kind := range []struct {
		name  string
		extra pgproto3.BackendMessage
		check func(p respondPhase, r respondRun) string
	}{
		{"notice", &pgproto3.NoticeResponse{Severity: "NOTICE", Code: "00000", Message: "a notice"}, func(p respondPhase, r respondRun) string {
			if fmt.Sprint(r.notices) != "[a notice]" {
				return fmt.Sprintf("notices %q, want the one", r.notices)
			}
			return respondWentOn(p, r)
		}},
		{"parameter status", &pgproto3.ParameterStatus{Name: "TimeZone", Value: "Europe/Paris"}, func(p respondPhase, r respondRun) string {
			if r.conn != nil && r.conn.ServerParam("TimeZone") != "Europe/Paris" {
				return fmt.Sprintf("TimeZone %q, want the new value", r.conn.ServerParam("TimeZone"))
			}
			return respondWentOn(p, r)
		}},
		{"notification", &pgproto3.NotificationResponse{PID: 1, Channel: "c", Payload: "p"}, respondWentOn},
		{"unexpected message", &pgproto3.CloseComplete{}, func(p respondPhase, r respondRun) string {
			var pe *wire.ProtocolError
			if !errors.As(r.err, &pe) || !strings.Contains(r.err.Error(), "unexpected") || !strings.Contains(r.err.Error(), "CloseComplete") {
				return fmt.Sprintf("error %v (%T), want a *wire.ProtocolError naming the CloseComplete", r.err, r.err)
			}
			return ""
		}},
		{"error", fakeError("ERROR", "42501", "permission denied"), func(p respondPhase, r respondRun) string {
			if msg := respondFailed(p, r, "42501"); msg != "" {
				return msg
			}
			if p.step == wire.StepExecute && fmt.Sprint(r.rows) != "[1]" {
				return fmt.Sprintf("rows %q, want the one before the error", r.rows)
			}
			return ""
		}},
		{"fatal error", fakeError("FATAL", "57P01", "terminating connection due to administrator command"), func(p respondPhase, r respondRun) string {
			return respondFailed(p, r, "57P01")
		}},
	} {
		for _, p := range respondPhases {
			t.Run(kind.name+" in "+p.name, func(t *testing.T) {
				fs := startFake(t, respondScript(p.with(kind.extra), respondEnds(p, kind.extra)))
				r := p.run(t, fs)
				if r.conn != nil {
					_ = r.conn.Close()
				}
				fs.wait()
				if msg := kind.check(p, r); msg != "" {
					t.Error(msg)
				}
			})
		}
	}
}

// respondEnds is the message after which the client of phase p sends
// nothing more but its goodbye, when extra is put in: the extra message
// itself when it ends the session or the request that QueryText stops
// at; nil when the session goes on.
func respondEnds(p respondPhase, extra pgproto3.BackendMessage) pgproto3.BackendMessage {
	switch m := extra.(type) {
	case *pgproto3.CloseComplete:
		return extra
	case *pgproto3.ErrorResponse:
		if p.request < 0 || p.text || m.Severity == "FATAL" {
			return extra
		}
	}
	return nil
}

// respondWentOn checks a session that went on to the end: every row
// handed on, the estimate told.
func respondWentOn(p respondPhase, r respondRun) string {
	switch {
	case r.err != nil:
		return fmt.Sprintf("error %v, want none", r.err)
	case fmt.Sprint(r.rows) != "[1 2]":
		return fmt.Sprintf("rows %q, want both", r.rows)
	case p.explain && r.estimate != 2:
		return fmt.Sprintf("estimate %d, want 2", r.estimate)
	}
	return ""
}

// respondFailed checks the error of a session failed with code: the
// connection refused at startup, else a *wire.QueryError of the phase's
// step.
func respondFailed(p respondPhase, r respondRun, code string) string {
	if p.request < 0 {
		if r.conn != nil || wire.SQLState(r.err) != code {
			return fmt.Sprintf("Connect: %v, want it refused with SQLSTATE %s", r.err, code)
		}
		return ""
	}
	if msg := wantQueryError(r.err, p.step, code); msg != "" {
		return fmt.Sprintf("error %v: %s", r.err, msg)
	}
	return ""
}
