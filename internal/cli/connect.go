package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/fraiseql/fraise/internal/wire/pgconf"
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
		return nil, withDSNSource(err, s)
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

// withDSNSource adds to the error of a connection string that does not
// parse where the string came from (--dsn, FRAISE_DSN or the profile's
// dsn), as the errors of a setting say where the setting came from
// ("(from PGSSLMODE)"). Any other error is returned as it is.
func withDSNSource(err error, s *settings) error {
	var ce *wire.ConfigError
	var pe *pgconf.ParseError
	if !errors.As(err, &ce) || !errors.As(ce.Err, &pe) {
		return err
	}
	form := "connection string"
	if dsn := s.str("dsn"); strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		form = "connection URI"
	}
	from := "--dsn"
	switch st := s.vals["dsn"]; {
	case st.from == fromEnv:
		from = envName("dsn")
	case st.from == fromProfile && s.profile != nil:
		from = fmt.Sprintf("profile %s's dsn, config file %s", s.profile.name, s.profile.file)
	}
	return &wire.ConfigError{Keyword: ce.Keyword, Err: fmt.Errorf("%w (in the %s of %s)", ce.Err, form, from)}
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
