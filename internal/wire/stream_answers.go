// The statement's answers as a stream reads them, its exchange with the
// response loop: the waits, when the rows handed on are flushed; the rows,
// the statement's or EXPLAIN's; the result's shape, checked before any row
// is handed on; the command tag; the server's errors, and what a lost
// connection or a protocol violation means while rows arrive.

package wire

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// flushHold is how long, from the first time the socket is found empty,
// the reader keeps the lines it has handed on unflushed while it waits for
// more rows: a stream that comes in bursts (the server sends 8 KiB at a
// time) then reaches the output in full buffers, as pgx's or psql's do,
// instead of a write, and a wake-up of the writer, per burst. It bounds
// how late a line can be; the first flush never waits (| head -n 1).
const flushHold = time.Millisecond

// await is called when the next message is not buffered whole: it takes
// what the socket holds and, if that is not enough, flushes the sink
// before the reader waits for the network.
func (r *streamRun) await() error {
	ok, err := r.c.rd.fillNow()
	if err == nil && !ok && r.columnOK && !r.l.dropsRows() {
		ok, err = r.hold()
		if err == nil && !ok {
			return r.flush()
		}
	}
	if err != nil {
		return r.lost(err)
	}
	return nil
}

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
	r.told()
	if err := r.sink.Flush(); err != nil {
		return r.l.sinkError(err)
	}
	return nil
}

// row takes one DataRow: a row of the statement, or of EXPLAIN.
func (r *streamRun) row(body []byte) error {
	c := r.c
	if r.phase != phaseExplain && (r.phase != phaseExecute || !r.columnOK || r.l.dropsRows()) {
		return nil // drained: not wanted, not even looked at
	}
	var v []byte
	var err error
	if r.extra != nil && r.phase == phaseExecute {
		v, err = r.extraRow(body)
	} else {
		v, err = dataRowValue(body)
	}
	if err != nil {
		return c.violation(r, err)
	}
	if r.phase == phaseExplain {
		r.plan = append(append(r.plan, v...), '\n')
		return nil
	}
	r.res.Rows++
	r.res.Bytes += int64(len(v))
	if r.res.Rows%progressRows == 0 {
		r.told()
	} else if r.res.Rows == 1 {
		c.cfg.logger().Info("first row", "after", time.Since(r.executed).Round(time.Microsecond))
		r.told()
	}
	if r.extra != nil {
		err = r.extra.WriteRow(v, r.values[:r.st.Extra])
	} else if r.keeper != nil && len(v) >= KeepMin {
		c.rd.release()
		err = r.keeper.KeepValue(v)
	} else {
		err = r.sink.WriteValue(v)
	}
	if err != nil {
		return r.l.sinkError(err)
	}
	return nil
}

// extraRow splits a row of Statement.Extra columns and the json value,
// last, into r.values; it checks the json value as dataRowValue does.
func (r *streamRun) extraRow(body []byte) ([]byte, error) {
	var err error
	if r.values, err = dataRowValues(body, r.values[:0]); err != nil {
		return nil, err
	}
	if len(r.values) != 1+r.st.Extra {
		return nil, &ProtocolError{Msg: fmt.Sprintf("data row with %d values, expected %d", len(r.values), 1+r.st.Extra)}
	}
	v := r.values[r.st.Extra]
	if len(v) > 0 && v[len(v)-1] == 'E' {
		return nil, malformedRow("the value ends in 'E', which JSON text never does: another message (an ErrorResponse) was spliced into the row (a pooler or proxy in between may have cut it)")
	}
	return v, nil
}

// told tells the observer the counts so far, if it asks.
func (r *streamRun) told() {
	if r.progress != nil {
		r.progress(r.res.Rows, r.res.Bytes)
	}
}

// message takes the statement's own messages other than its rows.
func (r *streamRun) message(msg pgproto3.BackendMessage) (bool, error) {
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
		return true, r.described()
	case *pgproto3.NoData:
		return true, r.described()
	case *pgproto3.CommandComplete:
		return true, r.commandComplete(m)
	default:
		return false, nil
	}
	return true, nil
}

// described checks the result's shape once the Describe has answered,
// and begins the sink when it is one json or jsonb column. Otherwise the
// server, which executes the statement all the same, is asked to cancel
// it, and its rows are drained unread.
func (r *streamRun) described() error {
	r.phase = phaseExecute
	if r.estimate != nil {
		r.phase = phaseExplain
	}
	if r.nParams != len(r.st.Params) {
		return nil // Bind fails; outcome says why
	}
	if col, ok := oneJSONColumn(r.fields, r.st.Extra); ok {
		r.c.cfg.logger().Info("column checked", "name", col.Name, "type", map[uint32]string{OIDJSON: "json", OIDJSONB: "jsonb"}[col.TypeOID])
		if err := r.sink.Begin(col); err != nil {
			return r.l.sinkFailed(err)
		}
		r.columnOK = true
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	// Delivered (the server hung up the cancel connection) before
	// anything else is sent, so that it does not hit the type name
	// lookups that follow the stream; a server that signals the backend
	// only after that hang-up can still cancel one, which typeName then
	// asks again.
	err := r.c.Cancel(ctx)
	r.c.cfg.logger().Info("result is not one json or jsonb column: cancelled the statement, draining", "cancel_error", errString(err))
	return nil
}

// commandComplete ends EXPLAIN or the statement.
func (r *streamRun) commandComplete(m *pgproto3.CommandComplete) error {
	switch r.phase {
	case phaseExplain:
		n, err := planRows(r.plan)
		if err != nil {
			return r.c.violation(r, err)
		}
		r.c.cfg.logger().Info("planner estimate", "rows", n)
		r.estimate(n)
		r.phase = phaseExecute
	case phaseExecute:
		n, ok := selectCount(m.CommandTag)
		if !ok {
			return r.c.violation(r, &ProtocolError{Msg: fmt.Sprintf("unexpected command tag %q", m.CommandTag)})
		}
		r.tagRows = n
	}
	return nil
}

// serverError records the statement's first error; a FATAL one ends the
// stream at once.
func (r *streamRun) serverError(pe *PgError) error {
	if pe.fatal() {
		r.c.abort()
		step := r.phase.step()
		return r.failed(r.l.ended(step, &QueryError{Step: step, Err: pe}))
	}
	if r.pgErr == nil {
		if r.phase == phaseExplain && pe.Position > len(explainPrefix) {
			// A position in the statement, not in EXPLAIN's words (the
			// prefix is ASCII: bytes are characters).
			pe.Position -= len(explainPrefix)
		}
		r.pgErr, r.errPhase = pe, r.phase
	}
	return nil
}

// lost handles an error reading the next message.
func (r *streamRun) lost(err error) error {
	var tl *RowTooLargeError
	if errors.As(err, &tl) && !r.l.stopping() {
		tl.Row = r.res.Rows + 1
		r.c.cancelAndClose()
		return r.failed(&QueryError{Step: StepExecute, Err: tl})
	}
	step := r.phase.step()
	return r.failed(r.l.ended(step, r.c.lostAfter(r.lastError(), step, err)))
}

// broken ends the stream after a protocol violation, the rows received
// before it written out.
func (r *streamRun) broken(err error) error { return r.failed(err) }
