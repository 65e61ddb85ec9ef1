package wire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

func TestMain(m *testing.M) { os.Exit(pgtest.RunMain(m)) }

// isolated is an Environment with no PG* variables and a home of its own,
// so the developer's settings cannot leak into a test.
func isolated(t *testing.T) wire.Environment {
	home := t.TempDir()
	return wire.Environment{
		LookupEnv: func(string) (string, bool) { return "", false },
		Username:  func() (string, error) { return "nobody-in-particular", nil },
		HomeDir:   func() (string, error) { return home, nil },
	}
}

func config(t *testing.T, conninfo string) *wire.Config {
	t.Helper()
	cfg, err := wire.ParseConfig(conninfo, isolated(t))
	if err != nil {
		t.Fatalf("ParseConfig(%q): %v", conninfo, err)
	}
	return cfg
}

// collect is a RowSink that keeps every value.
type collect struct {
	col    wire.Column
	values [][]byte
}

func (c *collect) Begin(col wire.Column) error { c.col = col; return nil }
func (c *collect) WriteValue(v []byte) error {
	if v != nil {
		v = append([]byte{}, v...)
	}
	c.values = append(c.values, v)
	return nil
}
func (c *collect) Flush() error { return nil }

func stream(t *testing.T, cfg *wire.Config, sql string) (*collect, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := wire.Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var sink collect
	_, err = conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: sql}, &sink, wire.Observer{})
	return &sink, err
}

func TestAuthMethodsLogIn(t *testing.T) {
	srv := pgtest.Require(t)
	tests := []struct {
		role, method string
	}{
		{pgtest.RoleTrust, "trust"},
		{pgtest.RolePassword, "password"},
		{pgtest.RoleMD5, "md5"},
		{pgtest.RoleSCRAM, "scram-sha-256"},
	}
	for _, tt := range tests {
		for _, tcp := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tcp=%v", tt.method, tcp), func(t *testing.T) {
				cfg := config(t, srv.ConnString(tt.role, tcp))
				if pw := pgtest.Password(tt.role); pw != "" {
					cfg.Password, cfg.HasPassword = pw, true
				}
				ctx := context.Background()
				conn, err := wire.Connect(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if conn.AuthMethod() != tt.method {
					t.Errorf("AuthMethod() = %q, want %q", conn.AuthMethod(), tt.method)
				}
				if conn.ServerParam("server_version") == "" {
					t.Error("no server_version reported")
				}
				var sink collect
				res, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT data FROM v_user LIMIT 2"}, &sink, wire.Observer{})
				if err != nil || res.Rows != 2 || len(sink.values) != 2 {
					t.Fatalf("Stream: %+v, %d values, %v", res, len(sink.values), err)
				}
			})
		}
	}
}

func TestWrongPasswordIsRefusedAndNeverShown(t *testing.T) {
	srv := pgtest.Require(t)
	const secret = "not-the-pw-Zq7"
	for _, role := range []string{pgtest.RolePassword, pgtest.RoleMD5, pgtest.RoleSCRAM} {
		t.Run(role, func(t *testing.T) {
			cfg := config(t, srv.ConnString(role, true)+" password="+secret)
			_, err := wire.Connect(context.Background(), cfg)
			var ce *wire.ConnectError
			if !errors.As(err, &ce) || ce.Step != wire.StepAuth {
				t.Fatalf("err = %v, want an authentication ConnectError", err)
			}
			code, msg := passwordRefusal(srv, role, role == pgtest.RoleSCRAM)
			var pe *wire.PgError
			if !errors.As(err, &pe) || pe.Code != code || !strings.HasPrefix(pe.Message, msg) {
				t.Fatalf("err = %v, want SQLSTATE %s %q", err, code, msg)
			}
			var pr *wire.PasswordRefusedError
			if !errors.As(err, &pr) || pr.From != "the connection string" {
				t.Errorf("err = %v (%+v) does not say where the password came from", err, pr)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, pe), secret) {
				t.Errorf("the password appears in the error: %v", err)
			}
		})
	}
}

func TestNoPasswordSupplied(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleSCRAM, false))
	_, err := wire.Connect(context.Background(), cfg)
	var ae *wire.AuthError
	if !errors.As(err, &ae) || !strings.Contains(ae.Msg, "no password supplied") || !strings.Contains(ae.Hint, "PGPASSWORD") {
		t.Fatalf("err = %v, want 'no password supplied' with a hint", err)
	}
}

func TestPassfile(t *testing.T) {
	srv := pgtest.Require(t)
	dir := t.TempDir()
	pass := filepath.Join(dir, "pgpass")
	line := fmt.Sprintf("# comment\nother:*:*:*:wrong\n127.0.0.1:%d:%s:%s:%s\n", srv.ClientPort(), pgtest.Database, pgtest.RoleMD5, pgtest.Password(pgtest.RoleMD5))
	// The default socket directory is looked up as "localhost"; others by path.
	line += fmt.Sprintf("%s:%d:*:%s:%s\n", strings.ReplaceAll(srv.ClientSocketDir(), ":", `\:`), srv.ClientPort(), pgtest.RoleSCRAM, strings.ReplaceAll(pgtest.Password(pgtest.RoleSCRAM), `\`, `\\`))
	if err := os.WriteFile(pass, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		role string
		tcp  bool
	}{{pgtest.RoleMD5, true}, {pgtest.RoleSCRAM, false}} {
		cfg := config(t, srv.ConnString(tc.role, tc.tcp)+" passfile="+pass)
		if _, err := stream(t, cfg, "SELECT data FROM v_user LIMIT 1"); err != nil {
			t.Errorf("%s with password file: %v", tc.role, err)
		}
	}

	// A wrong password from the file: the error says where it came from.
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte(fmt.Sprintf("*:*:*:%s:wrong-from-file\n", pgtest.RoleMD5)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := wire.Connect(context.Background(), config(t, srv.ConnString(pgtest.RoleMD5, true)+" passfile="+bad))
	var pe *wire.PgError
	var pr *wire.PasswordRefusedError
	code, _ := passwordRefusal(srv, pgtest.RoleMD5, false)
	if !errors.As(err, &pe) || pe.Code != code || !errors.As(err, &pr) || pr.From != "the password file "+bad || strings.Contains(err.Error(), "wrong-from-file") {
		t.Errorf("err = %v (%+v), want %s naming the password file and not the password", err, pr, code)
	}

	// Group- or world-readable: ignored with libpq's warning.
	if err := os.Chmod(pass, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config(t, srv.ConnString(pgtest.RoleMD5, true)+" passfile="+pass)
	var warnings []string
	cfg.OnWarning = func(m string) { warnings = append(warnings, m) }
	_, err = wire.Connect(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "no password supplied") {
		t.Errorf("err = %v, want no password supplied", err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "has group or world access") {
		t.Errorf("warnings = %q, want one about permissions", warnings)
	}
	// The advice is to make the file private, not to add a line to it.
	var ae *wire.AuthError
	want := "password file " + pass + " was ignored because group or others can read it; make it private with chmod 600 " + pass + ", or set PGPASSWORD, or put the password in the connection string"
	if !errors.As(err, &ae) || ae.Hint != want {
		t.Errorf("err = %v; want the hint %q", err, want)
	}

	// Not a plain file: point the setting at the file.
	_, err = wire.Connect(context.Background(), config(t, srv.ConnString(pgtest.RoleMD5, true)+" passfile="+dir))
	want = "password file " + dir + " was ignored because it is not a plain file; point passfile or PGPASSFILE at your password file, or set PGPASSWORD, or put the password in the connection string"
	if !errors.As(err, &ae) || ae.Hint != want {
		t.Errorf("err = %v; want the hint %q", err, want)
	}
}

func TestSASLprepPasswordsLogIn(t *testing.T) {
	srv := pgtest.Require(t)
	tests := []struct {
		name, stored string
		logins       []string // each must log in
	}{
		{"nbsp", "pass\u00a0word", []string{"pass\u00a0word", "pass word"}},
		{"vulgar fraction", "\u00bc", []string{"\u00bc", "1\u20444"}},
		{"soft hyphen", "pass\u00adword", []string{"pass\u00adword", "password"}},
		{"roman numeral", "\u2168", []string{"\u2168", "IX"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := fmt.Sprintf("fraise_saslprep_%d", i)
			// Idempotent, for -count: a role holding grants drops only once
			// they are revoked.
			sql := fmt.Sprintf("DO $$BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN REVOKE ALL ON v_user, users FROM %s; END IF; END$$; DROP ROLE IF EXISTS %s; CREATE ROLE %s LOGIN PASSWORD '%s'; GRANT SELECT ON v_user, users TO %s;", role, role, role, role, tt.stored, role)
			if _, err := srv.Psql(context.Background(), sql); err != nil {
				t.Fatal(err)
			}
			for _, pw := range tt.logins {
				cfg := config(t, srv.ConnString(role, true))
				cfg.Password, cfg.HasPassword = pw, true
				if _, err := stream(t, cfg, "SELECT data FROM v_user LIMIT 1"); err != nil {
					t.Errorf("password %q: %v", pw, err)
				}
			}
			cfg := config(t, srv.ConnString(role, true))
			cfg.Password, cfg.HasPassword = "password-that-differs", true
			code, _ := passwordRefusal(srv, role, true)
			if _, err := stream(t, cfg, "SELECT 1"); wire.SQLState(err) != code {
				t.Errorf("a different password: err = %v, want %s", err, code)
			}
		})
	}
}

func TestColumnShapeCheckedBeforeExecution(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.Superuser, false))
	tests := []struct {
		sql  string
		want string
	}{
		{"SELECT data, id FROM users", `2 columns ("data" of type jsonb, "id" of type integer)`},
		{"SELECT data FROM v_int", `column "data" of type integer is not json or jsonb`},
		{"SELECT data FROM v_jsonb_array", `of type jsonb[]`},
		{"SELECT data FROM v_text", `of type text`},
		{"SELECT ARRAY[data::json] FROM users", `of type json[]`},
		// It would write if it could: its shape is what is reported, and
		// nothing it did is kept (read-only, rolled back).
		{"SELECT f_write()", `of type boolean`},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			sink, err := stream(t, cfg, tt.sql)
			var qe *wire.QueryError
			var ce *wire.ColumnError
			if !errors.As(err, &qe) || !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a QueryError with a ColumnError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if sink != nil && len(sink.values) != 0 {
				t.Errorf("%d rows reached the sink", len(sink.values))
			}
		})
	}
	out, err := srv.Psql(context.Background(), "SELECT count(*) FROM t_write")
	if err != nil || strings.TrimSpace(out) != "0" {
		t.Errorf("t_write has %q rows (%v): a refused statement was executed", out, err)
	}
	sink, err := stream(t, cfg, "SELECT data FROM v_domain LIMIT 1")
	if err != nil || sink.col.TypeOID != wire.OIDJSONB {
		t.Errorf("domain over jsonb: %v, column %+v", err, sink.col)
	}
}

// TestTrickyJSONPassesThrough compares each value with the server's own
// text of it, byte for byte.
func TestTrickyJSONPassesThrough(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false))
	for _, view := range []string{"v_tricky", "v_tricky_jsonb"} {
		t.Run(view, func(t *testing.T) {
			sink, err := stream(t, cfg, "SELECT data FROM "+view)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			w := output.NewNDJSON(&got, output.Options{OneLine: sink.col.KeepsInputText()})
			for _, v := range sink.values {
				_ = w.WriteValue(v)
			}
			_ = w.Flush()
			// The server's text, with json's raw CR/LF/TAB as spaces and NULL as null.
			want, err := srv.Psql(context.Background(), `SELECT coalesce(translate(data::text, E'\r\n\t', '   '), 'null') FROM `+view)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("passthrough differs from the server's text:\n got %q\nwant %q", got.String(), want)
			}
			for _, exact := range []string{"123456789012345678901234567890", "1.10", "9007199254740993", `\ud83d\ude00`, "😀", `"deep"`} {
				if view == "v_tricky_jsonb" && strings.HasPrefix(exact, `\u`) {
					continue // jsonb decodes escapes
				}
				if !strings.Contains(got.String(), exact) {
					t.Errorf("output lacks %s", exact)
				}
			}
			if strings.Count(got.String(), "\n") != len(sink.values) {
				t.Errorf("%d lines for %d rows", strings.Count(got.String(), "\n"), len(sink.values))
			}
			if sink.values[5] != nil && view == "v_tricky" {
				t.Errorf("SQL NULL arrived as %q, want nil", sink.values[5])
			}
		})
	}
}

func TestServerErrorsCarryTheirFields(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false))
	tests := []struct {
		sql, code string
		position  bool
	}{
		{"SELECT data FROM no_such_view", "42P01", true},
		{"SELECT nope FROM v_user", "42703", true},
		{"SELECT data FROM v_user WHERE (\ntrue; DROP TABLE t_victim\n)", "42601", true},
		{"SELECT data FROM v_user WHERE f_write()", "25006", false},
		{"SELECT data FROM v_user WHERE (data->>'id')::int / 0 = 1", "22012", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			_, err := stream(t, cfg, tt.sql)
			var qe *wire.QueryError
			var pe *wire.PgError
			if !errors.As(err, &qe) || !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a QueryError from the server", err)
			}
			if pe.Code != tt.code || pe.Message == "" || pe.SeverityNonLocal != "ERROR" {
				t.Errorf("PgError = %+v, want code %s", pe, tt.code)
			}
			if (pe.Position > 0) != tt.position {
				t.Errorf("Position = %d, want present=%v", pe.Position, tt.position)
			}
		})
	}
}

func TestTransactionIsReadOnlyRepeatableRead(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false))
	sink, err := stream(t, cfg, "SELECT json_build_object('ro', current_setting('transaction_read_only'), 'iso', current_setting('transaction_isolation'), 'app', current_setting('application_name'), 'enc', current_setting('client_encoding'))")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ro" : "on", "iso" : "repeatable read", "app" : "fraise", "enc" : "UTF8"}`
	if len(sink.values) != 1 || string(sink.values[0]) != want {
		t.Errorf("session = %q, want %s", sink.values, want)
	}
}

func TestUnreachableServer(t *testing.T) {
	cfg := config(t, "host="+t.TempDir()+" port=1 user=u")
	_, err := wire.Connect(context.Background(), cfg)
	var ce *wire.ConnectError
	if !errors.As(err, &ce) || ce.Step != wire.StepDial || !strings.Contains(err.Error(), ".s.PGSQL.1") {
		t.Fatalf("err = %v, want a dial ConnectError naming the socket", err)
	}
}

func TestUnknownDatabase(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false)+" dbname=no_such_db")
	_, err := wire.Connect(context.Background(), cfg)
	var ce *wire.ConnectError
	var pe *wire.PgError
	code := unknownDatabase(srv)
	if !errors.As(err, &ce) || !errors.As(err, &pe) || pe.Code != code || pe.Message != `database "no_such_db" does not exist` {
		t.Fatalf("err = %v, want a ConnectError with %s saying the database does not exist", err, code)
	}
}

// TestSessionSettingsDoNotOutliveTheStream: a session-level set_config in
// the statement (as a --where could call) is undone with the
// transaction, so that the session — a pooler's server session, say —
// goes on as it was.
func TestSessionSettingsDoNotOutliveTheStream(t *testing.T) {
	srv := pgtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := wire.Connect(ctx, config(t, srv.ConnString(pgtest.RoleTrust, false)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sink collect
	if _, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT to_jsonb(set_config('fraise.leak', 'yes', false))"}, &sink, wire.Observer{}); err != nil {
		t.Fatal(err)
	}
	if len(sink.values) != 1 || string(sink.values[0]) != `"yes"` {
		t.Fatalf("stream = %q, want the setting made", sink.values)
	}
	var got []string
	err = conn.QueryText(ctx, "SELECT coalesce(current_setting('fraise.leak', true), '')", nil, func(v [][]byte) error {
		got = append(got, string(v[0]))
		return nil
	})
	if err != nil || len(got) != 1 || got[0] != "" {
		t.Errorf("after the stream, fraise.leak = %q (%v); want it unset, rolled back with the stream's transaction", got, err)
	}
}
