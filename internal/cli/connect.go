package cli

import (
	"io"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// addConnFlags declares the connection flags of every command that
// connects: stream, ping and views.
func addConnFlags(f *pflag.FlagSet) {
	f.StringP("dsn", "d", "", "connection string: postgres:// URL or key=value conninfo (default: PG* environment, libpq defaults)")
	f.String("connect-timeout", "", "give up connecting to an address after `DURATION` (TCP, TLS and authentication; default: connect_timeout from the connection settings, else none)")
}

// flagViper returns a viper that reads f's flags, each falling back to its
// FRAISE_* variable (FRAISE_DSN for --dsn, FRAISE_CONNECT_TIMEOUT…).
func flagViper(f *pflag.FlagSet) *viper.Viper {
	v := viper.New()
	v.SetEnvPrefix("FRAISE")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	_ = v.BindPFlags(f)
	return v
}

// connConfig reads the connection settings as stream, ping and views share
// them: --dsn (or FRAISE_DSN), over the PG* environment, service files
// and libpq's defaults (wire.ParseConfig), with --connect-timeout in
// place of connect_timeout when given. Client warnings (an ignored
// ~/.pgpass) and server notices go to stderr; a nil stderr discards them.
func connConfig(v *viper.Viper, stderr io.Writer) (*wire.Config, error) {
	timeout, set, err := connectTimeout(v)
	if err != nil {
		return nil, err
	}
	cfg, err := wire.ParseConfig(v.GetString("dsn"), wire.Environment{})
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
func connectTimeout(v *viper.Viper) (time.Duration, bool, error) {
	s := v.GetString("connect-timeout")
	if s == "" {
		return 0, false, nil
	}
	d, err := parseDuration("connect-timeout", s)
	return d, err == nil, err
}

// profileConnConfig is connConfig with what the profile adds (see
// applyProfileToConfig), for a command's run.
func profileConnConfig(cmd *cobra.Command, v *viper.Viper, app *app, prof *profile) (*wire.Config, error) {
	cfg, err := connConfig(v, app.stderr)
	if err != nil {
		return nil, err
	}
	applyProfileToConfig(cmd, cfg, prof, app)
	return cfg, nil
}
