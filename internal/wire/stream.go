// A stream in one round trip (documentation 55.2.4 Pipelining): BEGIN and
// its settings, Parse, Describe, [EXPLAIN,] Bind, Execute, Sync and the
// final ROLLBACK are written together, and the answers are read in that
// order with the response loop: BEGIN's and ROLLBACK's as every
// transaction's are (transaction.go), the statement's by the stream's own
// exchange (stream_answers.go). The result's shape (one json or jsonb
// column) is checked when its RowDescription arrives, before any row is
// handed on; the transaction's ROLLBACK comes back after the rows, so the
// session is idle when the stream returns, without a round trip of its
// own.

package wire

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Observer is told how a stream goes, beside its rows, for a progress
// display. A nil field is not called, and asks for nothing.
type Observer struct {
	// Estimate, when set, receives the planner's estimate of the rows
	// (EXPLAIN, in the same pipeline) before the statement runs.
	Estimate func(rows int64)
	// Progress, when set, is told the rows received so far and their
	// value bytes: at the first row, every progressRows rows, and before
	// each wait for the server. Called on the goroutine that reads; the
	// stream's Result has the final counts.
	Progress func(rows, bytes int64)
}

// progressRows is how many rows pass between two calls of
// Observer.Progress: few enough calls to cost nothing per row, often
// enough for a display redrawn a few times a second.
const progressRows = 256

// phase is where the statement's answers have got to.
type phase int

const (
	phaseDescribe phase = iota // Parse and Describe: the parameters and the result's shape
	phaseExplain               // EXPLAIN's plan, when an estimate was asked for
	phaseExecute               // the statement's rows, up to the Sync's ReadyForQuery
)

// step names the phase in errors.
func (p phase) step() QueryStep {
	return [...]QueryStep{StepPrepare, StepExplain, StepExecute}[p]
}

// streamRun is one pipelined stream: what has arrived and what it means.
type streamRun struct {
	c        *Conn
	l        *life
	st       Statement
	estimate func(rows int64)        // Observer.Estimate
	progress func(rows, bytes int64) // Observer.Progress
	sink     RowSink
	keeper   ValueKeeper // sink, when it takes large values for its own
	extra    ExtraSink   // sink, with Statement.Extra
	values   [][]byte    // a row's values, with Statement.Extra

	res      Result
	phase    phase
	nParams  int // from ParameterDescription; -1 before
	fields   []pgproto3.FieldDescription
	columnOK bool   // the result is one json or jsonb column; rows may be handed on
	plan     []byte // EXPLAIN's output
	tagRows  int64  // from the statement's CommandComplete; -1 before

	beginErr, pgErr, rollbackErr *PgError
	errPhase                     phase // where pgErr arrived
	executed                     time.Time

	// flushed counts the flushes before a wait; holdFrom is when the
	// reader first found the socket empty since the last one.
	flushed  int
	holdFrom time.Time
}

// Stream runs st inside a read-only REPEATABLE READ transaction that ends
// with ROLLBACK, and hands each row to sink, once the result is known to
// be one json or jsonb column (sink.Begin is called then, before any row).
// obs is told the planner's estimate first, when it asks for it.
//
// When the run is stopped (see Stop) it stops handing on rows, asks the
// server to cancel and reads the rest of the answers, until the server
// acknowledges or for a few seconds at most, then returns an error
// wrapping the stop's cause; a cause nobody waits for is not drained: the
// cancel request is sent and the connection closed at once. A sink error
// that comes from the stop is treated the same way; any other sink error
// cancels the statement and closes the connection.
func (c *Conn) Stream(stop *Stop, st Statement, sink RowSink, obs Observer) (Result, error) {
	l := c.live(stop.Context(), st, stop.abandons)
	defer l.finish()
	c.rd.idle = st.IdleTimeout
	defer func() { c.rd.idle, c.rd.maxBody = 0, 0 }()
	if l.stopping() {
		return Result{}, l.stopped(StepBegin) // nothing sent, nothing running
	}
	res, err := c.runPipeline(l, sink, obs)
	if errors.Is(err, errClientCheckRefused) {
		// The server refused client_connection_check_interval; nothing
		// ran and the session is idle: once more without it.
		res, err = c.runPipeline(l, sink, obs)
	}
	return res, err
}

// errClientCheckRefused is runPipeline's answer when the server refused
// the SET LOCAL client_connection_check_interval of the BEGIN.
var errClientCheckRefused = errors.New("client_connection_check_interval refused")

func (c *Conn) runPipeline(l *life, sink RowSink, obs Observer) (Result, error) {
	r := &streamRun{c: c, l: l, st: l.st, estimate: obs.Estimate, progress: obs.Progress, sink: sink, nParams: -1, tagRows: -1}
	r.keeper, _ = sink.(ValueKeeper)
	if r.st.Extra > 0 {
		es, ok := sink.(ExtraSink)
		if !ok {
			return r.res, errors.New("wire: a statement with extra columns needs an ExtraSink")
		}
		r.extra = es
	}
	t := c.newTx(l)
	t.sendBegin()
	c.sendStatement(r.st, r.estimate != nil)
	t.sendRollback()
	if err := c.fe.Flush(); err != nil {
		return r.res, l.ended(StepBegin, c.lost(err))
	}
	c.rd.maxBody = r.st.MaxRowSize
	r.executed = time.Now()
	err := r.read(t)
	if err == nil && t.refusedCheck(r.beginErr) {
		return r.res, errClientCheckRefused
	}
	if err == nil {
		err = r.outcome()
	}
	return r.res, err
}

// sendStatement writes the statement's requests, unflushed: Parse and
// Describe, EXPLAIN's when explain, then Bind, Execute and Sync.
func (c *Conn) sendStatement(st Statement, explain bool) {
	c.cfg.logger().Info("prepare and execute", "sql", st.SQL, "params", len(st.Params), "explain", explain)
	params := st.bindParams()
	c.fe.SendParse(&pgproto3.Parse{Query: st.SQL})
	c.fe.SendDescribe(&pgproto3.Describe{ObjectType: 'S'})
	if explain {
		// EXPLAIN takes the unnamed statement, which is parsed again for
		// the Bind: nothing stays prepared whatever happens.
		c.fe.SendParse(&pgproto3.Parse{Query: explainPrefix + st.SQL})
		c.fe.SendBind(&pgproto3.Bind{Parameters: params})
		c.fe.SendExecute(&pgproto3.Execute{})
		c.fe.SendParse(&pgproto3.Parse{Query: st.SQL})
	}
	c.fe.SendBind(&pgproto3.Bind{Parameters: params})
	c.fe.SendExecute(&pgproto3.Execute{})
	c.fe.SendSync(&pgproto3.Sync{})
}

// read reads the answers in the order they were asked for: BEGIN's, the
// statement's up to its Sync, handing on rows as they come, and
// ROLLBACK's. Its error ends the stream at once; the answers' own outcome
// is outcome's to say.
func (r *streamRun) read(t tx) error {
	var err error
	if r.beginErr, err = t.answer(StepBegin, nil); err != nil {
		return err
	}
	if err := r.c.respond(r); err != nil {
		return err
	}
	if err := r.synced(); err != nil {
		return err
	}
	if r.rollbackErr, err = t.answer(StepRollback, r.lastError()); err != nil {
		return r.failed(err)
	}
	return nil
}

// synced takes the Sync's ReadyForQuery: the statement is over. When every
// row came, as many as its command tag says, they are flushed and the
// stream has delivered.
func (r *streamRun) synced() error {
	if r.l.stopping() || r.pgErr != nil || r.beginErr != nil || !r.columnOK {
		return nil
	}
	if r.tagRows < 0 {
		return r.c.violation(r, &ProtocolError{Msg: fmt.Sprintf("server sent %d rows but no CommandComplete", r.res.Rows)})
	}
	if r.tagRows != r.res.Rows {
		return r.c.violation(r, &ProtocolError{Msg: fmt.Sprintf("server reported %d rows but sent %d", r.tagRows, r.res.Rows)})
	}
	if err := r.sink.Flush(); err != nil {
		if r.l.stopping() {
			return nil // outcome says stopped
		}
		return r.l.sinkFailed(err)
	}
	if r.l.deliver() {
		r.c.cfg.logger().Info("rows received", "rows", r.res.Rows, "bytes", r.res.Bytes, "elapsed", time.Since(r.executed).Round(time.Microsecond))
	}
	return nil
}

// outcome is the stream's result once every answer has arrived and the
// session is idle.
func (r *streamRun) outcome() error {
	switch {
	case r.l.now() == delivered && r.rollbackErr != nil:
		return &QueryError{Step: StepRollback, Err: r.rollbackErr}
	case r.l.now() == delivered:
		r.c.cfg.logger().Info("rolled back", "reason", "read-only: nothing to keep")
		return nil
	case r.l.stopping():
		// Drained: the session is in step, and ends politely.
		return r.l.stopped(StepExecute)
	case r.beginErr != nil:
		return &QueryError{Step: StepBegin, Err: r.beginErr}
	case r.pgErr != nil && r.errPhase == phaseDescribe:
		return &QueryError{Step: StepPrepare, Err: r.pgErr}
	case r.nParams >= 0 && r.nParams != len(r.st.Params):
		return &QueryError{Step: StepPrepare, Err: &ParamCountError{Want: r.nParams, Got: len(r.st.Params)}}
	case !r.columnOK:
		// Before the statement's own errors: the shape is checked first,
		// and the statement was cancelled for it.
		_, err := r.c.checkColumns(r.fields, r.st.Extra)
		return err
	case r.pgErr != nil:
		return r.failed(&QueryError{Step: r.errPhase.step(), Err: r.pgErr})
	}
	// Unreachable: the Sync's ReadyForQuery either delivered the rows or
	// found one of the errors above.
	return &ProtocolError{Msg: "the stream ended without its rows or an error"}
}

// failed ends the stream after an error of the server or the network: the
// rows received so far are whole, and are written out first.
func (r *streamRun) failed(err error) error {
	if r.columnOK && !r.l.stopping() {
		_ = r.sink.Flush()
	}
	return err
}

// lastError is the server's error that may explain a lost connection.
func (r *streamRun) lastError() *PgError {
	if r.pgErr != nil {
		return r.pgErr
	}
	return r.beginErr
}
