// A stream in one round trip (documentation 55.2.4 Pipelining): BEGIN and
// its settings, Parse, Describe, [EXPLAIN,] Bind, Execute, Sync and the
// final ROLLBACK are written together, and the answers are read in that
// order. The result's shape (one json or jsonb column) is checked when its
// RowDescription arrives, before any row is handed on; the transaction's
// ROLLBACK comes back after the rows, so the session is idle when the
// stream returns, without a round trip of its own.

package wire

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// phase is where a pipelined stream's answers have got to.
type phase int

const (
	phaseBegin    phase = iota // BEGIN and its SET LOCALs, up to their ReadyForQuery
	phaseDescribe              // Parse and Describe: the parameters and the result's shape
	phaseExplain               // EXPLAIN's plan, when an estimate was asked for
	phaseExecute               // the statement's rows, up to the Sync's ReadyForQuery
	phaseRollback              // the ROLLBACK, up to its ReadyForQuery
	phaseDone
)

// step names the phase in errors (QueryError.Step).
func (p phase) step() QueryStep {
	return [...]QueryStep{StepBegin, StepPrepare, StepExplain, StepExecute, StepRollback, StepRollback}[p]
}

// streamRun is one pipelined stream: what has arrived and what it means.
type streamRun struct {
	c      *Conn
	ctx    context.Context
	st     Statement
	sink   RowSink
	keeper ValueKeeper // sink, when it takes large values for its own
	w      *stopWatch

	res      Result
	phase    phase
	nParams  int // from ParameterDescription; -1 before
	fields   []pgproto3.FieldDescription
	columnOK bool // the result is one json or jsonb column; rows may be handed on
	// delivered is set once every row has been handed on and flushed:
	// the stream has succeeded, whatever comes before its ROLLBACK's
	// answer (a late stop included).
	delivered bool
	plan      []byte // EXPLAIN's output
	tagRows   int64  // from the statement's CommandComplete; -1 before

	beginErr, pgErr, rollbackErr *PgError
	errPhase                     phase // where pgErr arrived
	detached                     bool  // the reader drains into a buffer of its own
	executed                     time.Time

	// flushed counts the flushes before a wait; holdFrom is when the
	// reader first found the socket empty since the last one.
	flushed  int
	holdFrom time.Time
}

// Stream runs st inside a read-only REPEATABLE READ transaction that ends
// with ROLLBACK, and hands each row to sink, once the result is known to
// be one json or jsonb column (sink.Begin is called then, before any row).
//
// When ctx is done it stops handing on rows, asks the server to cancel and
// reads the rest of the answers, until the server acknowledges or for a
// few seconds at most, then returns an error wrapping ctx's cause; a cause
// that st.Abandon accepts is not drained: the cancel request is sent and
// the connection closed at once. A sink error that comes from the context
// being done is treated the same way; any other sink error cancels the
// statement and closes the connection.
func (c *Conn) Stream(ctx context.Context, st Statement, sink RowSink) (Result, error) {
	w := c.watch(ctx, st.Abandon)
	defer w.done()
	c.rd.idle = st.IdleTimeout
	defer func() { c.rd.idle, c.rd.maxBody = 0, 0 }()
	if ctx.Err() != nil {
		return Result{}, stopped(ctx, StepBegin) // nothing sent, nothing running
	}
	res, err := c.runPipeline(ctx, w, st, sink)
	if errors.Is(err, errClientCheckRefused) {
		// The server refused client_connection_check_interval; nothing
		// ran and the session is idle: once more without it.
		c.noClientCheck = true
		c.cfg.logger().Info("server refused client_connection_check_interval; beginning again without it")
		res, err = c.runPipeline(ctx, w, st, sink)
	}
	return res, err
}

// errClientCheckRefused is runPipeline's answer when the server refused
// the SET LOCAL client_connection_check_interval of the BEGIN.
var errClientCheckRefused = errors.New("client_connection_check_interval refused")

func (c *Conn) runPipeline(ctx context.Context, w *stopWatch, st Statement, sink RowSink) (Result, error) {
	r := &streamRun{c: c, ctx: ctx, st: st, sink: sink, w: w, nParams: -1, tagRows: -1}
	r.keeper, _ = sink.(ValueKeeper)
	check := !c.noClientCheck && serverMajor(c.params["server_version"]) >= 14
	log := c.cfg.logger()
	log.Info("begin", "sql", beginSQL(st, check))
	log.Info("prepare and execute", "sql", st.SQL, "params", len(st.Params), "explain", st.OnEstimate != nil)
	c.sendPipeline(st, check)
	if err := c.fe.Flush(); err != nil {
		return r.res, c.ended(ctx, st, StepBegin, c.lost(err))
	}
	c.rd.maxBody = st.MaxRowSize
	r.executed = time.Now()
	err := r.read()
	if err == nil && r.beginErr != nil && check && clientCheckRefusal(r.beginErr.Code) {
		return r.res, errClientCheckRefused
	}
	if err == nil {
		err = r.outcome()
	}
	return r.res, err
}

// sendPipeline writes the whole stream's requests, unflushed.
func (c *Conn) sendPipeline(st Statement, clientCheck bool) {
	params := st.bindParams()
	c.fe.SendQuery(&pgproto3.Query{String: beginSQL(st, clientCheck)})
	c.fe.SendParse(&pgproto3.Parse{Query: st.SQL})
	c.fe.SendDescribe(&pgproto3.Describe{ObjectType: 'S'})
	if st.OnEstimate != nil {
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
	c.fe.SendQuery(&pgproto3.Query{String: "ROLLBACK"})
}

// clientCheckRefusal reports whether code is a server's refusal of
// client_connection_check_interval (a platform without the check, or a
// pooler that hides an older server).
func clientCheckRefusal(code string) bool {
	return code == "22023" || code == "42704" || code == "55P02"
}

// read reads the answers until the ROLLBACK's ReadyForQuery, handing on
// rows as they come and flushing the sink before each wait for the
// network. Its error ends the stream at once; the answers' own outcome is
// outcome's to say.
func (r *streamRun) read() error {
	c := r.c
	for r.phase != phaseDone {
		if !c.rd.complete() {
			// The next message needs a read: take what the socket holds,
			// and if that is not enough, flush the output before waiting.
			ok, err := c.rd.fillNow()
			if err == nil && !ok && !r.w.stopping.Load() && r.columnOK {
				ok, err = r.hold()
				if err == nil && !ok {
					if err := r.flush(); err != nil {
						return err
					}
				}
			}
			if err != nil {
				return r.readFailed(err)
			}
		}
		typ, body, err := c.rd.next()
		if err != nil {
			return r.readFailed(err)
		}
		if typ == 'D' {
			if err := r.dataRow(body); err != nil {
				return err
			}
			continue
		}
		msg, err := c.rd.decode(typ, body)
		if err != nil {
			c.abort()
			return r.failed(err)
		}
		if err := r.handle(msg); err != nil {
			return err
		}
	}
	return nil
}

// flushHold is how long, from the first time the socket is found empty,
// the reader keeps the lines it has handed on unflushed while it waits for
// more rows: a stream that comes in bursts (the server sends 8 KiB at a
// time) then reaches the output in full buffers, as pgx's or psql's do,
// instead of a write, and a wake-up of the writer, per burst. It bounds
// how late a line can be; the first flush never waits (| head -n 1).
const flushHold = time.Millisecond

// hold is called when the socket is empty: after the sink's first flush,
// it waits for more rows for what is left of flushHold. It returns whether
// a whole message is now buffered; false means the sink is to be flushed.
func (r *streamRun) hold() (bool, error) {
	if r.flushed == 0 {
		return false, nil
	}
	now := time.Now()
	if r.holdFrom.IsZero() {
		r.holdFrom = now
	}
	left := flushHold - now.Sub(r.holdFrom)
	if left <= 0 {
		return false, nil
	}
	return r.c.rd.fillWithin(left)
}

// flush flushes the sink before the reader waits for the network.
func (r *streamRun) flush() error {
	r.flushed++
	r.holdFrom = time.Time{}
	if err := r.sink.Flush(); err != nil {
		return r.sinkErr(err)
	}
	return nil
}

// dataRow takes one DataRow: a row of the statement, or of EXPLAIN.
func (r *streamRun) dataRow(body []byte) error {
	c := r.c
	if r.phase != phaseExplain && (r.phase != phaseExecute || !r.columnOK || r.w.stopping.Load()) {
		return nil // drained: not wanted, not even looked at
	}
	v, err := dataRowValue(body)
	if err != nil {
		c.abort()
		return r.failed(err)
	}
	if r.phase == phaseExplain {
		r.plan = append(append(r.plan, v...), '\n')
		return nil
	}
	r.res.Rows++
	r.res.Bytes += int64(len(v))
	if r.res.Rows == 1 {
		c.cfg.logger().Info("first row", "after", time.Since(r.executed).Round(time.Microsecond))
	}
	if r.keeper != nil && len(v) >= KeepMin {
		c.rd.release()
		err = r.keeper.KeepValue(v)
	} else {
		err = r.sink.WriteValue(v)
	}
	if err != nil {
		return r.sinkErr(err)
	}
	return nil
}

// handle takes one message other than a DataRow.
func (r *streamRun) handle(msg pgproto3.BackendMessage) error {
	c := r.c
	switch m := msg.(type) {
	case *pgproto3.ParseComplete, *pgproto3.BindComplete, *pgproto3.EmptyQueryResponse:
	case *pgproto3.ParameterDescription:
		r.nParams = len(m.ParameterOIDs)
	case *pgproto3.RowDescription:
		r.fields = make([]pgproto3.FieldDescription, len(m.Fields))
		for i, f := range m.Fields {
			r.fields[i] = f
			r.fields[i].Name = append([]byte(nil), f.Name...)
		}
		return r.described()
	case *pgproto3.NoData:
		return r.described()
	case *pgproto3.CommandComplete:
		return r.commandComplete(m)
	case *pgproto3.ErrorResponse:
		return r.errorResponse(pgErrorFrom(m))
	case *pgproto3.ReadyForQuery:
		return r.ready()
	default:
		if err := c.background(msg); err != nil {
			return r.failed(err)
		}
	}
	return nil
}

// described checks the result's shape once the Describe has answered,
// and begins the sink when it is one json or jsonb column. Otherwise the
// server, which executes the statement all the same, is asked to cancel
// it, and its rows are drained unread.
func (r *streamRun) described() error {
	r.phase = phaseExecute
	if r.st.OnEstimate != nil {
		r.phase = phaseExplain
	}
	if r.nParams != len(r.st.Params) {
		return nil // Bind fails; outcome says why
	}
	if col, ok := oneJSONColumn(r.fields); ok {
		r.c.cfg.logger().Info("column checked", "name", col.Name, "type", map[uint32]string{OIDJSON: "json", OIDJSONB: "jsonb"}[col.TypeOID])
		if err := r.sink.Begin(col); err != nil {
			return r.c.sinkFailed(err, r.st.Abandon)
		}
		r.columnOK = true
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// Delivered before anything else is sent: it cannot hit the type
	// name lookups that follow the stream.
	err := r.c.Cancel(ctx)
	r.c.cfg.logger().Info("result is not one json or jsonb column: cancelled the statement, draining", "cancel_error", errString(err))
	return nil
}

// commandComplete ends BEGIN's statements, EXPLAIN or the statement.
func (r *streamRun) commandComplete(m *pgproto3.CommandComplete) error {
	switch r.phase {
	case phaseExplain:
		n, err := planRows(r.plan)
		if err != nil {
			r.c.abort()
			return r.failed(err)
		}
		r.c.cfg.logger().Info("planner estimate", "rows", n)
		r.st.OnEstimate(n)
		r.phase = phaseExecute
	case phaseExecute:
		n, ok := selectCount(m.CommandTag)
		if !ok {
			r.c.abort()
			return r.failed(&ProtocolError{Msg: fmt.Sprintf("unexpected command tag %q", m.CommandTag)})
		}
		r.tagRows = n
	}
	return nil
}

// errorResponse records an error; a FATAL one ends the stream at once.
func (r *streamRun) errorResponse(pe *PgError) error {
	if pe.fatal() {
		r.c.abort()
		return r.failed(r.c.ended(r.ctx, r.st, r.phase.step(), &QueryError{Step: r.phase.step(), Err: pe}))
	}
	switch {
	case r.phase == phaseBegin:
		r.beginErr = pe
	case r.phase == phaseRollback:
		r.rollbackErr = pe
	case r.pgErr == nil:
		if r.phase == phaseExplain && pe.Position > len(explainPrefix) {
			// A position in the statement, not in EXPLAIN's words (the
			// prefix is ASCII: bytes are characters).
			pe.Position -= len(explainPrefix)
		}
		r.pgErr, r.errPhase = pe, r.phase
	}
	return nil
}

// ready takes a ReadyForQuery: BEGIN's, the Sync's or the ROLLBACK's.
func (r *streamRun) ready() error {
	switch r.phase {
	case phaseBegin:
		r.phase = phaseDescribe
		return nil
	case phaseRollback:
		r.phase = phaseDone
		return nil
	}
	// The Sync's: the statement is over.
	r.phase = phaseRollback
	if r.ctx.Err() != nil || r.pgErr != nil || r.beginErr != nil || !r.columnOK {
		return nil
	}
	if r.tagRows < 0 {
		r.c.abort()
		return r.failed(&ProtocolError{Msg: fmt.Sprintf("server sent %d rows but no CommandComplete", r.res.Rows)})
	}
	if r.tagRows != r.res.Rows {
		r.c.abort()
		return r.failed(&ProtocolError{Msg: fmt.Sprintf("server reported %d rows but sent %d", r.tagRows, r.res.Rows)})
	}
	if err := r.sink.Flush(); err != nil {
		if r.ctx.Err() != nil {
			return nil // outcome says stopped
		}
		return r.c.sinkFailed(err, r.st.Abandon)
	}
	r.c.cfg.logger().Info("rows received", "rows", r.res.Rows, "bytes", r.res.Bytes, "elapsed", time.Since(r.executed).Round(time.Microsecond))
	r.delivered = true
	return nil
}

// outcome is the stream's result once every answer has arrived and the
// session is idle.
func (r *streamRun) outcome() error {
	switch {
	case r.delivered && r.rollbackErr != nil:
		return &QueryError{Step: StepRollback, Err: r.rollbackErr}
	case r.delivered:
		r.c.cfg.logger().Info("rolled back", "reason", "read-only: nothing to keep")
		return nil
	case r.ctx.Err() != nil:
		// Drained: the session is in step, and ends politely.
		return stopped(r.ctx, StepExecute)
	case r.beginErr != nil:
		return &QueryError{Step: StepBegin, Err: r.beginErr}
	case r.pgErr != nil && r.errPhase == phaseDescribe:
		return &QueryError{Step: StepPrepare, Err: r.pgErr}
	case r.nParams >= 0 && r.nParams != len(r.st.Params):
		return &QueryError{Step: StepPrepare, Err: &ParamCountError{Want: r.nParams, Got: len(r.st.Params)}}
	case !r.columnOK:
		// Before the statement's own errors: the shape is checked first,
		// and the statement was cancelled for it.
		_, err := r.c.checkColumns(r.ctx, r.fields)
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
	if r.ctx.Err() == nil && r.columnOK {
		_ = r.sink.Flush()
	}
	return err
}

// readFailed handles an error reading the next message.
func (r *streamRun) readFailed(err error) error {
	var tl *RowTooLargeError
	if errors.As(err, &tl) && r.ctx.Err() == nil {
		tl.Row = r.res.Rows + 1
		r.c.cancelAndClose()
		return r.failed(&QueryError{Step: StepExecute, Err: tl})
	}
	return r.failed(r.c.ended(r.ctx, r.st, r.phase.step(), r.c.lostAfter(r.lastError(), r.phase.step(), err)))
}

// lastError is the server's error that may explain a lost connection.
func (r *streamRun) lastError() *PgError {
	switch {
	case r.pgErr != nil:
		return r.pgErr
	case r.beginErr != nil:
		return r.beginErr
	}
	return r.rollbackErr
}

// sinkErr decides what a sink error means: nothing more to write because
// ctx is done (keep draining), or a failed destination.
func (r *streamRun) sinkErr(err error) error {
	if r.ctx.Err() != nil {
		if !r.detached {
			// The sink may still be writing the last value from the read
			// buffer: drain into a buffer of its own.
			r.c.rd.detach()
			r.detached = true
		}
		return nil
	}
	return r.c.sinkFailed(err, r.st.Abandon)
}
