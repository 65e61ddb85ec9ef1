package cli

import (
	"context"
	"errors"
	"slices"
	"strings"
	"syscall"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// errClass is one kind of error fraise tells apart: how to recognise it,
// the exit code it ends the run with, and the advice printed after it
// ("hint: …"). A class may decide only one of the two and leave the other
// to a later class in errClasses.
type errClass struct {
	// name says what the class is, for tests.
	name string
	// match reports whether err is of the class: a typed error in its
	// chain, with any condition on it.
	match func(err error) bool
	// exit is the exit code; the zero value leaves it to a later class.
	exit exits
	// advice says what to do next, "" when the message says it already;
	// nil leaves the advice to a later class.
	advice func(err error) string
}

// exits is a class's exit code, when the class decides it.
type exits struct {
	code int
	set  bool
}

// exitWith is the exit code of a class that decides it.
func exitWith(code int) exits { return exits{code: code, set: true} }

// errClasses are the kinds of error fraise tells apart, in order of
// precedence: an error's exit code is that of the first class it matches
// that has one, and its advice that of the first it matches that has
// advice. Adding a class is adding a line here (or an SQLSTATE to
// sqlStateAdvices), and a case to errCases in errclass_test.go; new advice
// gets a sample in docs/troubleshooting.md, and a new exit code its
// constant in exit.go and its line in ExitStatuses (the tests say so).
var errClasses = []errClass{
	// A signal ends the run whatever error it caused on the way out (a
	// cancelled query, a closed output), so its code comes first. It
	// gives no advice: interruptedError says what it stopped.
	{name: "SIGTERM", match: signalled(syscall.SIGTERM), exit: exitWith(ExitSIGTERM)},
	{name: "SIGHUP", match: signalled(syscall.SIGHUP), exit: exitWith(ExitSIGHUP)},
	{name: "other signal", match: is[*signalError], exit: exitWith(ExitSIGINT)},

	// A reader that went away (| head) is a normal end, not an output
	// that failed.
	{name: "reader gone", match: allOf(is[*output.WriteError], output.IsBrokenPipe), exit: exitWith(ExitOK)},
	// An output that failed decides the code before anything a row did
	// (exit 6, not 5): what a script must learn is that the output is
	// incomplete. The advice, below, comes after jq's, which names the
	// row's own fault.
	{name: "output (exit code)", match: is[*output.WriteError], exit: exitWith(ExitOutput)},

	// --resume: a manifest that does not fit the command, before any
	// connection; a key that cannot carry a resumed run, from a row.
	{name: "resume refused", match: is[*output.ResumeError], exit: exitWith(ExitUsage)},
	{name: "resume key", match: is[*resumeKeyError], exit: exitWith(ExitQuery),
		advice: says("--resume continues after the last key written, so the --order-by key must be unique and never NULL: order by a primary key, or end the list with one (--order-by 'created_at, id')")},

	// What the wire refused inside a QueryError (exit 4, below) says
	// more than the query's SQLSTATE.
	{name: "parameter count", match: is[*wire.ParamCountError],
		advice: says("give one --param per placeholder, in order: the first binds $1")},
	{name: "row too large", match: is[*wire.RowTooLargeError],
		advice: says("raise --max-row-size (default " + defaultMaxRowSize + ") if such rows are wanted, or leave them out with --where; fraise holds one whole row in memory")},
	{name: "idle timeout from a setting", match: isWith(func(e *wire.IdleTimeoutError) bool { return e.From != "" }),
		advice: says("the server did not end the statement at its timeout and sent nothing since: the connection may be half-open or the server stuck; check pg_stat_activity, or set --idle-timeout")},
	{name: "idle timeout", match: is[*wire.IdleTimeoutError],
		advice: says("the connection may be half-open, or the query may wait on a lock or compute long before its first row; check pg_stat_activity, or raise --idle-timeout")},

	// jq. A row it failed on decides the code before the query the row
	// came in (a sink's error is returned inside a QueryError); a row too
	// deep to decode has advice of its own, before that of any row error.
	{name: "jq row too deep", match: allOf(is[*filter.RowError], is[*filter.DepthError]), exit: exitWith(ExitFilter),
		advice: says("such rows stream without --jq (as the server sends them); leave them out with --where, or drop them with --on-jq-error skip")},
	{name: "jq row", match: is[*filter.RowError], exit: exitWith(ExitFilter),
		advice: says("the --jq expression failed on this row; guard it (select(...), try, ?, //) or skip such rows with --on-jq-error skip")},
	{name: "jq compile", match: is[*filter.CompileError], exit: exitWith(ExitUsage),
		advice: says("--jq takes a jq expression (fraise runs gojq, which follows jq 1.7); quote it for the shell with single quotes")},

	// Found before connecting: a usage error decides the code over
	// whatever it wraps, which got no further.
	{name: "usage", match: is[*usageError], exit: exitWith(ExitUsage)},
	{name: "identifier", match: is[*query.IdentError], exit: exitWith(ExitUsage)},
	{name: "fragment", match: is[*query.FragmentError], exit: exitWith(ExitUsage)},
	{name: "connection settings", match: is[*wire.ConfigError], exit: exitWith(ExitUsage)},
	{name: "connection keyword mistyped", match: func(err error) bool { return keywordSuggestion(err) != "" }, advice: keywordSuggestion},

	// Advice fraise knows better than the server's SQLSTATE.
	{name: "parallel: no room", match: isWith(func(e *parallelError) bool { return e.connection }), exit: exitWith(ExitConnection)},
	{name: "parallel", match: isWith(func(e *parallelError) bool { return e.hint != "" }),
		advice: func(err error) string { return first[*parallelError](err).hint }},
	{name: "authentication not attempted", match: is[*wire.AuthError],
		advice: func(err error) string { return first[*wire.AuthError](err).Hint }},
	// What the catalog said after the server's error (relation_hints.go):
	// the relations named like a missing one, a relation's json columns.
	{name: "catalog hint", match: is[*hintedError], advice: func(err error) string { return first[*hintedError](err).hint }},
	{name: "column type", match: is[*wire.ColumnError],
		advice: says("fraise streams one json or jsonb column; choose it with --column (default \"data\")")},
	{name: "output that says what to do", match: isWith(func(e *output.WriteError) bool { return e.Msg != "" }),
		advice: says("")},
	{name: "output (advice)", match: is[*output.WriteError],
		advice: says("check that the output destination is writable and has free space")},

	// The connection. A lost connection says more than the server's
	// last error (57P01 as the server went away).
	{name: "connection lost", match: is[*wire.ConnLostError], exit: exitWith(ExitConnection),
		advice: says("the server closed the connection or the network failed; check the server log, then retry")},
	{name: "protocol", match: is[*wire.ProtocolError], exit: exitWith(ExitConnection)},
	// A refused password: where it came from, in fraise's one hint (the
	// server's own HINT, if any, is shown as the server's).
	{name: "password refused", match: is[*wire.PasswordRefusedError], advice: passwordRefusedAdvice},
	// A pooler's refusal of the password has a code of its own
	// (PgBouncer 08P01, pgpool-II XX000), not 28P01.
	{name: "password refused by a pooler", match: poolerRefusal, advice: says(passwordAdvice)},
	// The server's error, by its SQLSTATE (sqlStateAdvices): it says
	// more than the step of connecting it came at.
	{name: "server error", match: func(err error) bool { return sqlStateAdvice(err) != "" }, advice: sqlStateAdvice},
	{name: "dial", match: connectStep(wire.StepDial), exit: exitWith(ExitConnection),
		advice: says("is the server running and accepting connections there? Point fraise at it with --dsn, FRAISE_DSN, or PGHOST and PGPORT")},
	{name: "certificate", match: connectStep(wire.StepVerify), exit: exitWith(ExitConnection),
		advice: says("the server's certificate was not trusted: check that sslrootcert names the CA that signed it (default ~/.postgresql/root.crt) and, with sslmode=verify-full, that the host name matches the certificate")},
	{name: "TLS", match: connectStep(wire.StepTLS), exit: exitWith(ExitConnection),
		advice: says("TLS could not be set up with this server: check sslmode, ssl_min_protocol_version and sslnegotiation, and whether a proxy is in between; if the server asks for a client certificate, check that sslcert and sslkey name one its ssl_ca_file trusts")},
	{name: "session check", match: connectStep(wire.StepCheck), exit: exitWith(ExitConnection),
		advice: says("no server offered the kind of session target_session_attrs asks for; check the host list, or relax target_session_attrs")},
	{name: "connect", match: is[*wire.ConnectError], exit: exitWith(ExitConnection)},

	// The query, after the connection: a query whose connection broke (a
	// ConnLostError inside a QueryError) is a connection failure, exit 3.
	{name: "query", match: is[*wire.QueryError], exit: exitWith(ExitQuery)},
	// A run cancelled without a signal's cause, last: any error it led
	// to says more.
	{name: "cancelled", match: func(err error) bool { return errors.Is(err, context.Canceled) }, exit: exitWith(ExitSIGINT)},
}

// exitCode maps an error to the documented exit code: that of the first
// class in errClasses with one, else ExitInternal.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if c := exitClass(err); c != nil {
		return c.exit.code
	}
	return ExitInternal
}

// adviceFor says what to do next, where fraise knows better than the
// server: the advice of the first class in errClasses with advice.
func adviceFor(err error) string {
	if c := adviceClass(err); c != nil {
		return c.advice(err)
	}
	return ""
}

// exitClass returns the class that decides err's exit code, or nil.
func exitClass(err error) *errClass {
	return findClass(err, func(c *errClass) bool { return c.exit.set })
}

// adviceClass returns the class that gives err's advice, or nil.
func adviceClass(err error) *errClass {
	return findClass(err, func(c *errClass) bool { return c.advice != nil })
}

// findClass returns the first class that decides (has) and that err
// matches, or nil.
func findClass(err error, has func(*errClass) bool) *errClass {
	if err == nil {
		return nil
	}
	for i := range errClasses {
		if c := &errClasses[i]; has(c) && c.match(err) {
			return c
		}
	}
	return nil
}

// first returns the first T in err's chain, or T's zero value.
func first[T error](err error) T {
	var t T
	errors.As(err, &t)
	return t
}

// is matches an error whose chain holds a T.
func is[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// isWith matches an error whose chain holds a T, the first of which
// satisfies cond.
func isWith[T error](cond func(T) bool) func(error) bool {
	return func(err error) bool {
		var t T
		return errors.As(err, &t) && cond(t)
	}
}

// allOf matches an error that every one of matches matches.
func allOf(matches ...func(error) bool) func(error) bool {
	return func(err error) bool {
		for _, m := range matches {
			if !m(err) {
				return false
			}
		}
		return true
	}
}

// signalled matches a run stopped by sig.
func signalled(sig syscall.Signal) func(error) bool {
	return isWith(func(e *signalError) bool { return e.sig == sig })
}

// connectStep matches a connection that failed at step.
func connectStep(step wire.Step) func(error) bool {
	return isWith(func(e *wire.ConnectError) bool { return e.Step == step })
}

// poolerRefusal matches a server error at authentication whose SQLSTATE
// is not of class 28, as a pooler's refusal of the password is.
func poolerRefusal(err error) bool {
	code := wire.SQLState(err)
	return connectStep(wire.StepAuth)(err) && code != "" && !strings.HasPrefix(code, "28")
}

// says is advice that does not depend on the error.
func says(advice string) func(error) string {
	return func(error) string { return advice }
}

// passwordAdvice is the advice on a password the server refused.
const passwordAdvice = "check the password (PGPASSWORD, ~/.pgpass, the connection string, or the profile's password_command) and the user name"

// passwordRefusedAdvice is the advice on a password the server refused,
// naming where it came from.
func passwordRefusedAdvice(err error) string {
	return "check the password, which came from " + first[*wire.PasswordRefusedError](err).From + ", and the user name"
}

// terminatedAdvice is the advice on a session the server ended.
const terminatedAdvice = "the server ended the session (pg_terminate_backend, or a shutdown); the lines written before are whole, but the output is incomplete: retry"

// stateAdvice is the advice on one SQLSTATE: that of the first of
// byMessage whose words the server's message holds, else advice.
type stateAdvice struct {
	byMessage []messageAdvice
	advice    string
}

// messageAdvice is the advice on a server message that holds any of words.
type messageAdvice struct {
	words  []string
	advice string
}

// sqlStateAdvices is the advice on a server error, by its SQLSTATE.
// docs/troubleshooting.md has a section on each (TestTroubleshootingSQLStates).
var sqlStateAdvices = map[string]stateAdvice{
	"42P01": {advice: relationAdvice("data")},
	"42703": {advice: "the relation has no such column; choose its json/jsonb column with --column (default \"data\")"},
	// The server names what it refused ("permission denied for function
	// lo_import"), and a function only some roles may call says so.
	"42501": {byMessage: []messageAdvice{
		{[]string{"for function", "for procedure"}, "the role may not call that function (it lacks EXECUTE on it): leave the call out of --where / --order-by, or ask for GRANT EXECUTE ON FUNCTION"},
		{[]string{"for schema"}, "the role lacks USAGE on the schema; ask for GRANT USAGE ON SCHEMA, or connect as another user"},
		{[]string{"for large object"}, "the role may not read that large object; ask for GRANT SELECT ON LARGE OBJECT, or leave it out of --where"},
		{[]string{"superuser", "privileges of", "member of"}, "that function is kept for superusers or members of a predefined role (such as pg_read_server_files); leave it out of --where / --order-by, or ask the administrator"},
	}, advice: "the role lacks a privilege on the relation; ask for GRANT SELECT, or connect as another user"},
	"25006": {advice: "fraise runs every query in a READ ONLY transaction: --where and --order-by cannot write"},
	"42601": {byMessage: []messageAdvice{
		{[]string{"multiple commands", `near ";"`}, "--where and --order-by take one SQL expression each, not statements"},
	}},
	"28P01": {advice: passwordAdvice},
	"28000": {byMessage: []messageAdvice{
		{[]string{"not permitted to log in"}, "the role cannot log in (NOLOGIN); connect as another user, or ask for ALTER ROLE … LOGIN"},
		{[]string{"certificate"}, "the server authenticates this user by client certificate: set sslcert and sslkey to a certificate whose common name is the user (or mapped to it in pg_ident.conf)"},
	}, advice: "the server's pg_hba.conf has no rule for this host, user and database; ask the administrator"},
	"40001": {advice: "on a standby, replay removed rows the query still needed (a recovery conflict); retry, stream from the primary, or ask for hot_standby_feedback = on or a longer max_standby_streaming_delay"},
	"3D000": {advice: "check dbname in --dsn, or PGDATABASE"},
	"57014": {byMessage: []messageAdvice{
		{[]string{"statement timeout"}, "the statement ran longer than statement_timeout (--statement-timeout, or the server's, role's or database's setting); raise it, or narrow the query with --where or --limit"},
	}, advice: "the query was cancelled on the server (pg_cancel_backend, or an administrator); retry"},
	"57P01": {advice: terminatedAdvice},
	"57P02": {advice: terminatedAdvice},
	"57P05": {advice: "the server closed the idle session (idle_session_timeout); retry"},
	"57P03": {advice: "the server is starting up or shutting down; retry in a moment"},
	"53300": {advice: "the server has no free connection slots; retry later"},
	"22023": {byMessage: []messageAdvice{
		{[]string{"snapshot"}, snapshotGoneAdvice},
	}},
	// PostgreSQL 18 says the same as 42704, "snapshot … does not exist".
	"42704": {byMessage: []messageAdvice{
		{[]string{"snapshot"}, snapshotGoneAdvice},
	}},
}

// snapshotGoneAdvice is the advice when a --parallel connection could not
// import the run's snapshot.
const snapshotGoneAdvice = "--parallel's connections could not import the snapshot they share: the connection that exported it ended " +
	"(terminated, or idle_in_transaction_session_timeout). Nothing inconsistent was written; retry, or run on one connection"

// sqlStateAdvice is the advice on the first server error in err's chain,
// by its SQLSTATE and message, or "".
func sqlStateAdvice(err error) string {
	var pe *wire.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	sa := sqlStateAdvices[pe.Code]
	for _, m := range sa.byMessage {
		if slices.ContainsFunc(m.words, func(w string) bool { return strings.Contains(pe.Message, w) }) {
			return m.advice
		}
	}
	return sa.advice
}
