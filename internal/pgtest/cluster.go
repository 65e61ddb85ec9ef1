package pgtest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed fixtures.sql
var fixturesSQL string

// Options adjusts a cluster started by Start.
type Options struct {
	// NoFixtures skips loading fixtures.sql into Database.
	NoFixtures bool
	// Settings are extra postgresql.conf parameters, such as work_mem for
	// benchmarks; they override the defaults pgtest writes.
	Settings map[string]string
	// Dir, when set, keeps the cluster in this directory across runs
	// instead of a temporary one: a cluster that an earlier Start finished
	// there is started again as it is (no initdb, roles or fixtures), and
	// Close stops the server but leaves Dir. Benchmarks use it so that
	// their data sets are loaded once.
	Dir string
	// TLS switches TLS on (ssl=on) with certificates and keys that every
	// start generates afresh, also when a kept Dir is started again; the
	// client-side files are described by Server.TLS.
	TLS bool
}

// readyMarker is the file, in a kept Dir, whose presence says an earlier
// Start finished setting up the cluster there.
const readyMarker = "pgtest-ready"

// baseConf keeps initdb's postgresql.conf, to which every start appends
// pgtest's settings afresh.
const baseConf = "postgresql.conf.initdb"

const (
	// portAttempts bounds the retries when the chosen port is taken
	// between picking it and the server binding it.
	portAttempts = 5
	// sockPathMax is the longest Unix socket path PostgreSQL accepts
	// (sizeof sun_path minus the terminating NUL).
	sockPathMax = 107
	// stopTimeout bounds pg_ctl stop.
	stopTimeout = time.Minute
)

// settingName matches a valid postgresql.conf parameter name.
var settingName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// Start creates, starts and populates a new cluster; see the package
// documentation. The caller must Close it. ctx bounds only the start-up:
// the server keeps running after ctx ends.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	for k := range opts.Settings {
		if !settingName.MatchString(k) {
			return nil, fmt.Errorf("pgtest: invalid setting name %q", k)
		}
	}
	s, err := newServer(opts.Dir)
	if err != nil {
		return nil, err
	}
	track(s)
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if s.kept && fileExists(filepath.Join(s.Dir, readyMarker)) {
		if err := s.startServer(ctx, opts); err != nil {
			return nil, err
		}
		return s, s.readVersion(ctx)
	}
	return s, s.create(ctx, opts)
}

// newServer finds the server binaries and prepares the cluster's
// directory: dir when given (kept), else a new one.
func newServer(dir string) (*Server, error) {
	f := systemFinder()
	binDir, err := f.binDir()
	if err != nil {
		return nil, err
	}
	psql, err := f.psqlPath(binDir)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	kept := dir != ""
	if kept {
		dir, err = keptDir(dir, cred)
	} else {
		dir, err = makeWorkDir(cred)
	}
	if err != nil {
		return nil, err
	}
	return &Server{
		BinDir:    binDir,
		PsqlPath:  psql,
		Dir:       dir,
		DataDir:   filepath.Join(dir, "data"),
		SocketDir: filepath.Join(dir, "sock"),
		LogFile:   filepath.Join(dir, "log"),
		HasIPv6:   ipv6Loopback(),
		kept:      kept,
		cred:      cred,
	}, nil
}

// create makes the cluster anew: initdb, pg_hba.conf, start, roles and
// fixtures, and for a kept cluster the marker that it is ready.
func (s *Server) create(ctx context.Context, opts Options) error {
	if s.kept {
		// An unfinished earlier attempt: start over.
		for _, p := range []string{s.DataDir, s.SocketDir, s.LogFile} {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("pgtest: %w", err)
			}
		}
	}
	if err := s.mkdirOwned(s.SocketDir, 0o755); err != nil {
		return err
	}
	if out, err := s.serverCmd(ctx, "initdb", "-D", s.DataDir, "-U", Superuser, "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	if err := s.writeHBA(); err != nil {
		return err
	}
	if err := s.startServer(ctx, opts); err != nil {
		return err
	}
	if err := s.bootstrap(ctx, opts.NoFixtures); err != nil {
		return err
	}
	if s.kept {
		if err := os.WriteFile(filepath.Join(s.Dir, readyMarker), nil, 0o644); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	return nil
}

// Close stops the server (fast shutdown) and removes Dir. It is safe to
// call more than once; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.Pooler != nil {
			errs = append(errs, s.Pooler.Close())
		}
		if _, err := os.Stat(filepath.Join(s.DataDir, "postmaster.pid")); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			if out, err := s.pgCtl(ctx, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out))
				_ = s.pgCtl(ctx, "-m", "immediate", "-w", "stop").Run()
			}
		}
		if !s.kept {
			if err := os.RemoveAll(s.Dir); err != nil {
				errs = append(errs, fmt.Errorf("pgtest: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
		untrack(s)
	})
	return s.closeErr
}

// startServer writes the TLS files when opts.TLS is set, writes
// postgresql.conf and starts the server on a free port, retrying with
// another port when binding fails.
func (s *Server) startServer(ctx context.Context, opts Options) error {
	if opts.TLS {
		if err := s.writeTLS(); err != nil {
			return err
		}
	}
	confPath := filepath.Join(s.DataDir, "postgresql.conf")
	basePath := filepath.Join(s.DataDir, baseConf)
	if !fileExists(basePath) {
		b, err := os.ReadFile(confPath)
		if err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		if err := os.WriteFile(basePath, b, 0o600); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		if err := chownTo(basePath, s.cred); err != nil {
			return err
		}
	}
	baseConf, err := os.ReadFile(basePath)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort(s.HasIPv6)
		if err != nil {
			return err
		}
		conf := append(slices.Clip(baseConf), s.confAppendix(port, opts.Settings)...)
		if err := os.WriteFile(confPath, conf, 0o600); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		logBefore := fileSize(s.LogFile)
		out, startErr := s.pgCtl(ctx, "-l", s.LogFile, "-w", "-t", "60",
			"-o", "-p "+strconv.Itoa(port), "start").CombinedOutput()
		if bindFailed(s.LogFile, logBefore) && attempt < portAttempts {
			if startErr == nil {
				_ = s.pgCtl(ctx, "-m", "immediate", "-w", "stop").Run()
			}
			continue
		}
		if startErr != nil {
			return fmt.Errorf("pgtest: pg_ctl start on port %d: %w\n%s\nlast lines of %s:\n%s",
				port, startErr, bytes.TrimSpace(out), s.LogFile, logTail(s.LogFile, 20))
		}
		s.Port = port
		return nil
	}
}

// confAppendix returns the postgresql.conf lines pgtest adds.
func (s *Server) confAppendix(port int, extra map[string]string) []byte {
	listen := "127.0.0.1"
	if s.HasIPv6 {
		listen += ",::1"
	}
	settings := [][2]string{
		{"port", strconv.Itoa(port)},
		{"listen_addresses", listen},
		{"unix_socket_directories", s.SocketDir},
		{"fsync", "off"},
		{"synchronous_commit", "off"},
		{"full_page_writes", "off"},
		{"max_connections", "60"},
		{"log_min_messages", "warning"},
		{"password_encryption", "scram-sha-256"},
		// Logical decoding, so that a test can see whether a transactional
		// message (pg_logical_emit_message) of fraise's was ever committed.
		{"wal_level", "logical"},
	}
	settings = append(settings, s.tlsSettings()...)
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		settings = append(settings, [2]string{k, extra[k]})
	}
	var b strings.Builder
	b.WriteString("\n# Added by pgtest.\n")
	for _, kv := range settings {
		fmt.Fprintf(&b, "%s = %s\n", kv[0], quoteConfValue(kv[1]))
	}
	return []byte(b.String())
}

// bootstrap creates Database and the roles, loads the fixtures and reads
// the server version.
func (s *Server) bootstrap(ctx context.Context, noFixtures bool) error {
	sql := fmt.Sprintf(`CREATE DATABASE %s;
CREATE ROLE %s LOGIN;
CREATE ROLE %s LOGIN PASSWORD %s;
CREATE ROLE %s LOGIN PASSWORD %s;
CREATE ROLE %s LOGIN PASSWORD %s;
CREATE ROLE %s LOGIN PASSWORD %s;
CREATE ROLE %s LOGIN;
SET password_encryption = 'md5';
CREATE ROLE %s LOGIN PASSWORD %s;
`, Database, RoleTrust,
		RolePassword, quoteLiteral(Password(RolePassword)),
		RoleSCRAM, quoteLiteral(Password(RoleSCRAM)),
		RoleTLSOnly, quoteLiteral(Password(RoleTLSOnly)),
		RoleNoTLS, quoteLiteral(Password(RoleNoTLS)),
		RoleCert,
		RoleMD5, quoteLiteral(Password(RoleMD5)))
	if _, err := s.Psql(ctx, sql, "-d", "postgres"); err != nil {
		return fmt.Errorf("pgtest: creating database and roles: %w", err)
	}
	if !noFixtures {
		if _, err := s.Psql(ctx, fixturesSQL); err != nil {
			return fmt.Errorf("pgtest: loading fixtures.sql: %w", err)
		}
	}
	return s.readVersion(ctx)
}

// readVersion sets Major from the running server.
func (s *Server) readVersion(ctx context.Context) error {
	out, err := s.Psql(ctx, "SHOW server_version_num")
	if err != nil {
		return fmt.Errorf("pgtest: reading server version: %w", err)
	}
	num, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return fmt.Errorf("pgtest: parsing server_version_num %q: %w", out, err)
	}
	s.Major = num / 10000
	return nil
}

// serverCmd returns a command running a server binary from BinDir as the
// cluster's owner, in Dir, with a clean environment.
func (s *Server) serverCmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.BinDir, name), args...)
	cmd.Env = append(cleanEnv(), "HOME="+s.Dir, "LC_ALL=C")
	cmd.Dir = s.Dir
	cmd.WaitDelay = 10 * time.Second
	runAs(cmd, s.cred)
	return cmd
}

// pgCtl returns a pg_ctl command for the data directory.
func (s *Server) pgCtl(ctx context.Context, args ...string) *exec.Cmd {
	return s.serverCmd(ctx, "pg_ctl", append([]string{"-D", s.DataDir}, args...)...)
}

// ipv6Loopback reports whether [::1] can be listened on.
func ipv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// freePort returns a TCP port that is currently free on 127.0.0.1 and,
// when ipv6 is true, on [::1] too.
func freePort(ipv6 bool) (int, error) {
	var lastErr error
	for range 20 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("pgtest: picking a port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		free := true
		if ipv6 {
			l6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
			if err != nil {
				free, lastErr = false, err
			} else {
				_ = l6.Close()
			}
		}
		_ = l.Close()
		if free {
			return port, nil
		}
	}
	return 0, fmt.Errorf("pgtest: no port free on both 127.0.0.1 and [::1]: %w", lastErr)
}

// bindFailed reports whether the log, from offset on, says the server
// could not bind a TCP address.
func bindFailed(logFile string, offset int64) bool {
	data, err := os.ReadFile(logFile)
	if err != nil || int64(len(data)) < offset {
		return false
	}
	fresh := string(data[offset:])
	return strings.Contains(fresh, "could not bind") || strings.Contains(fresh, "could not create any TCP/IP sockets")
}

// fileSize returns the size of path, or 0 when it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logTail returns the last n lines of path.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// quoteConfValue quotes a postgresql.conf value.
func quoteConfValue(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `''`)
	return "'" + r.Replace(v) + "'"
}

// quoteLiteral quotes an SQL string literal (standard_conforming_strings on).
func quoteLiteral(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}
