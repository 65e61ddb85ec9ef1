// Fixed statements of fraise's own with text results, for the ping and
// views commands: the extended query protocol (documentation 55.2.3, with
// Parse, Bind, Execute and Sync sent together: one round trip), inside the
// read-only transaction every statement runs in (transaction.go).

package wire

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// QueryText runs sql, a fixed statement of fraise's own (never text from
// the user), with params bound in text form to $1…$n, inside a READ ONLY
// REPEATABLE READ transaction, and calls row with each result row's values
// in text form, nil for SQL NULL. The values, and the slice holding them,
// alias the connection's read buffer and are valid only during the call:
// copy what is kept.
//
// Errors are Stream's: a *QueryError holding the server's *PgError when the
// statement is rejected (StepPrepare for Parse, StepExecute after it), a
// *ConnLostError when the connection breaks, and, when ctx is done, a
// *QueryError wrapping ctx's cause once the server has been asked to
// cancel and has acknowledged (or a few seconds have passed). An error from
// row cancels the statement, closes the connection and is returned as it
// is. After an error the session runs another statement only once
// EndTransaction has ended the failed one's transaction; else close it.
func (c *Conn) QueryText(ctx context.Context, sql string, params []string, row func(values [][]byte) error) error {
	st := Statement{SQL: sql, Params: params}
	return c.inTransaction(ctx, st, func(l *life) error { return c.extended(l, row) })
}

// extended runs l's statement with the unnamed statement and portal in
// one round trip and hands each row's values to row.
func (c *Conn) extended(l *life, row func(values [][]byte) error) error {
	if l.stopping() {
		// Stopped between round trips: nothing is running, nothing is sent.
		return l.stopped(StepExecute)
	}
	st := l.st
	c.fe.SendParse(&pgproto3.Parse{Query: st.SQL})
	c.fe.SendBind(&pgproto3.Bind{Parameters: st.bindParams()})
	c.fe.SendExecute(&pgproto3.Execute{})
	c.fe.SendSync(&pgproto3.Sync{})
	if err := c.fe.Flush(); err != nil {
		return l.ended(StepExecute, c.lost(err))
	}
	q := textQuery{c: c, l: l, fn: row, step: StepPrepare, tagRows: -1}
	if err := c.respond(&q); err != nil {
		return err
	}
	return q.outcome()
}

// textQuery is the exchange of an extended query with text results: each
// row's values, split in place without copies, go to fn.
type textQuery struct {
	plain
	c      *Conn
	l      *life
	fn     func(values [][]byte) error
	step   QueryStep // StepPrepare until ParseComplete, then StepExecute
	err    *PgError
	values [][]byte
	rows   int64
	// tagRows is the row count of the CommandComplete; -1 before, or for
	// a statement that reports none (SHOW).
	tagRows int64
}

func (q *textQuery) row(body []byte) error {
	var err error
	if q.values, err = dataRowValues(body, q.values[:0]); err != nil {
		return q.c.violation(q, err)
	}
	q.rows++
	if q.l.stopping() {
		return nil // stopping: drain until the server acknowledges
	}
	if err := q.fn(q.values); err != nil {
		return q.l.sinkFailed(err)
	}
	return nil
}

func (q *textQuery) message(msg pgproto3.BackendMessage) (bool, error) {
	switch m := msg.(type) {
	case *pgproto3.ParseComplete:
		q.step = StepExecute
	case *pgproto3.BindComplete, *pgproto3.EmptyQueryResponse:
	case *pgproto3.CommandComplete:
		if n, ok := selectCount(m.CommandTag); ok {
			q.tagRows = n
		}
	default:
		return false, nil
	}
	return true, nil
}

// serverError keeps the server's error; a FATAL one ends the session, and
// the query, at once.
func (q *textQuery) serverError(pe *PgError) error {
	q.err = pe
	if pe.fatal() {
		q.c.abort()
		return q.l.ended(q.step, &QueryError{Step: q.step, Err: pe})
	}
	return nil
}

func (q *textQuery) lost(err error) error {
	return q.l.ended(q.step, q.c.lostAfter(q.err, q.step, err))
}

// outcome is the query's result once its ReadyForQuery has arrived.
func (q *textQuery) outcome() error {
	switch {
	case q.l.stopping():
		return q.l.stopped(q.step)
	case q.err != nil:
		return &QueryError{Step: q.step, Err: q.err}
	case q.tagRows >= 0 && q.tagRows != q.rows:
		q.c.abort()
		return &ProtocolError{Msg: fmt.Sprintf("server reported %d rows but sent %d", q.tagRows, q.rows)}
	}
	return nil
}
