package cli

import (
	"io"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/pflag"
)

// addConnFlags declares the connection flags of every command that
// connects: stream, ping and views.
func addConnFlags(f *pflag.FlagSet) {
	f.StringP("dsn", "d", "", "connection string: postgres:// URL or key=value conninfo (default: PG* environment, libpq defaults)")
	f.String("connect-timeout", "", "give up connecting to an address after `DURATION` (TCP, TLS and authentication; default: connect_timeout from the connection settings, else none)")
}

// connConfig reads the connection settings as stream, ping and views share
// them: --dsn (or FRAISE_DSN), over the PG* environment, service files
// and libpq's defaults (wire.ParseConfig), with --connect-timeout in
// place of connect_timeout when given. Client warnings (an ignored
// ~/.pgpass) and server notices go to stderr; a nil stderr discards them.
func connConfig(s *settings, stderr io.Writer) (*wire.Config, error) {
	timeout, set, err := connectTimeout(s)
	if err != nil {
		return nil, err
	}
	cfg, err := wire.ParseConfig(s.str("dsn"), wire.Environment{})
	if err != nil {
		return nil, err
	}
	if set {
		cfg.ConnectTimeout = timeout
	}
	if stderr != nil {
		cfg.OnWarning = func(msg string) { printSafe(stderr, "fraise: warning: %s\n", msg) }
		cfg.OnNotice = func(n *wire.PgError) { printSafe(stderr, "fraise: %s: %s\n", n.Severity, n.Message) }
	}
	return cfg, nil
}

// connectTimeout reads --connect-timeout: whether it is set, and to what
// (0 is set, and means no limit, overriding connect_timeout).
func connectTimeout(s *settings) (time.Duration, bool, error) {
	text := s.str("connect-timeout")
	if text == "" {
		return 0, false, nil
	}
	d, err := parseDuration("connect-timeout", text)
	return d, err == nil, err
}

// profileConnConfig is connConfig with what the profile adds (see
// applyProfileToConfig), for a command's run.
func profileConnConfig(s *settings, app *app) (*wire.Config, error) {
	cfg, err := connConfig(s, app.stderr)
	if err != nil {
		return nil, err
	}
	applyProfileToConfig(s, cfg, app)
	return cfg, nil
}
