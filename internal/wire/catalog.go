// Fixed statements of fraise's own with text results, for the ping and
// views commands: the extended query protocol (documentation 55.2.3, with
// Parse, Bind, Execute and Sync sent together: one round trip), inside the
// read-only transaction Stream uses.

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
// is. After any error the session cannot run another statement: close it.
func (c *Conn) QueryText(ctx context.Context, sql string, params []string, row func(values [][]byte) error) error {
	st := Statement{SQL: sql, Params: params}
	return c.inTransaction(ctx, st, func() error { return c.extended(ctx, st, row) })
}

// inTransaction runs fn inside the read-only transaction of st (BEGIN and
// its SET LOCAL settings, then ROLLBACK), with ctx watched as Stream watches
// it: once ctx is done, the server is asked to cancel and the socket is
// closed if it does not answer in time.
func (c *Conn) inTransaction(ctx context.Context, st Statement, fn func() error) error {
	w := c.watch(ctx, nil)
	defer w.done()
	if err := c.begin(ctx, st); err != nil {
		return c.ended(ctx, st, StepBegin, err)
	}
	if err := fn(); err != nil {
		return err
	}
	if err := c.rollback(ctx); err != nil {
		return c.ended(ctx, st, StepRollback, err)
	}
	return nil
}

// extended runs st with the unnamed statement and portal in one round trip
// and hands each row's values to row. Messages are read with the reader's
// framing; a DataRow is split in place, without copies.
func (c *Conn) extended(ctx context.Context, st Statement, row func(values [][]byte) error) error {
	if ctx.Err() != nil {
		// Stopped between round trips: nothing is running, nothing is sent.
		return stopped(ctx, StepExecute)
	}
	c.fe.SendParse(&pgproto3.Parse{Query: st.SQL})
	c.fe.SendBind(&pgproto3.Bind{Parameters: st.bindParams()})
	c.fe.SendExecute(&pgproto3.Execute{})
	c.fe.SendSync(&pgproto3.Sync{})
	if err := c.fe.Flush(); err != nil {
		return c.ended(ctx, st, StepExecute, c.lost(err))
	}
	step := StepPrepare
	var pgErr *PgError
	var values [][]byte
	rows, tagRows := int64(0), int64(-1)
	for {
		typ, body, err := c.rd.next()
		if err != nil {
			return c.ended(ctx, st, step, c.lostAfter(pgErr, step, err))
		}
		if typ == 'D' {
			if values, err = dataRowValues(body, values[:0]); err != nil {
				c.abort()
				return err
			}
			rows++
			if ctx.Err() != nil {
				continue // stopping: drain until the server acknowledges
			}
			if err := row(values); err != nil {
				return c.sinkFailed(err, nil)
			}
			continue
		}
		msg, err := c.rd.decode(typ, body)
		if err != nil {
			c.abort()
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.ParseComplete:
			step = StepExecute
		case *pgproto3.BindComplete, *pgproto3.EmptyQueryResponse:
		case *pgproto3.CommandComplete:
			// SELECT reports its row count; other statements (SHOW) do not.
			if n, ok := selectCount(m.CommandTag); ok {
				tagRows = n
			}
		case *pgproto3.ErrorResponse:
			pgErr = pgErrorFrom(m)
			if pgErr.fatal() {
				c.abort()
				return c.ended(ctx, st, step, &QueryError{Step: step, Err: pgErr})
			}
		case *pgproto3.ReadyForQuery:
			switch {
			case ctx.Err() != nil:
				return stopped(ctx, step)
			case pgErr != nil:
				return &QueryError{Step: step, Err: pgErr}
			case tagRows >= 0 && tagRows != rows:
				c.abort()
				return &ProtocolError{Msg: fmt.Sprintf("server reported %d rows but sent %d", tagRows, rows)}
			}
			return nil
		default:
			if err := c.background(msg); err != nil {
				return err
			}
		}
	}
}
