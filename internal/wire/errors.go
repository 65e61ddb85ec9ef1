package wire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/units"
	"github.com/jackc/pgx/v5/pgproto3"
)

// ConfigError reports connection settings that cannot be used. It is found
// before any network activity.
type ConfigError struct {
	// Keyword is the libpq keyword at fault, if one is.
	Keyword string
	// Err says what is wrong.
	Err error
}

func (e *ConfigError) Error() string { return "invalid connection settings: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// Step names a stage of connecting, for error messages.
type Step string

// The stages of connecting.
const (
	StepDial    Step = "connect"
	StepTLS     Step = "TLS negotiation"
	StepVerify  Step = "server certificate verification"
	StepStartup Step = "startup"
	StepAuth    Step = "authentication"
	StepCheck   Step = "session check (target_session_attrs)"
)

// ConnectError reports a failure to establish a session with one server
// address, or with every address tried.
type ConnectError struct {
	// Host is the host or socket directory as configured.
	Host string
	// Addr is the address dialled (IP:port or socket path).
	Addr string
	// User is the role name used.
	User string
	// Step is the stage that failed.
	Step Step
	// Err is the cause; a *PgError when the server refused.
	Err error
	// Others holds the failures of addresses tried before this one.
	Others []*ConnectError
}

func (e *ConnectError) Error() string {
	var b strings.Builder
	for _, o := range e.Others {
		b.WriteString(o.single())
		b.WriteString("\n")
	}
	b.WriteString(e.single())
	return b.String()
}

func (e *ConnectError) single() string {
	where := "server at " + strconv.Quote(e.Host)
	if e.Addr != "" && e.Addr != e.Host {
		where += " (" + e.Addr + ")"
	}
	// A Unix socket is named by its path, as psql names it.
	if sock := socketPath(e.Host, e.Addr); sock != "" {
		where = "server on socket " + strconv.Quote(sock)
	}
	return fmt.Sprintf("connection to %s as user %q failed at %s: %v", where, e.User, e.Step, e.Err)
}

// socketPath is the path of the Unix socket a connection went to, "" for
// TCP: the address when it is a path (or an abstract name), else the host.
func socketPath(host, addr string) string {
	for _, a := range []string{addr, host} {
		if strings.HasPrefix(a, "/") || strings.HasPrefix(a, "@") {
			return a
		}
	}
	return ""
}

// Unwrap returns the cause.
func (e *ConnectError) Unwrap() error { return e.Err }

// AuthError reports that authentication could not even be attempted or was
// not trustworthy (no password available, an unsupported method, a server
// that failed to prove it knows the password).
type AuthError struct {
	// Msg says what happened.
	Msg string
	// Hint says what to do.
	Hint string
}

func (e *AuthError) Error() string { return e.Msg }

// PasswordRefusedError reports that the server, or a pooler in front of
// it, refused the password sent (28P01, or a pooler's code of its own),
// and where that password came from. Its message is the server's; the
// server's detail and hint are Err's, as it sent them.
type PasswordRefusedError struct {
	// Err is the server's error.
	Err *PgError
	// From names where the password came from, for messages:
	// "PGPASSWORD", "the connection string", "service \"prod\" in FILE",
	// "the password_command of profile prod (FILE)", "the password file
	// FILE".
	From string
}

func (e *PasswordRefusedError) Error() string { return e.Err.Error() }

// Unwrap returns the server's error.
func (e *PasswordRefusedError) Unwrap() error { return e.Err }

// QueryStep names the step of running a statement that failed, for a
// QueryError.
type QueryStep string

// The steps of running a statement, in the order a stream takes them, and
// the lookups of fraise's own.
const (
	// StepBegin is BEGIN and the SET LOCALs of the transaction, and a
	// stop before anything was sent.
	StepBegin QueryStep = "begin"
	// StepPrepare is Parse and Describe: the statement's text and its
	// parameters.
	StepPrepare QueryStep = "prepare"
	// StepDescribe is the check of the result's shape: one json or jsonb
	// column.
	StepDescribe QueryStep = "describe"
	// StepExplain is EXPLAIN's row estimate, when one was asked for.
	StepExplain QueryStep = "explain"
	// StepExecute is Bind, Execute and the rows, and a stop while they
	// come.
	StepExecute QueryStep = "execute"
	// StepRollback is the ROLLBACK that ends the transaction.
	StepRollback QueryStep = "rollback"
	// StepLookup is a lookup of fraise's own outside a statement's
	// transaction: a type's name, the session's read-only state.
	StepLookup QueryStep = "lookup"
)

// String returns the step's name as messages and logs give it.
func (s QueryStep) String() string { return string(s) }

// QueryError reports that the server rejected or aborted the statement, or
// that its result has a shape fraise does not stream.
type QueryError struct {
	// Step is where it failed: StepBegin, StepPrepare, StepDescribe,
	// StepExplain, StepExecute, StepRollback or StepLookup.
	Step QueryStep
	// Err is the cause; a *PgError when the server reported it.
	Err error
}

func (e *QueryError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *QueryError) Unwrap() error { return e.Err }

// ColumnError reports a result that is not exactly one json or jsonb column.
type ColumnError struct {
	// Columns describes the result columns as "name type".
	Columns []string
}

func (e *ColumnError) Error() string {
	if len(e.Columns) == 0 {
		return "the query returns no columns, not one json or jsonb column"
	}
	if len(e.Columns) == 1 {
		return fmt.Sprintf("column %s is not json or jsonb", e.Columns[0])
	}
	return fmt.Sprintf("the query returns %d columns (%s), not one json or jsonb column", len(e.Columns), strings.Join(e.Columns, ", "))
}

// ConnLostError reports that the connection broke: the server went away,
// the network failed, or the server sent something fraise cannot read.
type ConnLostError struct {
	// Err is the cause.
	Err error
}

func (e *ConnLostError) Error() string {
	return "lost the connection to the server: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ConnLostError) Unwrap() error { return e.Err }

// RowTooLargeError reports a row larger than the limit set with
// Statement.MaxRowSize. The connection is closed: the rest of the message
// was never read.
type RowTooLargeError struct {
	// Row is the 1-based number of the row.
	Row int64
	// Size is the row's size in bytes, as the server announced it.
	Size int64
	// Limit is the largest size accepted.
	Limit int64
}

func (e *RowTooLargeError) Error() string {
	return fmt.Sprintf("row %d is %s, more than the limit of %s", e.Row, units.BytesExact(e.Size), units.BytesExact(e.Limit))
}

// IdleTimeoutError reports that the server sent nothing for longer than
// Statement.IdleTimeout. The connection is closed.
type IdleTimeoutError struct {
	// After is the idle time allowed.
	After time.Duration
	// From names the setting the limit came from, when it is not the
	// idle timeout itself (Statement.IdleFrom).
	From string
}

func (e *IdleTimeoutError) Error() string {
	from := ""
	if e.From != "" {
		from = " (" + e.From + ")"
	}
	return fmt.Sprintf("no data from the server for %s%s; the connection may be dead or the query stalled", e.After, from)
}

// ProtocolError reports a message from the server that breaks the protocol.
type ProtocolError struct {
	// Msg says what was wrong.
	Msg string
}

func (e *ProtocolError) Error() string { return "protocol violation: " + e.Msg }

// PgError is an ErrorResponse from the server, with every field it carries.
// See "Error and Notice Message Fields" in the protocol documentation.
type PgError struct {
	Severity         string // localized severity (S)
	SeverityNonLocal string // severity in English (V)
	Code             string // SQLSTATE (C)
	Message          string // primary message (M)
	Detail           string // detail (D)
	Hint             string // hint (H)
	Position         int    // 1-based position in characters in the statement (P)
	InternalPosition int    // position in InternalQuery (p)
	InternalQuery    string // internally generated query (q)
	Where            string // context (W)
	Schema           string // schema name (s)
	Table            string // table name (t)
	Column           string // column name (c)
	DataType         string // data type name (d)
	Constraint       string // constraint name (n)
}

func (e *PgError) Error() string {
	sev := e.SeverityNonLocal
	if sev == "" {
		sev = e.Severity
	}
	return fmt.Sprintf("%s: %s (SQLSTATE %s)", sev, e.Message, e.Code)
}

// fatal reports whether the server ends the session with this error. The
// non-localized severity is missing from PgBouncer's own errors and from
// servers before 9.6; the localized one stands in for it then.
func (e *PgError) fatal() bool {
	sev := e.SeverityNonLocal
	if sev == "" {
		sev = e.Severity
	}
	return sev == "FATAL" || sev == "PANIC"
}

func pgErrorFrom(m *pgproto3.ErrorResponse) *PgError {
	return &PgError{
		Severity: m.Severity, SeverityNonLocal: m.SeverityUnlocalized, Code: m.Code,
		Message: m.Message, Detail: m.Detail, Hint: m.Hint,
		Position: int(m.Position), InternalPosition: int(m.InternalPosition),
		InternalQuery: m.InternalQuery, Where: m.Where,
		Schema: m.SchemaName, Table: m.TableName, Column: m.ColumnName,
		DataType: m.DataTypeName, Constraint: m.ConstraintName,
	}
}

// SQLState returns the SQLSTATE of the first *PgError in err's chain, or "".
func SQLState(err error) string {
	var pe *PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// ParamCountError reports a statement whose parameter placeholders ($1…)
// and given values differ in number; the server found the placeholders.
type ParamCountError struct {
	// Want is the number of placeholders, Got the number of values.
	Want, Got int
}

func (e *ParamCountError) Error() string {
	return fmt.Sprintf("the statement has %s but %s given", plural(e.Want, "parameter placeholder ($1…)", "parameter placeholders ($1…)"), plural(e.Got, "value was", "values were"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
