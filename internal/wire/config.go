// Connection settings with libpq's semantics: PostgreSQL documentation
// 34.1.2 "Parameter Key Words" and 34.15 "Environment Variables".
// Precedence: defaults < environment < connection string.

package wire

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// DefaultPort is the port used when none is configured.
const DefaultPort = 5432

// DefaultSocketDirs are the Unix socket directories tried, in order, when no
// host is configured: Debian's libpq default first, then upstream's.
var DefaultSocketDirs = []string{"/var/run/postgresql", "/tmp"}

// DefaultApplicationName is sent when neither application_name nor
// fallback_application_name is set.
const DefaultApplicationName = "fraise"

// Host is one server address to try.
type Host struct {
	// Name is the host name, IP literal or Unix socket directory (starting
	// with "/"), as configured; "" means the default socket directory.
	Name string
	// Addr is the numeric address from hostaddr, which skips name lookup.
	Addr string
	// Port is the TCP port, or the number in the socket file name.
	Port uint16
}

// IsSocket reports whether the host is a Unix socket directory.
func (h Host) IsSocket() bool {
	return h.Addr == "" && (h.Name == "" || strings.HasPrefix(h.Name, "/"))
}

// SocketPath returns the socket file for a socket host.
func (h Host) SocketPath() string {
	return filepath.Join(h.Name, ".s.PGSQL."+strconv.Itoa(int(h.Port)))
}

// String describes the host for messages.
func (h Host) String() string {
	if h.IsSocket() {
		return h.SocketPath()
	}
	name := h.Name
	if name == "" {
		name = h.Addr
	}
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	return name + ":" + strconv.Itoa(int(h.Port))
}

// Config holds everything needed to open a session. Build it with
// ParseConfig; the zero value is not usable.
type Config struct {
	// Hosts are tried in order until one accepts the session.
	Hosts []Host
	// User is the role to log in as.
	User string
	// Database is the database to connect to.
	Database string
	// Password is the password given in the connection string or
	// PGPASSWORD; empty with HasPassword false means "look in Passfile".
	Password string
	// HasPassword reports whether Password was given explicitly.
	HasPassword bool
	// PasswordSource says where Password came from, for messages.
	PasswordSource string
	// Passfile is the password file consulted when no password is given.
	Passfile string
	// ApplicationName is reported to the server.
	ApplicationName string
	// ConnectTimeout bounds each address attempt; zero means no limit.
	ConnectTimeout time.Duration
	// Options are server command-line options sent at startup (PGOPTIONS).
	Options string
	// SSLMode is the libpq sslmode; only modes that allow a plain
	// connection are accepted until TLS is implemented.
	SSLMode string
	// Keepalives enables TCP keepalives (libpq default: on).
	Keepalives bool
	// KeepalivesIdle is the idle time before the first probe; zero leaves
	// the system default.
	KeepalivesIdle time.Duration

	// OnWarning receives client-side warnings, such as an ignored password
	// file. Nil discards them.
	OnWarning func(msg string)
	// OnNotice receives NoticeResponse messages from the server. Nil
	// discards them.
	OnNotice func(n *PgError)
}

// Environment gives ParseConfig what it needs to know about the process.
// Zero fields fall back to the real process environment.
type Environment struct {
	// LookupEnv reads an environment variable.
	LookupEnv func(key string) (string, bool)
	// Username returns the operating-system user name.
	Username func() (string, error)
	// HomeDir returns the user's home directory.
	HomeDir func() (string, error)
}

func (e Environment) withDefaults() Environment {
	if e.LookupEnv == nil {
		e.LookupEnv = os.LookupEnv
	}
	if e.Username == nil {
		e.Username = func() (string, error) {
			u, err := user.Current()
			if err != nil {
				return "", err
			}
			return u.Username, nil
		}
	}
	if e.HomeDir == nil {
		e.HomeDir = func() (string, error) {
			if h, ok := e.LookupEnv("HOME"); ok && h != "" {
				return h, nil
			}
			return os.UserHomeDir()
		}
	}
	return e
}

// envKeywords maps libpq environment variables to connection keywords.
var envKeywords = []struct{ env, keyword string }{
	{"PGHOST", "host"},
	{"PGHOSTADDR", "hostaddr"},
	{"PGPORT", "port"},
	{"PGDATABASE", "dbname"},
	{"PGUSER", "user"},
	{"PGPASSWORD", "password"},
	{"PGPASSFILE", "passfile"},
	{"PGAPPNAME", "application_name"},
	{"PGCONNECT_TIMEOUT", "connect_timeout"},
	{"PGOPTIONS", "options"},
	{"PGSSLMODE", "sslmode"},
	{"PGSSLNEGOTIATION", "sslnegotiation"},
	{"PGREQUIRESSL", "requiressl"},
	{"PGSSLROOTCERT", "sslrootcert"},
	{"PGSSLCERT", "sslcert"},
	{"PGSSLKEY", "sslkey"},
	{"PGSSLCRL", "sslcrl"},
	{"PGSSLCRLDIR", "sslcrldir"},
	{"PGSSLSNI", "sslsni"},
	{"PGCHANNELBINDING", "channel_binding"},
	{"PGREQUIREAUTH", "require_auth"},
	{"PGSERVICE", "service"},
	{"PGTARGETSESSIONATTRS", "target_session_attrs"},
	{"PGLOADBALANCEHOSTS", "load_balance_hosts"},
	{"PGGSSENCMODE", "gssencmode"},
	{"PGCLIENTENCODING", "client_encoding"},
}

// ParseConfig builds a Config from a connection string (a postgres:// URI or
// key=value conninfo; may be empty) on top of the PG* environment and
// libpq's defaults.
func ParseConfig(connString string, env Environment) (*Config, error) {
	env = env.withDefaults()
	settings := map[string]string{}
	source := map[string]string{}
	for _, ek := range envKeywords {
		if v, ok := env.LookupEnv(ek.env); ok && v != "" {
			settings[ek.keyword] = v
			source[ek.keyword] = ek.env
		}
	}
	given, err := pgconf.Parse(connString)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	for k, v := range given {
		settings[k] = v
		source[k] = "the connection string"
	}
	if err := checkSupported(settings, source); err != nil {
		return nil, err
	}

	cfg := &Config{Keepalives: true}
	if cfg.Hosts, err = parseHosts(settings); err != nil {
		return nil, err
	}
	cfg.User = settings["user"]
	if cfg.User == "" {
		if cfg.User, err = env.Username(); err != nil || cfg.User == "" {
			return nil, &ConfigError{Keyword: "user", Err: fmt.Errorf("could not find the operating-system user name (%v); set user in the connection string or PGUSER", err)}
		}
	}
	cfg.Database = settings["dbname"]
	if cfg.Database == "" {
		cfg.Database = cfg.User
	}
	if pw, ok := settings["password"]; ok {
		cfg.Password, cfg.HasPassword = pw, true
		cfg.PasswordSource = source["password"]
	}
	cfg.Passfile = settings["passfile"]
	if cfg.Passfile == "" {
		if home, err := env.HomeDir(); err == nil && home != "" {
			cfg.Passfile = filepath.Join(home, ".pgpass")
		}
	}
	cfg.ApplicationName = firstNonEmpty(settings["application_name"], settings["fallback_application_name"], DefaultApplicationName)
	if cfg.ConnectTimeout, err = parseConnectTimeout(settings["connect_timeout"]); err != nil {
		return nil, err
	}
	cfg.Options = settings["options"]
	cfg.SSLMode = firstNonEmpty(settings["sslmode"], "prefer")
	if v := settings["keepalives"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, invalidInt("keepalives", v)
		}
		cfg.Keepalives = n != 0
	}
	if v := settings["keepalives_idle"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, invalidInt("keepalives_idle", v)
		}
		cfg.KeepalivesIdle = time.Duration(n) * time.Second
	}
	return cfg, nil
}

// supported lists the values fraise accepts for keywords whose other values
// ask for something it does not do yet. A nil list accepts any value.
var supported = map[string][]string{
	"host": nil, "hostaddr": nil, "port": nil, "dbname": nil, "user": nil,
	"password": nil, "passfile": nil, "connect_timeout": nil,
	"application_name": nil, "fallback_application_name": nil, "options": nil,
	"keepalives": nil, "keepalives_idle": nil, "keepalives_interval": nil,
	"keepalives_count": nil, "tcp_user_timeout": nil,
	"client_encoding":      {"UTF8", "utf8", "UTF-8", "utf-8", "auto"},
	"sslmode":              {"disable", "allow", "prefer"},
	"requiressl":           {"0"},
	"sslnegotiation":       {"postgres"},
	"gssencmode":           {"disable", "prefer"},
	"channel_binding":      {"disable", "prefer"},
	"target_session_attrs": {"any"},
	"load_balance_hosts":   {"disable"},
	// TLS file settings matter only once TLS is negotiated, which the
	// accepted sslmodes never require.
	"sslrootcert": nil, "sslcert": nil, "sslkey": nil, "sslcrl": nil,
	"sslcrldir": nil, "sslsni": nil, "sslcompression": nil,
	"ssl_min_protocol_version": nil, "ssl_max_protocol_version": nil,
}

func checkSupported(settings, source map[string]string) error {
	for k, v := range settings {
		allowed, ok := supported[k]
		if !ok {
			return &ConfigError{Keyword: k, Err: fmt.Errorf("connection option %q (from %s) is not supported by fraise yet; remove it", k, source[k])}
		}
		if allowed == nil {
			continue
		}
		match := false
		for _, a := range allowed {
			if v == a {
				match = true
				break
			}
		}
		if !match {
			return &ConfigError{Keyword: k, Err: fmt.Errorf("%s=%s (from %s) is not supported by fraise yet; supported: %s", k, v, source[k], strings.Join(allowed, ", "))}
		}
	}
	return nil
}

func parseHosts(settings map[string]string) ([]Host, error) {
	names := splitList(settings["host"])
	addrs := splitList(settings["hostaddr"])
	ports := splitList(settings["port"])
	n := max(len(names), len(addrs), 1)
	if len(names) > 1 && len(addrs) > 1 && len(names) != len(addrs) {
		return nil, &ConfigError{Keyword: "hostaddr", Err: fmt.Errorf("could not match %d host names to %d hostaddr values", len(names), len(addrs))}
	}
	if len(ports) > 1 && len(ports) != n {
		return nil, &ConfigError{Keyword: "port", Err: fmt.Errorf("could not match %d port numbers to %d hosts", len(ports), n)}
	}
	hosts := make([]Host, n)
	for i := range hosts {
		if i < len(names) {
			hosts[i].Name = names[i]
		}
		if i < len(addrs) {
			hosts[i].Addr = addrs[i]
		}
		p := ""
		if len(ports) == 1 {
			p = ports[0]
		} else if i < len(ports) {
			p = ports[i]
		}
		hosts[i].Port = DefaultPort
		if p != "" {
			v, err := strconv.ParseUint(p, 10, 16)
			if err != nil || v == 0 {
				return nil, &ConfigError{Keyword: "port", Err: fmt.Errorf("invalid port number: %q", p)}
			}
			hosts[i].Port = uint16(v)
		}
	}
	return hosts, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func parseConnectTimeout(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, invalidInt("connect_timeout", v)
	}
	switch {
	case n <= 0:
		return 0, nil
	case n == 1:
		// libpq raises a one-second timeout to two seconds.
		n = 2
	}
	return time.Duration(n) * time.Second, nil
}

func invalidInt(keyword, v string) error {
	return &ConfigError{Keyword: keyword, Err: fmt.Errorf("invalid integer value %q for connection option %q", v, keyword)}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

var errNoPassword = errors.New("no password supplied")
