package cli

import (
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
)

// printError writes err for humans: once, prefixed "fraise:", with the
// server's detail and hint, a caret under a --where/--order-by position, and
// advice on what to do next.
func printError(w io.Writer, err error, st *statementInfo) {
	var b strings.Builder
	b.WriteString("fraise: ")
	b.WriteString(headline(err))
	b.WriteString("\n")
	var jc *filter.CompileError
	if errors.As(err, &jc) && jc.Offset >= 0 {
		b.WriteString(query.Caret(query.Fragment{Flag: "--jq", Text: jc.Expr}, utf8.RuneCountInString(jc.Expr[:jc.Offset]), "  "))
		b.WriteString("\n")
	}
	var pe *wire.PgError
	inFragment := false
	if errors.As(err, &pe) {
		if pe.Position > 0 && st != nil {
			if f, off, ok := st.stmt.Locate(pe.Position); ok {
				b.WriteString(query.Caret(f, off, "  "))
				b.WriteString("\n")
				inFragment = true
			}
		}
		if pe.Detail != "" {
			b.WriteString("DETAIL: " + pe.Detail + "\n")
		}
		if pe.Hint != "" {
			b.WriteString("HINT: " + pe.Hint + "\n")
		}
	}
	advice := adviceFor(err)
	if inFragment && pe.Code == "42703" {
		advice = fragmentColumnAdvice
	}
	if advice != "" {
		b.WriteString("hint: " + advice + "\n")
	}
	_, _ = io.WriteString(w, safeText(b.String()))
}

func headline(err error) string {
	var jc *filter.CompileError
	if errors.As(err, &jc) {
		return "invalid --jq expression: " + jc.Err.Error()
	}
	var qe *wire.QueryError
	if errors.As(err, &qe) {
		return "query failed: " + err.Error()
	}
	return err.Error()
}

// fragmentColumnAdvice is 42703's advice when the column is in a --where or
// --order-by fragment.
const fragmentColumnAdvice = "the column is in your --where / --order-by; the relation's document is its json/jsonb column: reach fields through it, as (data->>'id')::int"

// sqlStateAdvice is the advice for a server error, by its SQLSTATE.
func sqlStateAdvice(err error) string {
	switch wire.SQLState(err) {
	case "42P01":
		return "check the relation name and schema; unquoted names are folded to lower case, so quote mixed-case names: '\"MyView\"'"
	case "42703":
		return "the relation has no such column; choose its json/jsonb column with --column (default \"data\")"
	case "42501":
		return privilegeAdvice(err)
	case "25006":
		return "fraise runs every query in a READ ONLY transaction: --where and --order-by cannot write"
	case "42601":
		var pe *wire.PgError
		if errors.As(err, &pe) && (strings.Contains(pe.Message, "multiple commands") || strings.Contains(pe.Message, `near ";"`)) {
			return "--where and --order-by take one SQL expression each, not statements"
		}
	case "28P01":
		return passwordAdvice
	case "28000":
		var pe *wire.PgError
		errors.As(err, &pe)
		switch msg := pe.Message; {
		case strings.Contains(msg, "not permitted to log in"):
			return "the role cannot log in (NOLOGIN); connect as another user, or ask for ALTER ROLE … LOGIN"
		case strings.Contains(msg, "certificate"):
			return "the server authenticates this user by client certificate: set sslcert and sslkey to a certificate whose common name is the user (or mapped to it in pg_ident.conf)"
		}
		return "the server's pg_hba.conf has no rule for this host, user and database; ask the administrator"
	case "40001":
		return "on a standby, replay removed rows the query still needed (a recovery conflict); retry, stream from the primary, or ask for hot_standby_feedback = on or a longer max_standby_streaming_delay"
	case "3D000":
		return "check dbname in --dsn, or PGDATABASE"
	case "57014":
		var pe *wire.PgError
		if errors.As(err, &pe) && strings.Contains(pe.Message, "statement timeout") {
			return "the statement ran longer than statement_timeout (--statement-timeout, or the server's, role's or database's setting); raise it, or narrow the query with --where or --limit"
		}
		return "the query was cancelled on the server (pg_cancel_backend, or an administrator); retry"
	case "57P01", "57P02":
		return "the server ended the session (pg_terminate_backend, or a shutdown); the lines written before are whole, but the output is incomplete: retry"
	case "57P05":
		return "the server closed the idle session (idle_session_timeout); retry"
	case "57P03":
		return "the server is starting up or shutting down; retry in a moment"
	case "53300":
		return "the server has no free connection slots; retry later"
	}
	return ""
}

// privilegeAdvice says which privilege a 42501 lacks: the server names
// what it was refused on ("permission denied for function lo_import"), and
// a function that only some roles may call says so instead.
func privilegeAdvice(err error) string {
	var pe *wire.PgError
	errors.As(err, &pe)
	msg := pe.Message
	switch {
	case strings.Contains(msg, "for function") || strings.Contains(msg, "for procedure"):
		return "the role may not call that function (it lacks EXECUTE on it): leave the call out of --where / --order-by, or ask for GRANT EXECUTE ON FUNCTION"
	case strings.Contains(msg, "for schema"):
		return "the role lacks USAGE on the schema; ask for GRANT USAGE ON SCHEMA, or connect as another user"
	case strings.Contains(msg, "for large object"):
		return "the role may not read that large object; ask for GRANT SELECT ON LARGE OBJECT, or leave it out of --where"
	case strings.Contains(msg, "superuser") || strings.Contains(msg, "privileges of") || strings.Contains(msg, "member of"):
		return "that function is kept for superusers or members of a predefined role (such as pg_read_server_files); leave it out of --where / --order-by, or ask the administrator"
	}
	return "the role lacks a privilege on the relation; ask for GRANT SELECT, or connect as another user"
}

// passwordAdvice is the advice on a password the server refused.
const passwordAdvice = "check the password (PGPASSWORD, ~/.pgpass, the connection string, or the profile's password_command) and the user name"

// adviceFor says what to do next, where fraise knows better than the server.
func adviceFor(err error) string {
	var (
		ce  *wire.ConnectError
		ae  *wire.AuthError
		col *wire.ColumnError
		cl  *wire.ConnLostError
		we  *output.WriteError
		jr  *filter.RowError
		jd  *filter.DepthError
		jc  *filter.CompileError
		tl  *wire.RowTooLargeError
		it  *wire.IdleTimeoutError
		pc  *wire.ParamCountError
	)
	switch {
	case errors.As(err, &pc):
		return "give one --param per placeholder, in order: the first binds $1"
	case errors.As(err, &tl):
		return "raise --max-row-size (default " + defaultMaxRowSize + ") if such rows are wanted, or leave them out with --where; fraise holds one whole row in memory"
	case errors.As(err, &it) && it.From != "":
		return "the server did not end the statement at its timeout and sent nothing since: the connection may be half-open or the server stuck; check pg_stat_activity, or set --idle-timeout"
	case errors.As(err, &it):
		return "the connection may be half-open, or the query may wait on a lock or compute long before its first row; check pg_stat_activity, or raise --idle-timeout"
	case errors.As(err, &jr) && errors.As(err, &jd):
		return "such rows stream without --jq (as the server sends them); leave them out with --where, or drop them with --on-jq-error skip"
	case errors.As(err, &jr):
		return "the --jq expression failed on this row; guard it (select(...), try, ?, //) or skip such rows with --on-jq-error skip"
	case errors.As(err, &jc):
		return "--jq takes a jq expression (fraise runs gojq, which follows jq 1.7); quote it for the shell with single quotes"
	case errors.As(err, &ae):
		return ae.Hint
	case errors.As(err, &col):
		return "fraise streams one json or jsonb column; choose it with --column (default \"data\")"
	case errors.As(err, &we) && we.Msg != "":
		return "" // the message says what to do
	case errors.As(err, &we):
		return "check that the output destination is writable and has free space"
	case errors.As(err, &cl):
		return "the server closed the connection or the network failed; check the server log, then retry"
	}
	if code := wire.SQLState(err); errors.As(err, &ce) && ce.Step == wire.StepAuth && code != "" && !strings.HasPrefix(code, "28") {
		// A pooler's refusal of the password (PgBouncer 08P01, pgpool-II XX000).
		return passwordAdvice
	}
	if advice := sqlStateAdvice(err); advice != "" {
		return advice
	}
	if errors.As(err, &ce) {
		switch ce.Step {
		case wire.StepDial:
			return "is the server running and accepting connections there? Point fraise at it with --dsn, FRAISE_DSN, or PGHOST and PGPORT"
		case wire.StepVerify:
			return "the server's certificate was not trusted: check that sslrootcert names the CA that signed it (default ~/.postgresql/root.crt) and, with sslmode=verify-full, that the host name matches the certificate"
		case wire.StepTLS:
			return "TLS could not be set up with this server: check sslmode, ssl_min_protocol_version and sslnegotiation, and whether a proxy is in between; if the server asks for a client certificate, check that sslcert and sslkey name one its ssl_ca_file trusts"
		case wire.StepCheck:
			return "no server offered the kind of session target_session_attrs asks for; check the host list, or relax target_session_attrs"
		}
	}
	return ""
}
