// The read-only transaction every statement runs in, one way for Stream,
// QueryText and Ping: a tx writes the BEGIN that opens it, with the
// statement's limits as SET LOCAL, in front of the statement's requests,
// and the ROLLBACK that ends it after them, and reads the answers to both
// with the response loop. A stream sends all three in one write, one round
// trip (stream.go); QueryText and Ping give BEGIN and ROLLBACK round trips
// of their own, which Ping does not time.

package wire

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// BeginSQL opens the transaction every statement runs in.
const BeginSQL = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

// clientCheckInterval is the session's client_connection_check_interval
// (PostgreSQL 14+): how often a backend busy computing checks that its
// client is still there, so that a client killed outright (SIGKILL, a
// crashed host) does not leave its query running.
const clientCheckInterval = time.Second

// beginSQL is the statement that opens a stream's transaction and sets its
// limits, as one simple query. SET LOCAL keeps the settings inside the
// transaction, so that they never leak into a pooled server session.
func beginSQL(st Statement, clientCheck bool) string {
	sql := BeginSQL
	if st.Snapshot != "" {
		// First: the import must come before any query of the transaction.
		sql += "; SET TRANSACTION SNAPSHOT '" + string(st.Snapshot) + "'"
	}
	if st.Timeout > 0 {
		sql += "; SET LOCAL statement_timeout = " + strconv.FormatInt(max(st.Timeout.Milliseconds(), 1), 10)
	}
	if clientCheck {
		sql += "; SET LOCAL client_connection_check_interval = " + strconv.FormatInt(clientCheckInterval.Milliseconds(), 10)
	}
	return sql
}

// serverMajor returns the major version in a server_version such as
// "15.4 (Debian 15.4-1)" or "17devel", or 0 when there is none.
func serverMajor(v string) int {
	n := 0
	for i := 0; i < len(v) && v[i] >= '0' && v[i] <= '9' && n < 1000; i++ {
		n = n*10 + int(v[i]-'0')
	}
	return n
}

// clientCheckRefusal reports whether code is a server's refusal of
// client_connection_check_interval (a platform without the check, or a
// pooler that hides an older server).
func clientCheckRefusal(code string) bool {
	return code == "22023" || code == "42704" || code == "55P02"
}

// tx is the transaction of one statement, whose life is l.
type tx struct {
	c     *Conn
	l     *life
	check bool // BEGIN sets client_connection_check_interval
}

// newTx returns st's transaction, with the client check unless the server
// is older than PostgreSQL 14 or has refused it before.
func (c *Conn) newTx(l *life) tx {
	return tx{c: c, l: l, check: !c.noClientCheck && serverMajor(c.params["server_version"]) >= 14}
}

// sendBegin writes the BEGIN that opens the transaction, unflushed.
func (t tx) sendBegin() {
	sql := beginSQL(t.l.st, t.check)
	t.c.cfg.logger().Info("begin", "sql", sql)
	t.c.fe.SendQuery(&pgproto3.Query{String: sql})
}

// sendRollback writes the ROLLBACK that ends the transaction, unflushed.
// A read-only export has nothing to keep, and ROLLBACK also undoes what
// PostgreSQL lets a READ ONLY transaction do anyway (large objects,
// pg_notify, transactional logical messages), whatever the user's --where
// called.
func (t tx) sendRollback() { t.c.fe.SendQuery(&pgproto3.Query{String: "ROLLBACK"}) }

// answer reads the answer to the BEGIN (step StepBegin) or the ROLLBACK
// (StepRollback): the server's error, the session still in step, or the
// error that ends the session. explains, when set, is an earlier error of
// the server that says better than the loss why the connection was lost.
func (t tx) answer(step QueryStep, explains *PgError) (*PgError, error) {
	q := simpleQuery{c: t.c, step: step, explains: explains}
	if err := t.c.respond(&q); err != nil {
		return nil, t.l.ended(step, err)
	}
	t.l.firstAnswer()
	return q.err, nil
}

// roundTrip sends what is written and reads n answers of step: the first
// of the server's errors among them, or the error that ends the session.
func (t tx) roundTrip(step QueryStep, n int) (*PgError, error) {
	if err := t.c.fe.Flush(); err != nil {
		return nil, t.l.ended(step, t.c.lost(err))
	}
	var first *PgError
	for range n {
		pe, err := t.answer(step, nil)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = pe
		}
	}
	return first, nil
}

// refusedCheck reports whether pe, the BEGIN's error, is the server's
// refusal of the client check. The transaction is then to begin again
// without it, as are the connection's later ones.
func (t tx) refusedCheck(pe *PgError) bool {
	if pe == nil || !t.check || !clientCheckRefusal(pe.Code) {
		return false
	}
	t.c.noClientCheck = true
	t.c.cfg.logger().Info("server refused client_connection_check_interval; beginning again without it", "sqlstate", pe.Code)
	return true
}

// inTransaction runs body inside st's transaction, its BEGIN and ROLLBACK
// each a round trip, st's life under ctx as a stream's is under its Stop:
// once ctx is done, the server is asked to cancel and the socket is closed
// if it does not answer in time.
func (c *Conn) inTransaction(ctx context.Context, st Statement, body func(l *life) error) error {
	l := c.live(ctx, st, nil)
	defer l.finish()
	if err := c.begin(l); err != nil {
		return err
	}
	if err := body(l); err != nil {
		return err
	}
	return c.rollback(l)
}

// begin opens the transaction of l's statement. A server that refuses the client check
// gets, in one round trip, the ROLLBACK of the aborted transaction and the
// BEGIN again without it.
func (c *Conn) begin(l *life) error {
	t := c.newTx(l)
	t.sendBegin()
	pe, err := t.roundTrip(StepBegin, 1)
	if err == nil && t.refusedCheck(pe) {
		t = c.newTx(l)
		t.sendRollback()
		t.sendBegin()
		pe, err = t.roundTrip(StepBegin, 2)
	}
	if err == nil && pe != nil {
		err = l.ended(StepBegin, &QueryError{Step: StepBegin, Err: pe})
	}
	return err
}

// rollback ends the transaction once its work is done.
func (c *Conn) rollback(l *life) error {
	t := c.newTx(l)
	t.sendRollback()
	pe, err := t.roundTrip(StepRollback, 1)
	if err == nil && pe != nil {
		err = l.ended(StepRollback, &QueryError{Step: StepRollback, Err: pe})
	}
	if err != nil {
		return err
	}
	c.cfg.logger().Info("rolled back", "reason", "read-only: nothing to keep")
	return nil
}

// errSessionClosed is EndTransaction's answer on a session already
// closed.
var errSessionClosed = errors.New("the session is closed")

// EndTransaction ends, with ROLLBACK, a transaction that a failed
// statement left open (QueryText's and a Snapshot's end aborted, a
// Snapshot's stays open until Release), so that the session can run
// another statement; a session in no transaction is left as it is. ctx
// bounds it as it bounds QueryText. It fails on a session that is closed,
// or that breaks.
func (c *Conn) EndTransaction(ctx context.Context) error {
	if c.closed {
		return errSessionClosed
	}
	if s := c.txStatus; s != 'T' && s != 'E' {
		return nil
	}
	l := c.live(ctx, Statement{}, nil)
	defer l.finish()
	return c.rollback(l)
}
