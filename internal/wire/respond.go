// The response loop: the server's answers to every request fraise makes
// (the startup, a simple Query, the messages up to an extended query's
// Sync) are read here, one message at a time, up to the ReadyForQuery that
// ends them (documentation 55.2 "Message Flow"). What every request
// handles the same way is handled here once: an ErrorResponse becomes a
// *PgError, a NoticeResponse goes to Config.OnNotice, a ParameterStatus
// updates the session's parameters, a NotificationResponse is dropped
// (fraise never listens), the ReadyForQuery's transaction status is kept,
// and a message that cannot be read, or that the request does not expect,
// closes the connection with a *ProtocolError. The rest is the request's
// own: its exchange.

package wire

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// An exchange is one request's part in reading its answers: the messages
// that are its own, and what a failure means to it. respond does the rest.
type exchange interface {
	// await is called when the next message is not buffered whole, before
	// the read that waits for it: a stream flushes its rows then.
	await() error
	// row takes a DataRow, undecoded; body is valid until the next
	// message.
	row(body []byte) error
	// message takes a message of the request's own kinds: any but a
	// DataRow, ErrorResponse, NoticeResponse, ParameterStatus,
	// NotificationResponse or ReadyForQuery. It reports false for one the
	// request does not expect.
	message(msg pgproto3.BackendMessage) (bool, error)
	// serverError takes an ErrorResponse. Reading goes on to the
	// ReadyForQuery unless it returns an error.
	serverError(pe *PgError) error
	// lost turns a failed read of the next message (the network, a
	// timeout, a message too long) into the request's error.
	lost(err error) error
	// broken turns a protocol violation (a *ProtocolError) into the
	// request's error; the connection is closed already.
	broken(err error) error
}

// respond reads the answers to one request, handing x what is its own,
// until the ReadyForQuery that ends them, and returns nil then. An error
// from x, or from the reading, ends it at once.
func (c *Conn) respond(x exchange) error {
	// A stream's rows are the hot path, a message each: its exchange is
	// called directly there, without an indirect call per row.
	s, _ := x.(*streamRun)
	for {
		if !c.rd.complete() {
			var err error
			if s != nil {
				err = s.await()
			} else {
				err = x.await()
			}
			if err != nil {
				return err
			}
		}
		typ, body, err := c.rd.next()
		switch {
		case err != nil:
			return x.lost(err)
		case typ == 'D' && s != nil:
			err = s.row(body)
		case typ == 'D':
			err = x.row(body)
		default:
			var ready bool
			if ready, err = c.answer(x, typ, body); ready {
				return err
			}
		}
		if err != nil {
			return err
		}
	}
}

// answer takes a message other than a DataRow: the kinds every request
// handles alike here, the others by x. It reports whether the message was
// the ReadyForQuery that ends the answers.
func (c *Conn) answer(x exchange, typ byte, body []byte) (bool, error) {
	msg, err := c.rd.decode(typ, body)
	if err != nil {
		return false, c.violation(x, err)
	}
	switch m := msg.(type) {
	case *pgproto3.ReadyForQuery:
		c.txStatus = m.TxStatus
		return true, nil
	case *pgproto3.ErrorResponse:
		return false, x.serverError(pgErrorFrom(m))
	case *pgproto3.NoticeResponse:
		c.notice((*pgproto3.ErrorResponse)(m))
	case *pgproto3.ParameterStatus:
		c.params[m.Name] = m.Value
	case *pgproto3.NotificationResponse:
	default:
		ok, err := x.message(msg)
		if err == nil && !ok {
			err = c.violation(x, &ProtocolError{Msg: fmt.Sprintf("unexpected message %T", msg)})
		}
		return false, err
	}
	return false, nil
}

// violation closes the connection after a message that breaks the
// protocol, and returns x's error for it.
func (c *Conn) violation(x exchange, err error) error {
	c.abort()
	return x.broken(err)
}

// plain gives an exchange the usual answers: nothing to do before a wait,
// and a protocol violation is the request's error as it is.
type plain struct{}

func (plain) await() error           { return nil }
func (plain) broken(err error) error { return err }
