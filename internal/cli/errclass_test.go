package cli

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// The advice fraise gives, as the user reads it after "hint: ".
const (
	adviseParams     = "give one --param per placeholder, in order: the first binds $1"
	adviseRowSize    = "raise --max-row-size (default 256MiB) if such rows are wanted, or leave them out with --where; fraise holds one whole row in memory"
	adviseIdleFrom   = "the server did not end the statement at its timeout and sent nothing since: the connection may be half-open or the server stuck; check pg_stat_activity, or set --idle-timeout"
	adviseIdle       = "the connection may be half-open, or the query may wait on a lock or compute long before its first row; check pg_stat_activity, or raise --idle-timeout"
	adviseDepth      = "such rows stream without --jq (as the server sends them); leave them out with --where, or drop them with --on-jq-error skip"
	adviseRow        = "the --jq expression failed on this row; guard it (select(...), try, ?, //) or skip such rows with --on-jq-error skip"
	adviseCompile    = "--jq takes a jq expression (fraise runs gojq, which follows jq 1.7); quote it for the shell with single quotes"
	adviseColumn     = "fraise streams one json or jsonb column; choose it with --column (default \"data\")"
	adviseWrite      = "check that the output destination is writable and has free space"
	adviseConnLost   = "the server closed the connection or the network failed; check the server log, then retry"
	adviseDial       = "is the server running and accepting connections there? Point fraise at it with --dsn, FRAISE_DSN, or PGHOST and PGPORT"
	adviseVerify     = "the server's certificate was not trusted: check that sslrootcert names the CA that signed it (default ~/.postgresql/root.crt) and, with sslmode=verify-full, that the host name matches the certificate"
	adviseTLS        = "TLS could not be set up with this server: check sslmode, ssl_min_protocol_version and sslnegotiation, and whether a proxy is in between; if the server asks for a client certificate, check that sslcert and sslkey name one its ssl_ca_file trusts"
	adviseCheck      = "no server offered the kind of session target_session_attrs asks for; check the host list, or relax target_session_attrs"
	adviseRelation   = "check the relation name and schema; unquoted names are folded to lower case, so quote mixed-case names: '\"MyView\"'; \"fraise views\" lists the relations you can stream"
	adviseNoColumn   = "the relation has no such column; choose its json/jsonb column with --column (default \"data\")"
	adviseFunction   = "the role may not call that function (it lacks EXECUTE on it): leave the call out of --where / --order-by, or ask for GRANT EXECUTE ON FUNCTION"
	adviseSchema     = "the role lacks USAGE on the schema; ask for GRANT USAGE ON SCHEMA, or connect as another user"
	adviseLargeObj   = "the role may not read that large object; ask for GRANT SELECT ON LARGE OBJECT, or leave it out of --where"
	adviseSuperuser  = "that function is kept for superusers or members of a predefined role (such as pg_read_server_files); leave it out of --where / --order-by, or ask the administrator"
	adviseGrant      = "the role lacks a privilege on the relation; ask for GRANT SELECT, or connect as another user"
	adviseReadOnly   = "fraise runs every query in a READ ONLY transaction: --where and --order-by cannot write"
	adviseStatements = "--where and --order-by take one SQL expression each, not statements"
	adviseNoLogin    = "the role cannot log in (NOLOGIN); connect as another user, or ask for ALTER ROLE … LOGIN"
	adviseClientCert = "the server authenticates this user by client certificate: set sslcert and sslkey to a certificate whose common name is the user (or mapped to it in pg_ident.conf)"
	adviseHBA        = "the server's pg_hba.conf has no rule for this host, user and database; ask the administrator"
	adviseRecovery   = "on a standby, replay removed rows the query still needed (a recovery conflict); retry, stream from the primary, or ask for hot_standby_feedback = on or a longer max_standby_streaming_delay"
	adviseDatabase   = "check dbname in --dsn, or PGDATABASE"
	adviseTimeout    = "the statement ran longer than statement_timeout (--statement-timeout, or the server's, role's or database's setting); raise it, or narrow the query with --where or --limit"
	adviseCancelled  = "the query was cancelled on the server (pg_cancel_backend, or an administrator); retry"
	adviseTerminated = "the server ended the session (pg_terminate_backend, or a shutdown); the lines written before are whole, but the output is incomplete: retry"
	adviseIdleEnded  = "the server closed the idle session (idle_session_timeout); retry"
	adviseStarting   = "the server is starting up or shutting down; retry in a moment"
	adviseSlots      = "the server has no free connection slots; retry later"
	adviseResumeKey  = "--resume continues after the last key written, so the --order-by key must be unique and never NULL: order by a primary key, or end the list with one (--order-by 'created_at, id')"
	advisePassword   = "check the password (PGPASSWORD, ~/.pgpass, the connection string, or the profile's password_command) and the user name"
)

// errCase is one error value and what fraise makes of it.
type errCase struct {
	name   string
	err    error
	exit   int
	advice string
}

// pgErr is a server error with code and message.
func pgErr(code, msg string) *wire.PgError {
	return &wire.PgError{Severity: "ERROR", SeverityNonLocal: "ERROR", Code: code, Message: msg}
}

// inQuery is a failed query caused by err.
func inQuery(err error) error { return &wire.QueryError{Err: err} }

// connErr is a failed connection at step, caused by err.
func connErr(step wire.Step, err error) error {
	return &wire.ConnectError{Host: "db", User: "u", Step: step, Err: err}
}

// both is one error whose chain holds a and b, a first.
func both(a, b error) error { return fmt.Errorf("%w; %w", a, b) }

// errCases covers every branch of exitCode and adviceFor, and the
// precedence between classes where one chain holds two of them.
var errCases = []errCase{
	// Signals decide the exit code over whatever the run failed with on
	// its way out; they give no advice of their own.
	{"SIGTERM", &signalError{syscall.SIGTERM}, ExitSIGTERM, ""},
	{"SIGHUP", &signalError{syscall.SIGHUP}, ExitSIGHUP, ""},
	{"SIGINT", &signalError{syscall.SIGINT}, ExitSIGINT, ""},
	{"other signal", &signalError{syscall.SIGQUIT}, ExitSIGINT, ""},
	{"interrupted while querying", &interruptedError{sig: &signalError{syscall.SIGTERM}, stage: stageQuery}, ExitSIGTERM, ""},
	{"signal over an output error", both(&signalError{syscall.SIGHUP}, &output.WriteError{Err: syscall.ENOSPC}), ExitSIGHUP, adviseWrite},
	{"context cancelled", context.Canceled, ExitSIGINT, ""},
	{"query error over a cancelled context", both(context.Canceled, inQuery(pgErr("57014", "canceling statement due to user request"))), ExitQuery, adviseCancelled},

	// The output.
	{"broken pipe", &output.WriteError{Err: syscall.EPIPE}, ExitOK, adviseWrite},
	{"reader gone", output.ErrReaderGone, ExitOK, adviseWrite},
	{"write error", &output.WriteError{Err: syscall.ENOSPC}, ExitOutput, adviseWrite},
	{"write error that says what to do", &output.WriteError{Err: syscall.EACCES, Msg: "cannot write x: do y"}, ExitOutput, ""},
	{"write error over a jq row error", both(&filter.RowError{Row: 1, Err: errors.New("x")}, &output.WriteError{Err: syscall.ENOSPC}), ExitOutput, adviseRow},
	{"EPIPE outside the output", inQuery(syscall.EPIPE), ExitQuery, ""},

	// jq.
	{"jq row error", &filter.RowError{Row: 1, Err: errors.New("cannot iterate over null")}, ExitFilter, adviseRow},
	{"jq row too deep", &filter.RowError{Row: 1, Err: &filter.DepthError{Offset: 1, Limit: 1}}, ExitFilter, adviseDepth},
	{"too deep outside a row", &filter.DepthError{Offset: 1, Limit: 1}, ExitInternal, ""},
	{"jq row error over a query error", inQuery(&filter.RowError{Row: 1, Err: errors.New("x")}), ExitFilter, adviseRow},
	{"jq compile error", &filter.CompileError{Expr: ".", Offset: -1, Err: errors.New("x")}, ExitUsage, adviseCompile},

	// --resume.
	{"resume refused", &output.ResumeError{Msg: "cannot resume the output in .x.fraise-resume: it was written by another command"}, ExitUsage, ""},
	{"resume key", inQuery(&resumeKeyError{row: 2, key: []string{"1"}}), ExitQuery, adviseResumeKey},
	{"resume key NULL", inQuery(&resumeKeyError{row: 2, null: true}), ExitQuery, adviseResumeKey},

	// Found before connecting.
	{"usage", &usageError{errors.New("unknown flag: --nope")}, ExitUsage, ""},
	{"identifier", &query.IdentError{What: "relation", Input: "a..b", Reason: "empty name"}, ExitUsage, ""},
	{"fragment", &query.FragmentError{Part: query.PartWhere, Reason: "the SQL fragment is empty"}, ExitUsage, ""},
	{"connection settings", &wire.ConfigError{Keyword: "nosuchkeyword", Err: errors.New("unknown keyword")}, ExitUsage, ""},
	{"connection keyword mistyped", &wire.ConfigError{Err: &pgconf.ParseError{Kind: pgconf.KindUnknownKeyword, Keyword: "dbnme", Msg: `invalid connection option "dbnme"`}}, ExitUsage,
		`did you mean "dbname"? (a libpq connection keyword)`},
	{"usage over a connection error", &usageError{connErr(wire.StepDial, syscall.ECONNREFUSED)}, ExitUsage, adviseDial},

	// Connecting.
	{"dial", connErr(wire.StepDial, syscall.ECONNREFUSED), ExitConnection, adviseDial},
	{"certificate", connErr(wire.StepVerify, errors.New("x509: unknown authority")), ExitConnection, adviseVerify},
	{"TLS", connErr(wire.StepTLS, errors.New("handshake failure")), ExitConnection, adviseTLS},
	{"session check", connErr(wire.StepCheck, errors.New("read-only")), ExitConnection, adviseCheck},
	{"startup", connErr(wire.StepStartup, errors.New("x")), ExitConnection, ""},
	{"authentication not attempted", connErr(wire.StepAuth, &wire.AuthError{Msg: "no password", Hint: "set one"}), ExitConnection, "set one"},
	{"authentication error alone", &wire.AuthError{Msg: "no password", Hint: "set one"}, ExitInternal, "set one"},
	{"password refused", connErr(wire.StepAuth, pgErr("28P01", "password authentication failed")), ExitConnection, advisePassword},
	{"password refused by PgBouncer", connErr(wire.StepAuth, pgErr("08P01", "SASL authentication failed")), ExitConnection, advisePassword},
	{"password refused by pgpool-II", connErr(wire.StepAuth, pgErr("XX000", "authentication failed")), ExitConnection, advisePassword},
	{"password refused, from PGPASSWORD", connErr(wire.StepAuth, &wire.PasswordRefusedError{Err: pgErr("28P01", "password authentication failed"), From: "PGPASSWORD"}),
		ExitConnection, "check the password, which came from PGPASSWORD, and the user name"},
	{"password refused by PgBouncer, from the password file", connErr(wire.StepAuth, &wire.PasswordRefusedError{Err: pgErr("08P01", "SASL authentication failed"), From: "the password file /h/.pgpass"}),
		ExitConnection, "check the password, which came from the password file /h/.pgpass, and the user name"},
	{"PgBouncer, server down", connErr(wire.StepStartup, pgErr("08P01", "server login has been failing")), ExitConnection, ""},
	{"no login", connErr(wire.StepAuth, pgErr("28000", `role "batch" is not permitted to log in`)), ExitConnection, adviseNoLogin},
	{"client certificate", connErr(wire.StepAuth, pgErr("28000", `certificate authentication failed for user "u"`)), ExitConnection, adviseClientCert},
	{"no pg_hba rule", connErr(wire.StepAuth, pgErr("28000", `no pg_hba.conf entry for host "h"`)), ExitConnection, adviseHBA},
	{"no database", connErr(wire.StepStartup, pgErr("3D000", `database "ap" does not exist`)), ExitConnection, adviseDatabase},
	{"starting up", connErr(wire.StepStartup, pgErr("57P03", "the database system is starting up")), ExitConnection, adviseStarting},
	{"no slots", connErr(wire.StepStartup, pgErr("53300", "sorry, too many clients already")), ExitConnection, adviseSlots},
	{"server error over the step", connErr(wire.StepDial, pgErr("53300", "sorry, too many clients already")), ExitConnection, adviseSlots},
	{"unknown server error over the step", connErr(wire.StepTLS, pgErr("08P01", "x")), ExitConnection, adviseTLS},
	{"parallel: no room", &parallelError{connection: true, msg: "no room", hint: parallelRoomHint(3)}, ExitConnection, "run with --parallel 3 or fewer, or when the server is less busy"},
	{"parallel: one connection fits", &parallelError{connection: true, msg: "no room", hint: parallelRoomHint(1)}, ExitConnection, "run on one connection (leave --parallel out), or when the server is less busy"},
	{"parallel: a connection refused", &parallelError{msg: "1 of 4", err: connErr(wire.StepStartup, pgErr("53300", "sorry, too many clients already")), hint: connectionsHint}, ExitConnection, connectionsHint},
	{"parallel: no export", &parallelError{msg: "no export", err: inQuery(pgErr("42501", "permission denied for function pg_export_snapshot")), hint: exportHint}, ExitQuery, exportHint},
	{"parallel: snapshot gone", inQuery(pgErr("22023", `invalid snapshot identifier: "00000003-0000008F-1"`)), ExitQuery, snapshotGoneAdvice},
	{"22023 of another kind", inQuery(pgErr("22023", "invalid value for parameter")), ExitQuery, ""},
	{"parallel: snapshot gone, PostgreSQL 18", inQuery(pgErr("42704", `snapshot "0000003A-00000012-1" does not exist`)), ExitQuery, snapshotGoneAdvice},
	{"42704 of another kind", inQuery(pgErr("42704", `type "nope" does not exist`)), ExitQuery, ""},
	{"connection lost", &wire.ConnLostError{Err: errors.New("unexpected EOF")}, ExitConnection, adviseConnLost},
	{"connection lost over a server error", &wire.ConnLostError{Err: pgErr("57P01", "terminating connection due to administrator command")}, ExitConnection, adviseConnLost},
	{"connection lost over a query error", inQuery(&wire.ConnLostError{Err: errors.New("EOF")}), ExitConnection, adviseConnLost},
	{"protocol", &wire.ProtocolError{Msg: "unknown message type"}, ExitConnection, ""},

	// The query.
	{"query", inQuery(errors.New("x")), ExitQuery, ""},
	{"parameters", inQuery(&wire.ParamCountError{Want: 2, Got: 1}), ExitQuery, adviseParams},
	{"row too large", inQuery(&wire.RowTooLargeError{Row: 1, Size: 2, Limit: 1}), ExitQuery, adviseRowSize},
	{"idle timeout from a setting", inQuery(&wire.IdleTimeoutError{After: time.Second, From: "--statement-timeout"}), ExitQuery, adviseIdleFrom},
	{"idle timeout", inQuery(&wire.IdleTimeoutError{After: time.Second}), ExitQuery, adviseIdle},
	{"column type", inQuery(&wire.ColumnError{Columns: []string{`"data" of type integer`}}), ExitQuery, adviseColumn},
	{"column type alone", &wire.ColumnError{}, ExitInternal, adviseColumn},
	{"no relation", inQuery(pgErr("42P01", `relation "v_users" does not exist`)), ExitQuery, adviseRelation},
	{"no column", inQuery(pgErr("42703", `column "data" does not exist`)), ExitQuery, adviseNoColumn},
	{"no relation, with the catalog's hint", &hintedError{err: inQuery(pgErr("42P01", `relation "v_usr" does not exist`)), hint: "did you mean v_user?"}, ExitQuery, "did you mean v_user?"},
	{"column type, with the catalog's hint", &hintedError{err: inQuery(&wire.ColumnError{Columns: []string{`"data" of type integer`}}), hint: "v_int has none"}, ExitQuery, "v_int has none"},
	{"privilege on a relation", inQuery(pgErr("42501", "permission denied for view v_secret")), ExitQuery, adviseGrant},
	{"privilege on a function", inQuery(pgErr("42501", "permission denied for function lo_import")), ExitQuery, adviseFunction},
	{"privilege on a procedure", inQuery(pgErr("42501", "permission denied for procedure p")), ExitQuery, adviseFunction},
	{"privilege on a schema", inQuery(pgErr("42501", "permission denied for schema hidden")), ExitQuery, adviseSchema},
	{"privilege on a large object", inQuery(pgErr("42501", "permission denied for large object 16384")), ExitQuery, adviseLargeObj},
	{"superuser", inQuery(pgErr("42501", "must be superuser to use server-side lo_import()")), ExitQuery, adviseSuperuser},
	{"privileges of a role", inQuery(pgErr("42501", `must have privileges of role "pg_read_server_files"`)), ExitQuery, adviseSuperuser},
	{"member of a role", inQuery(pgErr("42501", `must be member of role "x"`)), ExitQuery, adviseSuperuser},
	{"read only", inQuery(pgErr("25006", "cannot execute INSERT in a read-only transaction")), ExitQuery, adviseReadOnly},
	{"multiple commands", inQuery(pgErr("42601", "cannot insert multiple commands into a prepared statement")), ExitQuery, adviseStatements},
	{"semicolon", inQuery(pgErr("42601", `syntax error at or near ";"`)), ExitQuery, adviseStatements},
	{"other syntax error", inQuery(pgErr("42601", `syntax error at or near "=!"`)), ExitQuery, ""},
	{"recovery conflict", inQuery(pgErr("40001", "canceling statement due to conflict with recovery")), ExitQuery, adviseRecovery},
	{"statement timeout", inQuery(pgErr("57014", "canceling statement due to statement timeout")), ExitQuery, adviseTimeout},
	{"cancelled", inQuery(pgErr("57014", "canceling statement due to user request")), ExitQuery, adviseCancelled},
	{"terminated", inQuery(pgErr("57P01", "terminating connection due to administrator command")), ExitQuery, adviseTerminated},
	{"crash of another process", inQuery(pgErr("57P02", "terminating connection because of crash of another server process")), ExitQuery, adviseTerminated},
	{"idle session", inQuery(pgErr("57P05", "terminating connection due to idle-session timeout")), ExitQuery, adviseIdleEnded},
	{"unknown SQLSTATE", inQuery(pgErr("22012", "division by zero")), ExitQuery, ""},

	// Anything else.
	{"internal", errors.New("boom"), ExitInternal, ""},
}

// TestErrorClasses: every error, as it is and wrapped, gets its exit code
// and its advice.
func TestErrorClasses(t *testing.T) {
	if code, advice := exitCode(nil), adviceFor(nil); code != ExitOK || advice != "" {
		t.Errorf("no error: exit %d, advice %q; want 0 and none", code, advice)
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, err := range []error{tc.err, fmt.Errorf("wrapped: %w", tc.err)} {
				if got := exitCode(err); got != tc.exit {
					t.Errorf("exitCode(%v) = %d, want %d", err, got, tc.exit)
				}
				if got := adviceFor(err); got != tc.advice {
					t.Errorf("adviceFor(%v) =\n\t%q\nwant\n\t%q", err, got, tc.advice)
				}
			}
		})
	}
}

// TestErrorClassesCovered: every class decides the exit code or the advice
// of a case of errCases, every advice of sqlStateAdvices is given to one,
// and no class is dead (deciding neither).
func TestErrorClassesCovered(t *testing.T) {
	decided := map[string]bool{}
	advised := map[string]bool{}
	for _, tc := range errCases {
		if c := exitClass(tc.err); c != nil {
			decided[c.name] = true
		}
		if c := adviceClass(tc.err); c != nil {
			decided[c.name] = true
		}
		advised[adviceFor(tc.err)] = true
	}
	names := map[string]bool{}
	for _, c := range errClasses {
		if names[c.name] {
			t.Errorf("two classes are named %q", c.name)
		}
		names[c.name] = true
		if !c.exit.set && c.advice == nil {
			t.Errorf("class %q decides neither the exit code nor the advice", c.name)
		}
		if !decided[c.name] {
			t.Errorf("class %q decides nothing for any case of errCases: add a case for it", c.name)
		}
	}
	for code, sa := range sqlStateAdvices {
		for _, m := range sa.byMessage {
			if !advised[m.advice] {
				t.Errorf("SQLSTATE %s, message with %q: no case of errCases gets its advice", code, m.words)
			}
		}
		if sa.advice != "" && !advised[sa.advice] {
			t.Errorf("SQLSTATE %s: no case of errCases gets its advice", code)
		}
	}
}

// TestExitStatusesMatchClasses: the documented exit codes are those the
// classes end a run with, and ExitInternal for an error of no class.
func TestExitStatusesMatchClasses(t *testing.T) {
	produced := map[int]bool{ExitInternal: true}
	for _, c := range errClasses {
		if c.exit.set {
			produced[c.exit.code] = true
		}
	}
	documented := map[int]bool{}
	for _, s := range ExitStatuses() {
		documented[s.Code] = true
		if !produced[s.Code] {
			t.Errorf("ExitStatuses documents exit %d, which no error class ends a run with", s.Code)
		}
	}
	for code := range produced {
		if !documented[code] {
			t.Errorf("an error class ends a run with exit %d, which ExitStatuses does not document", code)
		}
	}
}
