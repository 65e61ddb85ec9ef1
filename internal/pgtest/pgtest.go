package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Superuser is the bootstrap superuser of every cluster; it authenticates
// with trust, over the socket and over loopback TCP.
const Superuser = "fraise_super"

// Database is the database Start creates and loads the fixtures into.
const Database = "fraise_test"

// Login roles, one per authentication method configured in pg_hba.conf.
const (
	// RoleTrust logs in without a password (trust).
	RoleTrust = "fraise_trust"
	// RolePassword logs in with a cleartext password exchange (password).
	RolePassword = "fraise_password"
	// RoleMD5 logs in with md5; its password is stored as an MD5 hash.
	RoleMD5 = "fraise_md5"
	// RoleSCRAM logs in with scram-sha-256; its password is non-ASCII.
	RoleSCRAM = "fraise_scram"
)

// Login roles whose pg_hba.conf rules depend on TLS. Every cluster has
// them, but only one started with Options.TLS lets RoleTLSOnly and
// RoleCert in.
const (
	// RoleTLSOnly logs in with scram-sha-256 over TCP with TLS only
	// (hostssl); pg_hba.conf rejects it without TLS and over the socket.
	RoleTLSOnly = "fraise_tls_only"
	// RoleNoTLS logs in with scram-sha-256 over the socket and over TCP
	// without TLS only (hostnossl); pg_hba.conf rejects it over TLS, so
	// libpq's sslmode=prefer must fall back to a plain connection.
	RoleNoTLS = "fraise_no_tls"
	// RoleCert logs in over TCP with TLS only, by presenting a client
	// certificate signed by the cluster's CA whose common name is the role
	// (method cert; see TLSFiles.ClientCert); it has no password.
	RoleCert = "fraise_cert"
)

// passwords holds the password of each role that has one.
var passwords = map[string]string{
	RolePassword: "pw-cleartext",
	RoleMD5:      "pw-md5",
	RoleSCRAM:    "pw-scram-Ω",
	RoleTLSOnly:  "pw-tls-only",
	RoleNoTLS:    "pw-no-tls",
}

// Password returns the password of role, or "" for roles without one
// (Superuser, RoleTrust, RoleCert and unknown roles).
func Password(role string) string {
	return passwords[role]
}

// Server is a running throwaway cluster. Its fields describe it and must
// not be changed.
type Server struct {
	// BinDir is the directory holding initdb, pg_ctl and postgres.
	BinDir string
	// PsqlPath is the psql client used by Psql and PsqlCommand.
	PsqlPath string
	// Dir is the temporary directory holding everything of the cluster;
	// Close removes it.
	Dir string
	// DataDir is the cluster's data directory, inside Dir.
	DataDir string
	// SocketDir is the directory of the server's Unix socket, inside Dir.
	SocketDir string
	// LogFile is the server log, inside Dir.
	LogFile string
	// Port is the TCP port the server listens on, on loopback only.
	Port int
	// HasIPv6 reports whether the server also listens on [::1].
	HasIPv6 bool
	// Major is the server's major version, such as 15.
	Major int
	// TLS describes the client-side certificates and keys of a cluster
	// started with Options.TLS, and is nil otherwise. Connect to host
	// TLSServerName ("localhost") for sslmode=verify-full to succeed.
	TLS *TLSFiles
	// Pooler, when set, is the pooler the client-facing methods (ConnString,
	// URL, Env, ClientHost, ClientPort) lead to; psql as the superuser
	// (PsqlCommand, Psql, Await) still goes to the server directly. Shared
	// servers have one when PGTEST_POOLER asks for it.
	Pooler *Pooler

	kept      bool        // Options.Dir: Close leaves Dir
	cred      *credential // who runs initdb, pg_ctl and postgres; nil for the current user
	closeOnce sync.Once
	closeErr  error
}

// ConnString returns a libpq key=value connection string for role in
// Database, without a password: over the Unix socket, or over TCP to
// 127.0.0.1 when tcp is true.
func (s *Server) ConnString(role string, tcp bool) string {
	host := s.ClientSocketDir()
	if tcp {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s",
		quoteConnValue(host), s.ClientPort(), quoteConnValue(role), quoteConnValue(Database))
}

// ClientPort is the port clients connect to: the pooler's when there is
// one, else the server's.
func (s *Server) ClientPort() int {
	if s.Pooler != nil {
		return s.Pooler.Port
	}
	return s.Port
}

// ClientSocketDir is the socket directory clients connect to: the
// pooler's when there is one, else the server's.
func (s *Server) ClientSocketDir() string {
	if s.Pooler != nil {
		return s.Pooler.SocketDir
	}
	return s.SocketDir
}

// URL returns a postgres:// URL for role in Database over TCP to
// 127.0.0.1, including the role's password when withPassword is true and
// the role has one.
func (s *Server) URL(role string, withPassword bool) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.User(role),
		Host:   net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ClientPort())),
		Path:   "/" + Database,
	}
	if pw := Password(role); withPassword && pw != "" {
		u.User = url.UserPassword(role, pw)
	}
	return u.String()
}

// Env returns PGHOST, PGPORT and PGDATABASE entries pointing at the
// server's socket (the pooler's, when there is one), for the environment of CLI tests; it sets no user.
func (s *Server) Env() []string {
	return []string{
		"PGHOST=" + s.ClientSocketDir(),
		"PGPORT=" + strconv.Itoa(s.ClientPort()),
		"PGDATABASE=" + Database,
	}
}

// PsqlCommand returns a psql command connected as Superuser to Database
// over the socket, with -X -q -w -v ON_ERROR_STOP=1 -At followed by args and
// a clean environment (no inherited PG* variables, PGAPPNAME=pgtest).
// Later flags in args override the connection flags, so a test may pass
// -h, -U or -d of its own; it may also append to Env.
func (s *Server) PsqlCommand(ctx context.Context, args ...string) *exec.Cmd {
	full := []string{
		"-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-At",
		"-h", s.SocketDir, "-p", strconv.Itoa(s.Port), "-U", Superuser, "-d", Database,
	}
	cmd := exec.CommandContext(ctx, s.PsqlPath, append(full, args...)...)
	cmd.Env = append(cleanEnv(), "HOME="+s.Dir, "PGAPPNAME=pgtest", "PGCLIENTENCODING=UTF8")
	cmd.Dir = s.Dir
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// PsqlClient returns a psql command that connects with conninfo the way a
// user's shell would run it, for tests that use libpq as an oracle: no PG*
// variable from the test process, HOME set to home (so ~/.postgresql,
// ~/.pgpass and ~/.pg_service.conf come from there alone), messages in
// English, then -X -w -At -d conninfo followed by args. A test may append
// to Env.
func (s *Server) PsqlClient(ctx context.Context, home, conninfo string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.PsqlPath, append([]string{"-X", "-w", "-At", "-d", conninfo}, args...)...)
	for _, kv := range cleanEnv() {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "LC_ALL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home, "LC_ALL=C")
	cmd.Dir = home
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// Psql runs sql (fed on stdin) through PsqlCommand with args and returns
// its standard output; a failure's error includes psql's standard error.
func (s *Server) Psql(ctx context.Context, sql string, args ...string) (string, error) {
	cmd := s.PsqlCommand(ctx, args...)
	cmd.Stdin = strings.NewReader(sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("pgtest: psql: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// quoteConnValue quotes a libpq connection string value when needed.
func quoteConnValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r'\\") {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
}

// cleanEnv returns the process environment without any PG* variable.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// Await runs sql as the superuser until its output, trimmed, equals want,
// and returns an error saying what it last saw if ctx ends first. It is for
// waiting on server-side events, such as a backend appearing in or leaving
// pg_stat_activity, without fixed sleeps.
func (s *Server) Await(ctx context.Context, sql, want string) error {
	var out string
	var err error
	for {
		if out, err = s.Psql(ctx, sql); err == nil && strings.TrimSpace(out) == want {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("pgtest: %s: got %q (%v), want %q", sql, strings.TrimSpace(out), err, want)
		}
		// The server's own sleep paces the polling.
		_, _ = s.Psql(ctx, "SELECT pg_sleep(0.05)")
	}
}
