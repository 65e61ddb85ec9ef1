package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/fraiseql/fraise/internal/suggest"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/fraiseql/fraise/internal/wire/pgconf"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// addConfigFlags declares the config file flags, for every command.
func addConfigFlags(f *pflag.FlagSet) {
	f.String("config", "", "config `FILE` of profiles (default: $XDG_CONFIG_HOME/fraise/config.yaml, else ~/.config/fraise/config.yaml; also FRAISE_CONFIG)")
	f.String("profile", "", "the config file's profile `NAME` to use (default: its default_profile; also FRAISE_PROFILE)")
}

// profile is the config file's chosen profile. Its settings are defaults
// under the flags and the FRAISE_* variables, and over the PG* variables
// (its dsn is a connection string, which libpq ranks above them).
type profile struct {
	name, file string
	values     map[string]any // by flag name
	// passwordCommand is run, when the server asks for a password that
	// no connection setting gives, to print it.
	passwordCommand string
}

// defaultConfigFile is $XDG_CONFIG_HOME/fraise/config.yaml, else
// ~/.config/fraise/config.yaml.
func defaultConfigFile() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "fraise", "config.yaml")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "fraise", "config.yaml")
}

// settingsNotInProfiles are flags a profile cannot set.
var settingsNotInProfiles = []string{"config", "profile", "help"}

// connectingFlags are the flags of the commands that connect (stream,
// ping and views), which a profile may set.
var connectingFlags = sync.OnceValue(func() []*pflag.FlagSet {
	var sets []*pflag.FlagSet
	for _, add := range []func(*pflag.FlagSet){addStreamFlags, addPingFlags, addViewsFlags} {
		f := pflag.NewFlagSet("", pflag.ContinueOnError)
		add(f)
		sets = append(sets, f)
	}
	return sets
})

// profileSetting returns the flag a profile's setting name sets: a flag
// of a command that connects; nil for none.
func profileSetting(name string) *pflag.Flag {
	if slices.Contains(settingsNotInProfiles, name) {
		return nil
	}
	for _, f := range connectingFlags() {
		if flag := f.Lookup(name); flag != nil {
			return flag
		}
	}
	return nil
}

// profileSettingNames are the flag names a profile may set.
func profileSettingNames() []string {
	var names []string
	for _, fs := range connectingFlags() {
		fs.VisitAll(func(f *pflag.Flag) {
			if !slices.Contains(settingsNotInProfiles, f.Name) && !slices.Contains(names, f.Name) {
				names = append(names, f.Name)
			}
		})
	}
	return names
}

// configFileName is the config file s names (--config, FRAISE_CONFIG),
// else the default one, and whether s names it.
func configFileName(s *settings) (file string, explicit bool) {
	if s.given("config") {
		return s.str("config"), true
	}
	return defaultConfigFile(), false
}

// loadProfile reads the config file and its chosen profile, as s (the
// command line and the FRAISE_* variables, so far) names them. It returns
// nil when no profile is chosen. warn receives a warning about a config
// file others can read.
func loadProfile(s *settings, warn func(string)) (*profile, error) {
	file, explicit := configFileName(s)
	name, named := s.str("profile"), s.given("profile")
	_, err := os.Stat(file)
	switch {
	case file == "" || errors.Is(err, fs.ErrNotExist) && !explicit:
		if named && name != "" {
			return nil, &usageError{fmt.Errorf("--profile %s: there is no config file (%s); create it, or name one with --config", name, displayPath(file))}
		}
		return nil, nil
	case err != nil:
		return nil, &usageError{fmt.Errorf("--config: cannot read %s: %w", file, unwrapPathError(err))}
	}
	cf, err := readConfig(file)
	if err != nil {
		return nil, err
	}
	checkConfigSecrets(file, cf.info, cf.profiles, warn)
	if !named || name == "" {
		name = cf.defaultProfile
		if name == "" {
			return nil, nil
		}
	}
	settings, ok := cf.profiles[strings.ToLower(name)]
	if !ok {
		return nil, &usageError{fmt.Errorf("config file %s has no profile %q; its profiles: %s", file, name, strings.Join(cf.names(), ", "))}
	}
	p := &profile{name: strings.ToLower(name), file: file, values: map[string]any{}}
	return p, p.read(settings)
}

// configFile is a config file as read: its profiles (by name, in lower
// case) and default_profile, not yet checked against the flags.
type configFile struct {
	profiles       map[string]map[string]any
	defaultProfile string
	info           fs.FileInfo
}

// readConfig reads the config file file.
func readConfig(file string) (*configFile, error) {
	// A regular file of bounded size only: --config /dev/zero or a FIFO
	// must neither fill memory nor wait.
	data, fi, err := pgconf.ReadFile(file, pgconf.FileUse{What: "config file", Setting: "--config", Limit: pgconf.MaxSettingsFileSize})
	if err != nil {
		return nil, &usageError{err}
	}
	cv := viper.New()
	cv.SetConfigType("yaml")
	if err := cv.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, &usageError{fmt.Errorf("config file %s is not valid YAML: %w", file, err)}
	}
	for _, k := range cv.AllKeys() {
		if top := strings.SplitN(k, ".", 2)[0]; top != "profiles" && top != "default_profile" {
			return nil, &usageError{fmt.Errorf("config file %s: unknown setting %q; the file holds default_profile and profiles.<name>", file, top)}
		}
	}
	cf := &configFile{profiles: map[string]map[string]any{}, defaultProfile: cv.GetString("default_profile"), info: fi}
	for n, raw := range cv.GetStringMap("profiles") {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, &usageError{fmt.Errorf("config file %s: profile %q must be a mapping of settings", file, n)}
		}
		cf.profiles[n] = m
	}
	return cf, nil
}

// names returns the file's profile names, sorted.
func (cf *configFile) names() []string {
	names := make([]string, 0, len(cf.profiles))
	for n := range cf.profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// read checks the profile's settings and keeps them by flag name.
func (p *profile) read(settings map[string]any) error {
	file := p.file
	for key, val := range settings {
		flag := strings.ReplaceAll(strings.ToLower(key), "_", "-")
		if flag == "password-command" {
			s, ok := val.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return &usageError{fmt.Errorf("config file %s, profile %s: password_command must be a command line, got %s", file, p.name, describeValue(flag, val))}
			}
			p.passwordCommand = s
			continue
		}
		f := profileSetting(flag)
		if f == nil {
			if near := suggest.Nearest(flag, profileSettingNames()); near != "" {
				return &usageError{fmt.Errorf("config file %s, profile %s: %q is not a setting of fraise; did you mean %s?", file, p.name, key, strings.ReplaceAll(near, "-", "_"))}
			}
			return &usageError{fmt.Errorf("config file %s, profile %s: %q is not a setting of fraise; use a flag name of stream, ping or views, such as dsn, where, order_by, chunk_size or statement_timeout", file, p.name, key)}
		}
		typed, err := p.profileValue(key, f, val)
		if err != nil {
			return err
		}
		p.values[flag] = typed
	}
	return nil
}

// settingsFor returns the profile's settings that are flags of cmd: a
// stream setting means nothing to ping or views. A nil profile has none.
func (p *profile) settingsFor(cmd *cobra.Command) map[string]any {
	if p == nil {
		return nil
	}
	out := map[string]any{}
	for name, val := range p.values {
		if cmd.Flags().Lookup(name) != nil {
			out[name] = val
		}
	}
	return out
}

// checkConfigSecrets warns when a config file that group or others can
// read holds a password in a profile's dsn.
func checkConfigSecrets(file string, fi fs.FileInfo, profiles map[string]map[string]any, warn func(string)) {
	if fi.Mode().Perm()&0o077 == 0 || warn == nil || runtime.GOOS == "windows" {
		return
	}
	for name, settings := range profiles {
		dsn, _ := settings["dsn"].(string)
		if dsn == "" {
			continue
		}
		st, err := pgconf.Parse(dsn)
		if err == nil && st["password"] == "" {
			continue
		}
		// A dsn that does not parse may hide a password anywhere.
		warn(fmt.Sprintf("config file %s can be read by others (mode %04o) and profile %s's dsn holds a password; run chmod 600 %s, or use password_command instead", file, fi.Mode().Perm(), name, file))
		return
	}
}

// applyProfileToConfig gives the connection settings what the profile
// adds beyond its dsn: its password_command, which belongs to the
// profile's server. It applies only when the profile's dsn is the one in
// use (no --dsn or FRAISE_DSN), and then ranks above PGPASSWORD, as the
// profile ranks above the PG* environment; a password in the connection
// string still wins.
//
// While the command runs, a's stage says so, for the message should a
// signal stop it.
func applyProfileToConfig(s *settings, cfg *wire.Config, a *app) {
	p := s.profile
	if p == nil {
		return
	}
	f := p.passwordFunc()
	if f == nil || s.givenAbove("dsn") {
		return
	}
	source := p.passwordCommandSource()
	cfg.PasswordCommand = onceWithContext(func(ctx context.Context) (string, error) {
		a.setStage(stagePassword, source)
		pw, err := f(ctx)
		if ctx.Err() == nil {
			a.setStage(stageConnect, "") // else what stopped the run stopped the command
		}
		return pw, err
	})
	cfg.PasswordCommandSource = source
	if cfg.HasPassword && cfg.PasswordSource == "PGPASSWORD" {
		cfg.Password, cfg.HasPassword, cfg.PasswordSource = "", false, ""
	}
}

func displayPath(p string) string {
	if p == "" {
		return "no home directory"
	}
	return p
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
