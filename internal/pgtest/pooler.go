// A connection pooler in front of a cluster: PgBouncer (the Debian package
// pgbouncer), run as the cluster's owner on a free loopback port, with the
// cluster's pg_hba rules and a userlist made from its pg_authid secrets
// (and pg_authid itself, through auth_query, for roles made later), so
// that every role logs in through it as it does directly.

package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ErrNoPooler is wrapped by the error StartPgBouncer returns when the
// pgbouncer binary cannot be found.
var ErrNoPooler = errors.New("pgtest: pgbouncer not found (Debian/Ubuntu: apt-get install pgbouncer; or set PGBOUNCER to its path)")

// PoolerOptions say how to run a pooler.
type PoolerOptions struct {
	// Mode is PgBouncer's pool_mode: "transaction" or "session".
	Mode string
	// PoolSize is the server connections per user and database
	// (default_pool_size); 0 means 20.
	PoolSize int
	// TLS lets clients connect with TLS, the pooler presenting the
	// cluster's server certificate (the cluster must have been started
	// with Options.TLS); without it clients cannot use TLS.
	TLS bool
}

// Pooler is a running PgBouncer in front of a Server. Its fields describe
// it and must not be changed.
type Pooler struct {
	// Kind is "pgbouncer".
	Kind string
	// Mode is the pool mode.
	Mode string
	// TLS reports whether clients may connect with TLS.
	TLS bool
	// Port is the TCP port it listens on, on 127.0.0.1 only.
	Port int
	// SocketDir is the directory of its Unix socket.
	SocketDir string
	// Dir holds its configuration, socket and log.
	Dir string
	// LogFile is its log.
	LogFile string

	server    *Server
	cmd       *exec.Cmd
	exited    chan struct{}
	closeOnce sync.Once
}

// StartPgBouncer starts PgBouncer in front of s. The caller must Close it
// before s.
func (s *Server) StartPgBouncer(ctx context.Context, opts PoolerOptions) (*Pooler, error) {
	bin, err := pgbouncerPath()
	if err != nil {
		return nil, err
	}
	if opts.Mode != "transaction" && opts.Mode != "session" {
		return nil, fmt.Errorf("pgtest: pool mode %q: want transaction or session", opts.Mode)
	}
	if opts.TLS && s.TLS == nil {
		return nil, errors.New("pgtest: a pooler with TLS needs a cluster started with Options.TLS")
	}
	p := &Pooler{Kind: "pgbouncer", Mode: opts.Mode, TLS: opts.TLS, server: s, exited: make(chan struct{})}
	if p.Dir, err = os.MkdirTemp(s.Dir, "pgbouncer-"+opts.Mode+"-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	p.SocketDir = filepath.Join(p.Dir, "sock")
	p.LogFile = filepath.Join(p.Dir, "log")
	if err := os.Chmod(p.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := chownTo(p.Dir, s.cred); err != nil {
		return nil, err
	}
	if err := s.mkdirOwned(p.SocketDir, 0o755); err != nil {
		return nil, err
	}
	if err := p.writeAuth(ctx); err != nil {
		return nil, err
	}
	port, err := freePort(false)
	if err != nil {
		return nil, err
	}
	p.Port = port
	if err := p.writeIni(opts); err != nil {
		return nil, err
	}
	return p, p.start(ctx, bin)
}

// pgbouncerPath finds the pgbouncer binary: $PGBOUNCER, PATH, then
// Debian's /usr/sbin.
func pgbouncerPath() (string, error) {
	if p := os.Getenv("PGBOUNCER"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	if fileExists("/usr/sbin/pgbouncer") {
		return "/usr/sbin/pgbouncer", nil
	}
	return "", ErrNoPooler
}

// writeAuth writes the pooler's hba file, the cluster's rules, and its
// userlist: every login role with its pg_authid secret (SCRAM or MD5), or
// an empty one for the roles without a password, which PgBouncer wants
// listed all the same.
func (p *Pooler) writeAuth(ctx context.Context) error {
	out, err := p.server.Psql(ctx, `SELECT rolname, coalesce(rolpassword, '') FROM pg_authid WHERE rolcanlogin ORDER BY 1`, "-F", "\t")
	if err != nil {
		return fmt.Errorf("pgtest: reading pg_authid for the pooler's userlist: %w", err)
	}
	var users strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, secret, _ := strings.Cut(line, "\t")
		if name == RolePassword {
			// PgBouncer checks a cleartext password (method password)
			// only against a cleartext entry, not against a SCRAM secret.
			secret = Password(name)
		}
		fmt.Fprintf(&users, "%s %s\n", strconv.Quote(name), strconv.Quote(secret))
	}
	files := map[string]string{"userlist.txt": users.String(), "hba.conf": hbaText(false)}
	for name, text := range files {
		path := filepath.Join(p.Dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		if err := chownTo(path, p.server.cred); err != nil {
			return err
		}
	}
	return nil
}

// writeIni writes pgbouncer.ini. The pooler reaches the cluster over TCP
// (TLS when the cluster has it), so that the cluster's hostssl and
// hostnossl rules apply to it as to a client.
func (p *Pooler) writeIni(opts PoolerOptions) error {
	s := p.server
	size := opts.PoolSize
	if size == 0 {
		size = 20
	}
	serverTLS := "disable"
	if s.TLS != nil {
		serverTLS = "prefer"
	}
	lines := []string{
		"[databases]",
		fmt.Sprintf("* = host=127.0.0.1 port=%d", s.Port),
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = " + strconv.Itoa(p.Port),
		"unix_socket_dir = " + p.SocketDir,
		"auth_type = hba",
		"auth_hba_file = " + filepath.Join(p.Dir, "hba.conf"),
		"auth_file = " + filepath.Join(p.Dir, "userlist.txt"),
		// Roles made after the pooler started (a test's own) are looked
		// up in pg_authid, as the superuser, when they log in.
		"auth_user = " + Superuser,
		"auth_query = SELECT rolname, rolpassword FROM pg_authid WHERE rolname = $1 AND rolcanlogin",
		"pool_mode = " + opts.Mode,
		"default_pool_size = " + strconv.Itoa(size),
		"max_client_conn = 500",
		// A login the server refused (a role its hba rules keep from the
		// pooler's own link) is retried after 1 s, not 15: clients queued
		// behind it wait that long before they hear.
		"server_login_retry = 1",
		"logfile = " + p.LogFile,
		"server_tls_sslmode = " + serverTLS,
	}
	if opts.TLS {
		lines = append(lines,
			"client_tls_sslmode = allow",
			"client_tls_cert_file = "+filepath.Join(s.DataDir, "server.crt"),
			"client_tls_key_file = "+filepath.Join(s.DataDir, "server.key"),
			"client_tls_ca_file = "+s.TLS.CACert)
	}
	path := filepath.Join(p.Dir, "pgbouncer.ini")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return chownTo(path, s.cred)
}

// start runs pgbouncer in the foreground, as the cluster's owner, and
// waits until its socket accepts connections.
func (p *Pooler) start(ctx context.Context, bin string) error {
	cmd := exec.Command(bin, filepath.Join(p.Dir, "pgbouncer.ini"))
	cmd.Env = append(cleanEnv(), "HOME="+p.Dir, "LC_ALL=C")
	cmd.Dir = p.Dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	runAs(cmd, p.server.cred)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: starting pgbouncer: %w", err)
	}
	p.cmd = cmd
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	sock := filepath.Join(p.SocketDir, ".s.PGSQL."+strconv.Itoa(p.Port))
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("pgtest: pgbouncer exited at start: %s\n%s", bytes.TrimSpace(stderr.Bytes()), logTail(p.LogFile, 20))
		case <-ctx.Done():
			_ = p.Close()
			return fmt.Errorf("pgtest: pgbouncer did not listen on %s: %w\n%s", sock, ctx.Err(), logTail(p.LogFile, 20))
		case <-time.After(delay): // polling its socket, as pg_ctl -w polls the server's
		}
	}
}

// Close stops the pooler (SIGTERM, then SIGKILL after 10 s) and waits for
// it to exit. It returns an error, with the end of the pooler's log, when
// the pooler had already exited: the tests that used it were talking to
// nothing.
func (p *Pooler) Close() error {
	var err error
	p.closeOnce.Do(func() {
		if p.cmd == nil || p.cmd.Process == nil {
			return
		}
		select {
		case <-p.exited:
			err = fmt.Errorf("pgtest: pgbouncer had exited before Close (%v):\n%s", p.cmd.ProcessState, logTail(p.LogFile, 20))
			return
		default:
		}
		_ = p.cmd.Process.Signal(terminate)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return err
}

// ConnString is Server.ConnString through the pooler.
func (p *Pooler) ConnString(role string, tcp bool) string {
	host := p.SocketDir
	if tcp {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s",
		quoteConnValue(host), p.Port, quoteConnValue(role), quoteConnValue(Database))
}

// PoolerEnv is the environment variable that puts a pooler in front of the
// shared servers (Shared, SharedTLS, Require, RequireTLS):
// "pgbouncer-transaction" or "pgbouncer-session". The TLS server's pooler
// takes TLS from clients too.
const PoolerEnv = "PGTEST_POOLER"

// poolerFromEnv reads PoolerEnv: whether a pooler is wanted, and how.
func poolerFromEnv() (PoolerOptions, bool, error) {
	v := os.Getenv(PoolerEnv)
	switch v {
	case "":
		return PoolerOptions{}, false, nil
	case "pgbouncer-transaction":
		return PoolerOptions{Mode: "transaction"}, true, nil
	case "pgbouncer-session":
		return PoolerOptions{Mode: "session"}, true, nil
	}
	return PoolerOptions{}, false, fmt.Errorf("pgtest: %s=%q: want pgbouncer-transaction or pgbouncer-session", PoolerEnv, v)
}

// attachPooler starts the pooler PoolerEnv asks for in front of srv.
func attachPooler(ctx context.Context, srv *Server) error {
	opts, ok, err := poolerFromEnv()
	if !ok || err != nil {
		return err
	}
	opts.TLS = srv.TLS != nil
	p, err := srv.StartPgBouncer(ctx, opts)
	if err != nil {
		return err
	}
	srv.Pooler = p
	return nil
}

// RequirePgBouncer starts a PgBouncer in front of s for tb, within a
// minute, as Require starts a server: without the pgbouncer binary it
// skips tb, or fails it when CI=true. The pooler is closed when tb ends.
func (s *Server) RequirePgBouncer(tb testing.TB, opts PoolerOptions) *Pooler {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := s.StartPgBouncer(ctx, opts)
	switch {
	case errors.Is(err, ErrNoPooler) && os.Getenv("CI") != "true":
		tb.Skipf("pgtest: skipping, no PgBouncer: %v", err)
	case err != nil:
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}
