// The statement and its rows: the types a stream is made of, the check of
// the result's shape, fixed statements of fraise's own run with the simple
// query protocol (lookups, and the transaction's BEGIN and ROLLBACK), and
// what a failure does to the connection. The stream itself, pipelined, is
// in stream.go.

package wire

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Type OIDs of the column types fraise streams (pg_type.dat).
const (
	OIDJSON  = 114
	OIDJSONB = 3802
)

// drainTimeout bounds the wait for the server to acknowledge a cancel. A
// variable for tests only.
var drainTimeout = 5 * time.Second

// unansweredDrain is drainTimeout for a statement stopped before the
// server answered anything: behind a pooler still waiting for a server
// connection, nothing has started and a cancel request is dropped, so
// the session is closed after this instead. Long enough for a server to
// answer a BEGIN under load; short enough that an interrupted wait for a
// pool slot ends within a second.
var unansweredDrain = 500 * time.Millisecond

// Statement is the one statement a stream runs, with its limits.
type Statement struct {
	// SQL is the statement text; it must return one json or jsonb column.
	SQL string
	// Params are bound, in text form, to $1…$n.
	Params []string
	// Timeout is the statement_timeout set for the transaction (SET
	// LOCAL); zero keeps the server's.
	Timeout time.Duration
	// IdleTimeout ends the stream with an *IdleTimeoutError when the
	// server sends nothing for this long, as over a half-open connection;
	// zero means no limit.
	IdleTimeout time.Duration
	// IdleFrom names the setting IdleTimeout came from, for the error;
	// "" means the idle timeout itself.
	IdleFrom string
	// MaxRowSize refuses a row longer than this many bytes with a
	// *RowTooLargeError before reading it; zero means 1 GB, the most a
	// server can send.
	MaxRowSize int64
	// Extra is the number of columns the statement returns before its
	// json or jsonb column, which is last (a resumable run's key,
	// --resume): they are handed to the sink as text, and the sink must
	// then be an ExtraSink.
	Extra int
	// Snapshot, when set, is a snapshot exported by another session
	// (Conn.ExportSnapshot), imported as the transaction's first
	// statement: the statement sees exactly what that session sees. An
	// import the server refuses fails the statement at StepBegin.
	Snapshot SnapshotID
}

// bindParams returns the parameters as a Bind sends them: text, one copy.
func (st Statement) bindParams() [][]byte {
	params := make([][]byte, len(st.Params))
	for i, p := range st.Params {
		params[i] = []byte(p)
	}
	return params
}

// Column describes the streamed column.
type Column struct {
	// Name is the column name the server reports.
	Name string
	// TypeOID is OIDJSON or OIDJSONB (a domain arrives as its base type).
	TypeOID uint32
}

// KeepsInputText reports whether values are the text as it was stored
// (json), which may hold raw newlines between tokens; jsonb values are
// normalized and never do.
func (c Column) KeepsInputText() bool { return c.TypeOID == OIDJSON }

// RowSink receives a stream's rows.
type RowSink interface {
	// Begin is called once, after the column check and before any row.
	Begin(col Column) error
	// WriteValue receives one row's value; nil means SQL NULL. The slice
	// is valid only during the call. Should the call fail once the
	// stream's context is done, the stream never reuses the slice's
	// memory: a sink whose writer is stuck on the value may keep it.
	WriteValue(value []byte) error
	// Flush is called whenever no more data is waiting on the network, so
	// that a slow stream still reaches its reader promptly, at the end, and
	// before an error that ends the stream, so that the rows received are
	// written out whole.
	Flush() error
}

// ExtraSink is a RowSink that takes rows with extra columns
// (Statement.Extra): each row's value and the extra columns' text (nil
// for NULL), valid only during the call, in place of WriteValue.
type ExtraSink interface {
	RowSink
	WriteRow(value []byte, extra [][]byte) error
}

// KeepMin is the size from which a value goes to a ValueKeeper's
// KeepValue rather than WriteValue.
const KeepMin = 1 << 20

// ValueKeeper is a RowSink that can take a large value's memory for its
// own, so that a sink which holds rows for later need not copy them.
type ValueKeeper interface {
	RowSink
	// KeepValue receives one row's value of at least KeepMin bytes, as
	// WriteValue does, but the slice is the sink's: the stream reads on
	// into other memory and never touches it again.
	KeepValue(value []byte) error
}

// Result summarizes a finished stream.
type Result struct {
	// Rows is the number of rows received.
	Rows int64
	// Bytes is the number of value bytes received.
	Bytes int64
}

// oneJSONColumn returns the column when fields are one json or jsonb
// column (a domain over them arrives as its base type), after extra
// columns of any type.
func oneJSONColumn(fields []pgproto3.FieldDescription, extra int) (Column, bool) {
	if len(fields) == 1+extra && (fields[extra].DataTypeOID == OIDJSON || fields[extra].DataTypeOID == OIDJSONB) {
		return Column{Name: string(fields[extra].Name), TypeOID: fields[extra].DataTypeOID}, true
	}
	return Column{}, false
}

// checkColumns is oneJSONColumn with, when fields are not one json or
// jsonb column, a *ColumnError naming their types as the server does.
func (c *Conn) checkColumns(fields []pgproto3.FieldDescription, extra int) (Column, error) {
	if col, ok := oneJSONColumn(fields, extra); ok {
		return col, nil
	}
	ce := &ColumnError{}
	for _, f := range fields {
		ce.Columns = append(ce.Columns, strconv.Quote(string(f.Name))+" of type "+c.typeName(f.DataTypeOID))
	}
	return Column{}, &QueryError{Step: StepDescribe, Err: ce}
}

// typeName asks the server for the SQL name of a type, falling back to its
// OID. The statement before it was cancelled, and the server hung up the
// cancel connection before the lookup was sent; but a server may signal
// the backend after that hang-up (seen with PostgreSQL 18), and the
// signal then cancels the lookup instead. A cancel request stops one
// query at most: the lookup cancelled is asked once more.
func (c *Conn) typeName(oid uint32) string {
	sql := "SELECT format_type(" + strconv.FormatUint(uint64(oid), 10) + ", NULL)"
	name, err := c.lookup(sql)
	if isCanceled(err) {
		name, err = c.lookup(sql)
	}
	if err != nil || name == "" {
		return "oid " + strconv.FormatUint(uint64(oid), 10)
	}
	return name
}

// isCanceled reports whether err is the server's query_canceled (57014).
func isCanceled(err error) bool {
	var pe *PgError
	return errors.As(err, &pe) && pe.Code == "57014"
}

// lookup runs a fixed statement of fraise's own with the simple query
// protocol, outside a statement's transaction, and returns the first
// column of its first row.
func (c *Conn) lookup(sql string) (string, error) {
	c.fe.SendQuery(&pgproto3.Query{String: sql})
	if err := c.fe.Flush(); err != nil {
		return "", c.lost(err)
	}
	q := simpleQuery{c: c, step: StepLookup}
	if err := c.respond(&q); err != nil {
		return "", err
	}
	if q.err != nil {
		return "", &QueryError{Step: StepLookup, Err: q.err}
	}
	return q.first, nil
}

// simpleQuery is the exchange of a simple Query of fraise's own (a lookup,
// BEGIN, ROLLBACK): the first value of its first row, and the server's
// error.
type simpleQuery struct {
	plain
	c    *Conn
	step QueryStep
	// explains, when set, is an earlier error of the server that says
	// better than the loss itself why the connection was lost.
	explains *PgError
	err      *PgError
	first    string
	got      bool
	values   [][]byte
}

func (q *simpleQuery) row(body []byte) error {
	v, err := dataRowValues(body, q.values[:0])
	if err != nil {
		return q.c.violation(q, err)
	}
	if q.values = v; !q.got && len(v) > 0 {
		q.first, q.got = string(v[0]), true
	}
	return nil
}

func (q *simpleQuery) message(msg pgproto3.BackendMessage) (bool, error) {
	switch msg.(type) {
	case *pgproto3.RowDescription, *pgproto3.CommandComplete, *pgproto3.EmptyQueryResponse:
		return true, nil
	}
	return false, nil
}

// serverError keeps the server's error for the caller; a FATAL one ends
// the session, and the exchange, at once.
func (q *simpleQuery) serverError(pe *PgError) error {
	if pe.fatal() {
		q.c.abort()
		return &QueryError{Step: q.step, Err: pe}
	}
	q.err = pe
	return nil
}

func (q *simpleQuery) lost(err error) error {
	pe := q.explains
	if pe == nil {
		pe = q.err
	}
	return q.c.lostAfter(pe, q.step, err)
}

// lostAfter is lost, except that an error the server sent before hanging
// up (a FATAL such as 57P01 admin shutdown) is what the user needs to see.
func (c *Conn) lostAfter(pgErr *PgError, step QueryStep, err error) error {
	if pgErr != nil {
		c.abort()
		return &QueryError{Step: step, Err: pgErr}
	}
	return c.lost(err)
}

func (c *Conn) lost(err error) error {
	if c.rd.idle > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		// An idle timeout: the caller sends a cancel first, then closes.
		return &ConnLostError{Err: err}
	}
	c.abort()
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return err
	}
	return &ConnLostError{Err: err}
}

// selectCount parses "SELECT n".
func selectCount(tag []byte) (int64, bool) {
	s, ok := strings.CutPrefix(string(tag), "SELECT ")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
