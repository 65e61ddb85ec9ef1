package wire_test

// Integration tests of channel_binding, require_auth, client certificates,
// TLS error reporting and cancellation over TLS, against real PostgreSQL
// servers (internal/pgtest), with psql (libpq) as an oracle where the
// installed libpq supports the setting.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// taQuote quotes a libpq key=value connection string value when needed.
func taQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r'\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// taConninfo builds a conninfo for role in pgtest.Database at host on the
// server's port, followed by the keyword/value pairs of kv (in order).
func taConninfo(srv *pgtest.Server, host, role string, kv ...string) string {
	parts := []string{
		"host=" + taQuote(host),
		"port=" + strconv.Itoa(srv.ClientPort()),
		"user=" + taQuote(role),
		"dbname=" + taQuote(pgtest.Database),
	}
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+"="+taQuote(kv[i+1]))
	}
	return strings.Join(parts, " ")
}

// taEnv is an Environment without PG* variables whose home is home.
func taEnv(home string) wire.Environment {
	return wire.Environment{
		LookupEnv: func(string) (string, bool) { return "", false },
		Username:  func() (string, error) { return "nobody-in-particular", nil },
		HomeDir:   func() (string, error) { return home, nil },
	}
}

// taConnect parses conninfo with env and connects, within a bounded time.
// A ConfigError from ParseConfig fails the test.
func taConnect(t *testing.T, conninfo string, env wire.Environment) (*wire.Conn, error) {
	t.Helper()
	cfg, err := wire.ParseConfig(conninfo, env)
	if err != nil {
		t.Fatalf("ParseConfig(%q): %v", conninfo, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return wire.Connect(ctx, cfg)
}

// taValue runs sql (one json column, one row) on conn and returns its text.
func taValue(t *testing.T, conn *wire.Conn, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var sink collect
	if _, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: sql}, &sink, wire.Observer{}); err != nil {
		t.Fatalf("Stream(%q): %v", sql, err)
	}
	if len(sink.values) != 1 {
		t.Fatalf("Stream(%q): %d rows, want 1", sql, len(sink.values))
	}
	return string(sink.values[0])
}

const (
	taSSLInUse  = "SELECT to_json(ssl) FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
	taClientDN  = "SELECT to_json(client_dn) FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
	taCurrentID = "SELECT to_json(current_user)"
)

// taPsql runs psql (the installed libpq) with conninfo and SELECT 1, with
// no PG* variables and HOME set to home (an empty directory when home is
// ""). It returns whether psql connected, and what it printed.
func taPsql(t *testing.T, srv *pgtest.Server, conninfo, home string) (bool, string) {
	t.Helper()
	if home == "" {
		home = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := srv.PsqlClient(ctx, home, conninfo, "-c", "SELECT 1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("psql %q: %v", conninfo, ctx.Err())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("psql %q: %v", conninfo, err)
	}
	out := strings.TrimSpace(stdout.String() + stderr.String())
	if err == nil && strings.TrimSpace(stdout.String()) != "1" {
		t.Fatalf("psql %q printed %q, want 1", conninfo, out)
	}
	return err == nil, out
}

// taAuthRefusal checks that err is a client-side refusal at the
// authentication step: a ConnectError at StepAuth naming the host and user,
// holding an AuthError whose message contains want, and no server error (the
// server never saw a password or a refusal of one).
func taAuthRefusal(t *testing.T, err error, host, user, want string) *wire.AuthError {
	t.Helper()
	if err == nil {
		t.Fatalf("Connect succeeded, want an error containing %q", want)
	}
	var ce *wire.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %T %v, want a *wire.ConnectError", err, err)
	}
	if ce.Step != wire.StepAuth || ce.Host != host || ce.User != user {
		t.Errorf("ConnectError step %q host %q user %q, want %q %q %q", ce.Step, ce.Host, ce.User, wire.StepAuth, host, user)
	}
	var ae *wire.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want a client-side *wire.AuthError", err)
	}
	if !strings.Contains(ae.Msg, want) {
		t.Errorf("AuthError %q does not contain %q", ae.Msg, want)
	}
	var pe *wire.PgError
	if errors.As(err, &pe) {
		t.Errorf("the server reported %v: the client did not refuse on its own", pe)
	}
	if len(ce.Others) != 0 {
		t.Errorf("other attempts were made after the refusal: %v", err)
	}
	return ae
}

// taServerRefusal checks that err is the server's refusal (SQLSTATE code)
// carried by a ConnectError naming host and user, whose text contains want.
func taServerRefusal(t *testing.T, err error, host, user, code, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Connect succeeded, want the server's %s", code)
	}
	var ce *wire.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %T %v, want a *wire.ConnectError", err, err)
	}
	if ce.Host != host || ce.User != user {
		t.Errorf("ConnectError host %q user %q, want %q %q", ce.Host, ce.User, host, user)
	}
	var pe *wire.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("err = %v, want a server error with SQLSTATE %s", err, code)
	}
	if !strings.Contains(pe.Message, want) {
		t.Errorf("server message %q does not contain %q", pe.Message, want)
	}
	var ae *wire.AuthError
	if errors.As(err, &ae) {
		t.Errorf("err also holds a client-side AuthError %q", ae.Msg)
	}
}

func TestChannelBindingRequire(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	f := srv.TLS
	host := pgtest.TLSServerName + ":" + strconv.Itoa(srv.ClientPort())
	const (
		notBound     = "channel binding required, but server authenticated client without channel binding"
		notSupported = "channel binding required but not supported by server's authentication request"
		noSSL        = "channel binding required, but SSL not in use"
		// PgBouncer offers SCRAM-SHA-256 only, never SCRAM-SHA-256-PLUS:
		// it does not support channel binding.
		noPlus = "channel binding is required, but server did not offer an authentication method that supports channel binding"
	)
	tests := []struct {
		name     string
		role     string
		password bool   // put the role's password in the conninfo
		sslmode  string // "" is verify-full
		binding  string // "" is require
		want     string // "" means success
		pooled   string // want behind PgBouncer, when it differs
	}{
		{"trust", pgtest.RoleTrust, false, "", "", notBound, ""},
		// Refused before the password is even looked up: with no password
		// at hand, the error is still the binding one, not "no password
		// supplied"; with one, the server never sees it (no 28P01).
		{"cleartext with password", pgtest.RolePassword, true, "", "", notSupported, ""},
		{"cleartext without password", pgtest.RolePassword, false, "", "", notSupported, ""},
		{"md5 with password", pgtest.RoleMD5, true, "", "", notSupported, ""},
		{"md5 without password", pgtest.RoleMD5, false, "", "", notSupported, ""},
		{"scram without TLS", pgtest.RoleSCRAM, true, "disable", "", noSSL, ""},
		{"scram without TLS, no password", pgtest.RoleSCRAM, false, "disable", "", noSSL, ""},
		{"scram over TLS", pgtest.RoleSCRAM, true, "", "", "", noPlus},
		{"scram over TLS, sslmode=require", pgtest.RoleSCRAM, true, "require", "", "", noPlus},
		{"scram over TLS, channel_binding=disable", pgtest.RoleSCRAM, true, "", "disable", "", ""},
		{"scram over TLS, channel_binding=prefer", pgtest.RoleSCRAM, true, "", "prefer", "", ""},
		{"trust, channel_binding=prefer", pgtest.RoleTrust, false, "", "prefer", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mode, binding := tt.sslmode, tt.binding
			if mode == "" {
				mode = wire.SSLVerifyFull
			}
			if binding == "" {
				binding = "require"
			}
			want := tt.want
			if srv.Pooler != nil && tt.pooled != "" {
				want = tt.pooled
			}
			kv := []string{"sslmode", mode, "sslrootcert", f.CACert, "channel_binding", binding}
			if tt.password {
				kv = append(kv, "password", pgtest.Password(tt.role))
			}
			conninfo := taConninfo(srv, pgtest.TLSServerName, tt.role, kv...)

			conn, err := taConnect(t, conninfo, isolated(t))
			if want != "" {
				if conn != nil {
					_ = conn.Close()
				}
				ae := taAuthRefusal(t, err, host, tt.role, want)
				if !strings.Contains(ae.Hint, "channel_binding") {
					t.Errorf("hint %q does not mention channel_binding", ae.Hint)
				}
				if strings.Contains(err.Error(), "no password supplied") {
					t.Errorf("the password was looked up before the refusal: %v", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				defer conn.Close()
				wantMethod := "scram-sha-256"
				if tt.role == pgtest.RoleTrust {
					wantMethod = "trust"
				}
				if conn.AuthMethod() != wantMethod {
					t.Errorf("AuthMethod() = %q, want %q", conn.AuthMethod(), wantMethod)
				}
				if !sessionTLS(t, srv, conn) {
					t.Error("the session does not use TLS")
				}
				if got := taValue(t, conn, taCurrentID); got != strconv.Quote(tt.role) {
					t.Errorf("current_user = %s, want %q", got, tt.role)
				}
			}

			// libpq agrees, with the same words.
			ok, out := taPsql(t, srv, conninfo, "")
			switch {
			case ok != (want == ""):
				t.Errorf("psql connected=%v (%q), fraise connected=%v", ok, out, want == "")
			case !ok && !strings.Contains(out, want):
				t.Errorf("psql says %q, want it to contain %q", out, want)
			}
		})
	}
}

// TestRequireAuth follows src/test/authentication/t/001_password.pl
// (PostgreSQL 16). The installed libpq (15) has no require_auth, so there
// is no psql oracle here.
func TestRequireAuth(t *testing.T) {
	srv := pgtest.Require(t)
	host := "127.0.0.1:" + strconv.Itoa(srv.ClientPort())
	const (
		incomplete = "server did not complete authentication"
		cleartext  = "server requested a cleartext password"
		hashed     = "server requested a hashed password"
		sasl       = "server requested SASL authentication"
		scramNeg   = "server requested SCRAM-SHA-256 authentication"
	)
	roles := []struct {
		role, method string
		ok           []string
		fail         [][2]string // require_auth, reason
	}{
		{pgtest.RoleTrust, "trust",
			[]string{"!gss", "!sspi", "!password", "!md5", "!scram-sha-256", "!password,!scram-sha-256", "none", "none,password"},
			[][2]string{
				{"gss", incomplete}, {"sspi", incomplete}, {"password", incomplete}, {"md5", incomplete},
				{"scram-sha-256", incomplete}, {"password,scram-sha-256", incomplete}, {"!none", incomplete},
			}},
		{pgtest.RolePassword, "password",
			[]string{"password", "!none", "scram-sha-256,password,md5", "!md5,!scram-sha-256"},
			[][2]string{
				{"md5", cleartext}, {"scram-sha-256", cleartext}, {"none", cleartext},
				{"!password", cleartext}, {"!password,!md5,!scram-sha-256", cleartext},
			}},
		{pgtest.RoleMD5, "md5",
			[]string{"md5", "!none", "md5,scram-sha-256,password", "!password"},
			[][2]string{
				{"password", hashed}, {"scram-sha-256", hashed}, {"none", hashed},
				{"!md5", hashed}, {"!password,!md5,!scram-sha-256", hashed},
			}},
		{pgtest.RoleSCRAM, "scram-sha-256",
			[]string{"scram-sha-256", "!none", "password,scram-sha-256,md5", "!password,!md5"},
			[][2]string{
				{"password", sasl}, {"md5", sasl}, {"none", sasl},
				{"!scram-sha-256", scramNeg}, {"!password,!md5,!scram-sha-256", scramNeg},
			}},
	}
	for _, r := range roles {
		base := srv.ConnString(r.role, true) + " sslmode=disable"
		for _, req := range r.ok {
			t.Run(r.role+"/ok/"+req, func(t *testing.T) {
				t.Parallel()
				conninfo := base + " require_auth=" + taQuote(req)
				if pw := pgtest.Password(r.role); pw != "" {
					conninfo += " password=" + taQuote(pw)
				}
				conn, err := taConnect(t, conninfo, isolated(t))
				if err != nil {
					t.Fatalf("require_auth=%s: %v", req, err)
				}
				defer conn.Close()
				if conn.AuthMethod() != r.method {
					t.Errorf("AuthMethod() = %q, want %q", conn.AuthMethod(), r.method)
				}
				if got := taValue(t, conn, taCurrentID); got != strconv.Quote(r.role) {
					t.Errorf("current_user = %s, want %q", got, r.role)
				}
			})
		}
		for _, fc := range r.fail {
			req, reason := fc[0], fc[1]
			for _, withPassword := range []bool{true, false} {
				if withPassword && pgtest.Password(r.role) == "" {
					continue
				}
				t.Run(fmt.Sprintf("%s/fail/%s/password=%v", r.role, req, withPassword), func(t *testing.T) {
					t.Parallel()
					conninfo := base + " require_auth=" + taQuote(req)
					if withPassword {
						conninfo += " password=" + taQuote(pgtest.Password(r.role))
					}
					conn, err := taConnect(t, conninfo, isolated(t))
					if conn != nil {
						_ = conn.Close()
					}
					want := fmt.Sprintf("authentication method requirement %q failed: %s", req, reason)
					ae := taAuthRefusal(t, err, host, r.role, want)
					if ae.Msg != want {
						t.Errorf("AuthError %q, want exactly %q", ae.Msg, want)
					}
					if !strings.Contains(ae.Hint, "require_auth") {
						t.Errorf("hint %q does not mention require_auth", ae.Hint)
					}
					if strings.Contains(err.Error(), "no password supplied") {
						t.Errorf("the password was looked up before the refusal: %v", err)
					}
				})
			}
		}
	}
}

// taCopy copies src to dst with mode perm (whatever the umask).
func taCopy(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, perm); err != nil {
		t.Fatal(err)
	}
}

func TestClientCertificate(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	f := srv.TLS
	host := pgtest.TLSServerName + ":" + strconv.Itoa(srv.ClientPort())
	dir := t.TempDir()

	key0644 := filepath.Join(dir, "key-0644.key")
	taCopy(t, f.ClientKey, key0644, 0o644)
	key0600 := filepath.Join(dir, "key-0600.key")
	taCopy(t, f.ClientKey, key0600, 0o600)
	keyDir := filepath.Join(dir, "key-is-a-dir")
	if err := os.Mkdir(keyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	missingCert := filepath.Join(dir, "no-such.crt")

	// A home whose ~/.postgresql holds the defaults libpq looks for.
	home := filepath.Join(dir, "home")
	taCopy(t, f.ClientCert, filepath.Join(home, ".postgresql", "postgresql.crt"), 0o644)
	taCopy(t, f.ClientKey, filepath.Join(home, ".postgresql", "postgresql.key"), 0o600)
	taCopy(t, f.CACert, filepath.Join(home, ".postgresql", "root.crt"), 0o644)
	emptyHome := filepath.Join(dir, "empty-home")
	if err := os.Mkdir(emptyHome, 0o700); err != nil {
		t.Fatal(err)
	}

	const (
		needCert = "connection requires a valid client certificate"
		cnDN     = `"/CN=` + pgtest.RoleCert + `"`
	)
	type result int
	const (
		loggedIn      result = iota
		configError          // *wire.ConfigError before any connection
		serverRefusal        // the server's 28000
		poolerRefusal        // PgBouncer's 08P01, before authentication
		clientRefusal        // a client-side AuthError at StepAuth
		tlsFailure           // a ConnectError from the handshake
	)
	tests := []struct {
		name   string
		role   string
		home   string   // "" is emptyHome
		kv     []string // after host, port, user, dbname
		psql   bool     // libpq 15 understands every setting: compare with psql
		result result
		want   string // for errors: what the message must contain; for loggedIn: client_dn
		names  []string
	}{
		{"cert and key", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", f.ClientKey},
			true, loggedIn, cnDN, nil},
		{"cert signed by the wrong CA", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.WrongClientCert, "sslkey", f.WrongClientKey},
			true, tlsFailure, "certificate", nil},
		{"key of another certificate", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", f.WrongClientKey},
			true, configError, "", []string{f.ClientCert, f.WrongClientKey}},
		{"key with mode 0644", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", key0644},
			true, configError, "has group or world access", []string{key0644}},
		{"key with mode 0600", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", key0600},
			true, loggedIn, cnDN, nil},
		{"key is a directory", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", keyDir},
			true, configError, "is not a regular file", []string{keyDir}},
		{"no certificate file", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", missingCert},
			true, serverRefusal, needCert, nil},
		{"defaults from ~/.postgresql", pgtest.RoleCert, home,
			[]string{"sslmode", "verify-full"},
			true, loggedIn, cnDN, nil},
		{"empty home: no certificate", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert},
			true, serverRefusal, needCert, nil},
		// sslcertmode is PostgreSQL 16 libpq: no psql oracle with libpq 15.
		{"sslcertmode=disable", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", f.ClientKey, "sslcertmode", "disable"},
			false, serverRefusal, needCert, nil},
		{"sslcertmode=disable with a mismatched key is not read", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", f.WrongClientKey, "sslcertmode", "disable"},
			false, serverRefusal, needCert, nil},
		{"sslcertmode=require", pgtest.RoleCert, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", f.ClientKey, "sslcertmode", "require"},
			false, loggedIn, cnDN, nil},
		// The server has ssl_ca_file, so it asks every TLS client for a
		// certificate (SSL_VERIFY_PEER), whatever the pg_hba.conf rule.
		{"sslcertmode=require, scram role, cert sent", pgtest.RoleSCRAM, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", f.ClientCert, "sslkey", f.ClientKey, "sslcertmode", "require", "password", pgtest.Password(pgtest.RoleSCRAM)},
			false, loggedIn, cnDN, nil},
		{"sslcertmode=require, scram role, no cert", pgtest.RoleSCRAM, "",
			[]string{"sslmode", "verify-full", "sslrootcert", f.CACert, "sslcert", missingCert, "sslcertmode", "require", "password", pgtest.Password(pgtest.RoleSCRAM)},
			false, clientRefusal, "server accepted connection without a valid SSL certificate", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, want := tt.result, tt.want
			if srv.Pooler != nil {
				switch {
				case res == loggedIn && tt.role == pgtest.RoleCert:
					t.Skipf("behind PgBouncer: it checks the client certificate itself and logs in to the server without one, which the server's cert rule refuses")
				case res == serverRefusal:
					// PgBouncer applies the cert rule itself, before any
					// authentication exchange.
					res, want = poolerRefusal, "certificate authentication failed"
				}
			}
			h := tt.home
			if h == "" {
				h = emptyHome
			}
			conninfo := taConninfo(srv, pgtest.TLSServerName, tt.role, tt.kv...)
			conn, err := taConnect(t, conninfo, taEnv(h))
			if conn != nil && res != loggedIn {
				_ = conn.Close()
				t.Fatalf("Connect succeeded, want a failure containing %q", want)
			}
			switch res {
			case loggedIn:
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				defer conn.Close()
				if got := taValue(t, conn, taCurrentID); got != strconv.Quote(tt.role) {
					t.Errorf("current_user = %s, want %q", got, tt.role)
				}
				// Behind a pooler, pg_stat_ssl describes the pooler's own
				// link to the server, which has no client certificate.
				if got := taValue(t, conn, taClientDN); srv.Pooler == nil && got != want {
					t.Errorf("pg_stat_ssl.client_dn = %s, want %s", got, want)
				}
			case configError:
				var cfe *wire.ConfigError
				if !errors.As(err, &cfe) {
					t.Fatalf("err = %T %v, want a *wire.ConfigError", err, err)
				}
				var ce *wire.ConnectError
				if errors.As(err, &ce) {
					t.Errorf("err %v is a ConnectError: the files were read after connecting", err)
				}
				if cfe.Keyword != "sslkey" {
					t.Errorf("ConfigError keyword %q, want sslkey", cfe.Keyword)
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
				for _, n := range tt.names {
					if !strings.Contains(err.Error(), n) {
						t.Errorf("error %q does not name %s", err, n)
					}
				}
			case serverRefusal, poolerRefusal:
				code, step := "28000", wire.StepAuth
				if res == poolerRefusal {
					code, step = "08P01", wire.StepStartup
				}
				taServerRefusal(t, err, host, tt.role, code, want)
				var ce *wire.ConnectError
				if errors.As(err, &ce) && ce.Step != step {
					t.Errorf("step %q, want %q", ce.Step, step)
				}
			case clientRefusal:
				ae := taAuthRefusal(t, err, host, tt.role, want)
				if !strings.Contains(ae.Hint, "sslcert") {
					t.Errorf("hint %q does not mention sslcert", ae.Hint)
				}
			case tlsFailure:
				// The server's alert races with its hanging up: try a few
				// times, since the alert must be reported every time (libpq
				// reads the server's answer before reporting a failed write).
				lost := 0
				for i := 0; ; i++ {
					var ce *wire.ConnectError
					if !errors.As(err, &ce) {
						t.Fatalf("err = %T %v, want a *wire.ConnectError", err, err)
					}
					if ce.Host != host || ce.User != tt.role {
						t.Errorf("ConnectError host %q user %q, want %q %q", ce.Host, ce.User, host, tt.role)
					}
					if wire.SQLState(err) != "" {
						t.Errorf("err %v carries a server error, want the handshake's", err)
					}
					msg := err.Error()
					if !strings.Contains(msg, strconv.Quote(host)) || !strings.Contains(msg, strconv.Quote(tt.role)) {
						t.Errorf("error %q does not name the host and the user", msg)
					}
					if !strings.Contains(msg, want) {
						if lost == 0 {
							t.Errorf("attempt %d: error %q does not contain %q: the server's TLS alert was lost", i, msg, want)
						}
						lost++
					}
					if i == 19 {
						break
					}
					if conn, err = taConnect(t, conninfo, taEnv(h)); conn != nil {
						_ = conn.Close()
						t.Fatal("Connect succeeded with a certificate of the wrong CA")
					}
				}
				if lost > 0 {
					t.Errorf("the server's alert was lost in %d of 20 attempts", lost)
				}
			}
			if !tt.psql {
				return
			}
			ok, out := taPsql(t, srv, conninfo, h)
			switch {
			case ok != (res == loggedIn):
				t.Errorf("psql connected=%v (%q), fraise connected=%v", ok, out, res == loggedIn)
			case res == tlsFailure && !strings.Contains(out, "alert unknown ca"):
				t.Errorf("psql says %q, want the server's alert (unknown ca)", out)
			case !ok && res != tlsFailure && want != "" && !strings.Contains(out, want):
				t.Errorf("psql says %q, want it to contain %q", out, want)
			}
		})
	}

	// A server that never asks for a certificate: the plain cluster, with
	// sslmode=prefer falling back to no TLS.
	t.Run("sslcertmode=require, server without TLS", func(t *testing.T) {
		t.Parallel()
		plain := pgtest.Require(t)
		conninfo := taConninfo(plain, "127.0.0.1", pgtest.RoleTrust,
			"sslmode", "prefer", "sslcert", f.ClientCert, "sslkey", f.ClientKey, "sslcertmode", "require")
		conn, err := taConnect(t, conninfo, taEnv(emptyHome))
		if conn != nil {
			_ = conn.Close()
		}
		taAuthRefusal(t, err, "127.0.0.1:"+strconv.Itoa(plain.ClientPort()), pgtest.RoleTrust, "server did not request an SSL certificate")
	})
}

func TestTLSErrorsNameHostUserStep(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	f := srv.TLS
	port := strconv.Itoa(srv.ClientPort())
	tests := []struct {
		name, host, rootCert string
		want                 []string // in fraise's error
		psqlWant             string   // in psql's
	}{
		{"wrong CA", pgtest.TLSServerName, f.WrongCACert,
			[]string{"certificate", "server certificate verification failed"}, "certificate verify failed"},
		{"host name mismatch", "127.0.0.1", f.CACert,
			[]string{`server certificate for "localhost" (and 1 other name) does not match host name "127.0.0.1"`},
			`server certificate for "localhost" (and 1 other name) does not match host name "127.0.0.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conninfo := taConninfo(srv, tt.host, pgtest.RoleSCRAM,
				"sslmode", "verify-full", "sslrootcert", tt.rootCert, "password", pgtest.Password(pgtest.RoleSCRAM))
			conn, err := taConnect(t, conninfo, isolated(t))
			if err == nil {
				_ = conn.Close()
				t.Fatal("Connect succeeded, want a verification failure")
			}
			var ce *wire.ConnectError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %T %v, want a *wire.ConnectError", err, err)
			}
			wantHost := tt.host + ":" + port
			if ce.Step != wire.StepVerify || ce.Host != wantHost || ce.User != pgtest.RoleSCRAM || ce.Addr != "127.0.0.1:"+port {
				t.Errorf("ConnectError step %q host %q addr %q user %q, want %q %q %q %q",
					ce.Step, ce.Host, ce.Addr, ce.User, wire.StepVerify, wantHost, "127.0.0.1:"+port, pgtest.RoleSCRAM)
			}
			var certErr *wire.CertError
			if !errors.As(err, &certErr) {
				t.Errorf("err %v holds no *wire.CertError", err)
			}
			msg := err.Error()
			for _, w := range append(tt.want, strconv.Quote(wantHost), strconv.Quote(pgtest.RoleSCRAM), string(wire.StepVerify)) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, pgtest.Password(pgtest.RoleSCRAM)) {
				t.Errorf("the password appears in the error: %q", msg)
			}
			ok, out := taPsql(t, srv, conninfo, "")
			if ok || !strings.Contains(out, tt.psqlWant) {
				t.Errorf("psql connected=%v, said %q; want a failure containing %q", ok, out, tt.psqlWant)
			}
		})
	}
}

func TestCancelOverTLS(t *testing.T) {
	t.Parallel()
	srv := pgtest.RequireTLS(t)
	app := fmt.Sprintf("fraise_cancel_tls_%d", time.Now().UnixNano())
	conninfo := taConninfo(srv, pgtest.TLSServerName, pgtest.RoleTrust,
		"sslmode", "verify-full", "sslrootcert", srv.TLS.CACert, "application_name", app)
	conn, err := taConnect(t, conninfo, isolated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// No deadline on the statement: only Cancel can stop it early (a
	// context ending would cancel by itself and hide a broken Cancel).
	type outcome struct {
		err     error
		elapsed time.Duration
	}
	done := make(chan outcome, 1)
	start := time.Now()
	go func() {
		var sink collect
		_, err := conn.Stream(wire.NewStop(context.Background(), nil), wire.Statement{SQL: "SELECT to_json(pg_sleep(30))"}, &sink, wire.Observer{})
		done <- outcome{err, time.Since(start)}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	running := fmt.Sprintf(`SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
		WHERE a.application_name = '%s' AND a.state = 'active' AND a.query LIKE '%%pg_sleep(30)%%' AND s.ssl`, app)
	if err := srv.Await(ctx, running, "1"); err != nil {
		t.Fatalf("the query never showed as running over TLS: %v", err)
	}
	cancelErr := make(chan error, 1)
	go func() { cancelErr <- conn.Cancel(ctx) }()

	select {
	case o := <-done:
		if wire.SQLState(o.err) != "57014" {
			t.Errorf("Stream = %v, want SQLSTATE 57014 (query_canceled)", o.err)
		}
		var qe *wire.QueryError
		if !errors.As(o.err, &qe) {
			t.Errorf("Stream error %T is not a *wire.QueryError", o.err)
		}
		if o.elapsed > 15*time.Second {
			t.Errorf("the statement ran for %v: it was not cancelled", o.elapsed)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("Stream did not return")
	}
	if err := <-cancelErr; err != nil {
		t.Errorf("Cancel: %v", err)
	}
	// The server stopped the statement: the backend is no longer active.
	if err := srv.Await(ctx, running, "0"); err != nil {
		t.Errorf("the statement still runs on the server: %v", err)
	}
}
