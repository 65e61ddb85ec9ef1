// Connection settings with libpq's semantics: PostgreSQL documentation
// 34.1.2 "Parameter Key Words". ParseConfig reads the keywords, with
// libpq's precedence (defaults < environment < service file < connection
// string: config_sources.go), into a Config, checking each as libpq does.

package wire

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
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
	// PasswordCommand, when set, gives the password when the server asks
	// for one and Password is not given (HasPassword false), before the
	// password file is consulted. It is called each time a
	// server asks (every address tried may): give one that remembers its
	// answer. ctx is the connection attempt's: the command is stopped
	// when it is done.
	PasswordCommand func(ctx context.Context) (string, error)
	// PasswordCommandSource names PasswordCommand in messages.
	PasswordCommandSource string
	// Passfile is the password file consulted when no password is given.
	Passfile string
	// ApplicationName is reported to the server.
	ApplicationName string
	// ConnectTimeout bounds each address attempt; zero means no limit.
	ConnectTimeout time.Duration
	// ConnectTimeoutFrom names the setting ConnectTimeout came from, for
	// messages; "" means connect_timeout.
	ConnectTimeoutFrom string
	// Options are server command-line options sent at startup (PGOPTIONS).
	Options string
	// Service is the service file entry the settings came from, if any.
	Service string

	// TLS holds the sslmode and the TLS files and limits.
	TLS TLSConfig
	// ChannelBinding is "disable", "prefer" (the default) or "require".
	ChannelBinding string
	// RequireAuth restricts the authentication methods the server may
	// ask for (libpq's require_auth).
	RequireAuth AuthPolicy
	// TargetSessionAttrs is the kind of session wanted: "any" (the
	// default), "read-write", "read-only", "primary", "standby" or
	// "prefer-standby".
	TargetSessionAttrs string
	// LoadBalance shuffles the hosts, and each host's addresses, before
	// they are tried (load_balance_hosts=random).
	LoadBalance bool
	// Shuffle, when LoadBalance is set, returns a random integer in
	// [0, n); nil uses math/rand/v2. Tests set it for a fixed order.
	Shuffle func(n int) int
	// RequirePeer is the operating-system user that must own the server
	// process on a Unix socket (libpq's requirepeer).
	RequirePeer string

	// Keepalives enables TCP keepalives (libpq default: on).
	Keepalives bool
	// KeepalivesIdle is the idle time before the first probe; zero leaves
	// the system default.
	KeepalivesIdle time.Duration
	// KeepalivesInterval is the time between probes; zero leaves the
	// system default.
	KeepalivesInterval time.Duration
	// KeepalivesCount is the number of lost probes before the connection
	// is dead; zero leaves the system default.
	KeepalivesCount int
	// TCPUserTimeout bounds how long sent data may stay unacknowledged;
	// zero leaves the system default.
	TCPUserTimeout time.Duration

	// from names where each keyword's value came from, for messages.
	from map[string]string

	// OnWarning receives client-side warnings, such as an ignored password
	// file. Nil discards them.
	OnWarning func(msg string)
	// OnNotice receives NoticeResponse messages from the server. Nil
	// discards them.
	OnNotice func(n *PgError)
	// Log receives the session's steps (addresses tried, TLS parameters,
	// the authentication method, statements, timings, cancel requests).
	// Nothing logged holds a password. Nil discards them.
	Log *slog.Logger
}

// logger returns cfg.Log, or a logger that discards.
func (c *Config) logger() *slog.Logger {
	if c.Log == nil {
		return discardLog
	}
	return c.Log
}

var discardLog = slog.New(slog.DiscardHandler)

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

// ParseConfig builds a Config from a connection string (a postgres:// URI or
// key=value conninfo; may be empty) on top of the PG* environment, the
// connection service file and libpq's defaults. Precedence, as in libpq:
// defaults < environment < service file < connection string.
func ParseConfig(connString string, env Environment) (*Config, error) {
	env = env.withDefaults()
	st, service, err := resolveSettings(connString, env)
	if err != nil {
		return nil, err
	}
	if err := rejectUnsupported(st); err != nil {
		return nil, err
	}
	cfg := &Config{Keepalives: true, Service: service, from: st.source}
	if cfg.Hosts, err = parseHosts(st.val); err != nil {
		return nil, err
	}
	home, _ := env.HomeDir()
	if err := cfg.setLogin(st, env, home); err != nil {
		return nil, err
	}
	if err := cfg.setSecurity(st, home); err != nil {
		return nil, err
	}
	if err := cfg.setHostChoice(st); err != nil {
		return nil, err
	}
	return cfg, nil
}

// setLogin sets who logs in to what: the user (by default the operating
// system's), the database, the password or the password file, the
// application name, connect_timeout and options.
func (c *Config) setLogin(st settings, env Environment, home string) error {
	c.User = st.get("user")
	if c.User == "" {
		var err error
		if c.User, err = env.Username(); err != nil || c.User == "" {
			return &ConfigError{Keyword: "user", Err: fmt.Errorf("could not find the operating-system user name (%v); set user in the connection string or PGUSER", err)}
		}
	}
	c.Database = cmp.Or(st.get("dbname"), c.User)
	if pw, ok := st.val["password"]; ok {
		c.Password, c.HasPassword = pw, true
		c.PasswordSource = st.from("password")
	}
	c.Passfile = st.get("passfile")
	if c.Passfile == "" && home != "" {
		c.Passfile = filepath.Join(home, ".pgpass")
	}
	c.ApplicationName = firstNonEmpty(st.get("application_name"), st.get("fallback_application_name"), DefaultApplicationName)
	var err error
	if c.ConnectTimeout, err = parseConnectTimeout(st.get("connect_timeout")); err != nil {
		return err
	}
	c.Options = st.get("options")
	return nil
}

// setSecurity sets what the session requires of the server and of
// itself: TLS, channel_binding and require_auth.
func (c *Config) setSecurity(st settings, home string) error {
	var err error
	if c.TLS, err = parseTLS(st, home); err != nil {
		return err
	}
	if c.ChannelBinding, err = oneOf(st, "channel_binding", "prefer", "disable", "prefer", "require"); err != nil {
		return err
	}
	if c.RequireAuth, err = ParseAuthPolicy(st.get("require_auth")); err != nil {
		return &ConfigError{Keyword: "require_auth", Err: err}
	}
	return nil
}

// setHostChoice sets which server of the list will do and how it is
// reached: target_session_attrs, load_balance_hosts, requirepeer and the
// TCP keepalives.
func (c *Config) setHostChoice(st settings) error {
	var err error
	if c.TargetSessionAttrs, err = oneOf(st, "target_session_attrs", "any",
		"any", "read-write", "read-only", "primary", "standby", "prefer-standby"); err != nil {
		return err
	}
	lb, err := oneOf(st, "load_balance_hosts", "disable", "disable", "random")
	if err != nil {
		return err
	}
	c.LoadBalance = lb == "random"
	c.RequirePeer = st.get("requirepeer")
	return parseKeepalives(st, c)
}

// origin names where keyword k's value came from, for messages.
func (c *Config) origin(k string) string {
	if f := c.from[k]; f != "" {
		return f
	}
	return "the default"
}

func (c *Config) channelBindingFrom() string { return c.origin("channel_binding") }

// oneOf returns keyword k's value, def when unset, after checking it is one
// of allowed; the error is libpq's.
func oneOf(st settings, k, def string, allowed ...string) (string, error) {
	v, ok := st.val[k]
	if !ok || v == "" {
		return def, nil
	}
	if slices.Contains(allowed, v) {
		return v, nil
	}
	return "", &ConfigError{Keyword: k, Err: fmt.Errorf("invalid %s value: %q (from %s); valid values: %s", k, v, st.from(k), strings.Join(allowed, ", "))}
}

// rejectUnsupported refuses settings that ask for something fraise does
// not do, rather than silently ignoring them.
func rejectUnsupported(st settings) error {
	refuse := func(k, why string) error {
		return &ConfigError{Keyword: k, Err: fmt.Errorf("%s=%s (from %s): %s", k, st.get(k), st.from(k), why)}
	}
	if v := st.get("client_encoding"); v != "" && !slices.Contains([]string{"UTF8", "utf8", "UTF-8", "utf-8", "auto"}, v) {
		return refuse("client_encoding", "fraise always reads UTF8, which it converts nothing from; remove the setting")
	}
	if _, err := oneOf(st, "gssencmode", "disable", "disable", "prefer", "require"); err != nil {
		return err
	}
	if st.get("gssencmode") == "require" {
		return refuse("gssencmode", "GSSAPI encryption is not supported by fraise; use sslmode for an encrypted connection")
	}
	if v := st.get("replication"); v != "" && v != "0" && v != "false" && v != "off" && v != "no" {
		return refuse("replication", "fraise does not open replication connections; remove the setting")
	}
	for _, k := range []string{"scram_client_key", "scram_server_key"} {
		if st.get(k) != "" {
			return &ConfigError{Keyword: k, Err: fmt.Errorf("%s (from %s) is not supported by fraise; give the password instead", k, st.from(k))}
		}
	}
	for _, k := range []string{"oauth_issuer", "oauth_client_id", "oauth_client_secret", "oauth_scope"} {
		if st.get(k) != "" {
			return &ConfigError{Keyword: k, Err: fmt.Errorf("%s (from %s): OAuth authentication is not supported by fraise", k, st.from(k))}
		}
	}
	if v := st.get("min_protocol_version"); v != "" && v != "3.0" {
		return refuse("min_protocol_version", "fraise speaks protocol version 3.0; remove the setting or set it to 3.0")
	}
	if v := st.get("max_protocol_version"); v != "" && v != "3.0" && v != "3.2" && v != "latest" {
		return refuse("max_protocol_version", `invalid value; valid values: 3.0, 3.2, latest`)
	}
	return nil
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
