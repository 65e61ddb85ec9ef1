package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// sourceValues are the values a test gives one setting from each source,
// as text (the command line, a variable) and as YAML (the profile), with
// the value resolving them must give.
type sourceValues struct {
	text, yaml string
	want       any
}

// valuesFor returns, for flag f, a distinct value for each source: which
// one resolving picks shows which source won.
func valuesFor(f *pflag.Flag) map[source]sourceValues {
	switch kindOf(f) {
	case kindStrings:
		return map[source]sourceValues{
			fromFlag:    {"f v", "", []string{"f v"}},
			fromEnv:     {"e, v", "", []string{"e, v"}},
			fromProfile: {"", `["p1", "p2"]`, []string{"p1", "p2"}},
		}
	case kindBool:
		// Three sources, two values: the flag's and the profile's differ
		// from the variable's, which differs from the default (false).
		return map[source]sourceValues{
			fromFlag:    {"false", "", false},
			fromEnv:     {"yes", "", true},
			fromProfile: {"", "false", false},
		}
	case kindInt:
		return map[source]sourceValues{
			fromFlag:    {"11", "", int64(11)},
			fromEnv:     {" 22 ", "", int64(22)},
			fromProfile: {"", "33", int64(33)},
		}
	case kindDuration:
		return map[source]sourceValues{
			fromFlag:    {"1s", "", "1s"},
			fromEnv:     {"2s", "", "2s"},
			fromProfile: {"", "3s", "3s"},
		}
	case kindSize:
		return map[source]sourceValues{
			fromFlag:    {"1KiB", "", "1KiB"},
			fromEnv:     {"2KiB", "", "2KiB"},
			fromProfile: {"", "3", "3"},
		}
	}
	return map[source]sourceValues{
		fromFlag:    {"from the flag", "", "from the flag"},
		fromEnv:     {"from the variable", "", "from the variable"},
		fromProfile: {"", `"from the profile"`, "from the profile"},
	}
}

// commandsWithSettings returns stream, ping and views under a root, as
// run parses them, new.
func commandsWithSettings() []*cobra.Command {
	a := &app{stdout: io.Discard, stderr: io.Discard}
	root := newRootCmd(a)
	var cmds []*cobra.Command
	for _, c := range root.Commands() {
		if slices.Contains([]string{"stream", "ping", "views"}, c.Name()) {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// newCommand returns a new command named name, under a root.
func newCommand(name string) *cobra.Command {
	for _, c := range commandsWithSettings() {
		if c.Name() == name {
			return c
		}
	}
	panic("no command " + name)
}

// resolveWith parses args for a new command named cmd with the variables env set and a config
// file whose default profile holds profile (YAML), and resolves.
func resolveWith(t *testing.T, name string, args []string, env map[string]string, profile string) (*settings, error) {
	t.Helper()
	cmd := newCommand(name)
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yaml")
	text := "default_profile: p\nprofiles:\n  p:\n"
	if profile == "" {
		text = "profiles: {}\n"
	}
	for _, line := range strings.Split(profile, "\n") {
		if line != "" {
			text += "    " + line + "\n"
		}
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FRAISE_CONFIG", conf)
	for k, v := range env {
		t.Setenv(k, v)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return resolveSettings(cmd, nil)
}

// TestSettingPrecedence resolves every setting of every command that
// connects from each combination of sources: the command line beats the
// FRAISE_* variable, which beats the profile, which beats the default.
func TestSettingPrecedence(t *testing.T) {
	combos := [][]source{
		{fromFlag}, {fromEnv}, {fromProfile},
		{fromFlag, fromEnv}, {fromFlag, fromProfile}, {fromEnv, fromProfile},
		{fromFlag, fromEnv, fromProfile},
	}
	for _, cmd := range commandsWithSettings() {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if slices.Contains(settingsNotInProfiles, f.Name) {
				return
			}
			vals := valuesFor(f)
			for _, combo := range combos {
				name := fmt.Sprintf("%s/%s/%v", cmd.Name(), f.Name, combo)
				t.Run(name, func(t *testing.T) {
					var args []string
					env := map[string]string{}
					profile := ""
					for _, src := range combo {
						switch v := vals[src]; src {
						case fromFlag:
							args = append(args, "--"+f.Name+"="+v.text)
						case fromEnv:
							env[envName(f.Name)] = v.text
						case fromProfile:
							profile = strings.ReplaceAll(f.Name, "-", "_") + ": " + v.yaml
						}
					}
					s, err := resolveWith(t, cmd.Name(), args, env, profile)
					if err != nil {
						t.Fatal(err)
					}
					top := slices.Max(combo)
					got := s.vals[f.Name]
					if got.from != top || fmt.Sprint(got.value) != fmt.Sprint(vals[top].want) {
						t.Errorf("resolved %#v from %v, want %#v from %v", got.value, got.from, vals[top].want, top)
					}
					if !s.given(f.Name) {
						t.Error("given() = false for a setting given")
					}
				})
			}
		})
	}
}

// TestSettingDefaults: a setting no source gives has the flag's default,
// and is not given.
func TestSettingDefaults(t *testing.T) {
	for _, cmd := range commandsWithSettings() {
		s, err := resolveWith(t, cmd.Name(), nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			// resolveWith names its config file in FRAISE_CONFIG: --config
			// (the root's, merged into the command's flags) is given.
			if f.Name == "help" || f.Name == "config" {
				return
			}
			got := s.vals[f.Name]
			if got.from != fromDefault || s.given(f.Name) || fmt.Sprint(got.value) != fmt.Sprint(flagValue(f)) {
				t.Errorf("%s --%s: %#v from %v, want the default %#v", cmd.Name(), f.Name, got.value, got.from, flagValue(f))
			}
		})
	}
	s, err := resolveWith(t, "stream", nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.int("limit") != -1 || s.str("column") != "data" || s.bool("stats") || len(s.strs("where")) != 0 {
		t.Errorf("stream's defaults: limit %d, column %q, stats %t, where %q", s.int("limit"), s.str("column"), s.bool("stats"), s.strs("where"))
	}
}

// TestSettingVariableErrors: a FRAISE_* variable that is empty, or does
// not parse as its setting's kind, is a usage error naming it, for every
// setting it applies to; the command line beats a bad variable.
func TestSettingVariableErrors(t *testing.T) {
	for _, cmd := range commandsWithSettings() {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			env := envName(f.Name)
			cases := []struct{ value, want string }{}
			if !slices.Contains(emptyAllowed, f.Name) {
				cases = append(cases, struct{ value, want string }{"", env + " is set but empty; give "})
			}
			switch kindOf(f) {
			case kindBool:
				cases = append(cases, struct{ value, want string }{"banana", env + `="banana" is not a boolean`})
			case kindInt:
				cases = append(cases, struct{ value, want string }{"1e3", `invalid value "1e3" for ` + env + `: want ` + numberWhat(f.Name) + ` (e.g. ` + env + `=`})
			}
			for _, c := range cases {
				t.Run(cmd.Name()+"/"+f.Name+"/"+c.value, func(t *testing.T) {
					_, err := resolveWith(t, cmd.Name(), nil, map[string]string{env: c.value}, "")
					if err == nil || !strings.Contains(err.Error(), c.want) || exitCode(err) != ExitUsage {
						t.Fatalf("error %v (exit %d), want a usage error containing %q", err, exitCode(err), c.want)
					}
					if slices.Contains(settingsNotInProfiles, f.Name) {
						return // --config and --profile choose the file and profile
					}
					good := valuesFor(f)[fromFlag].text
					s, err := resolveWith(t, cmd.Name(), []string{"--" + f.Name + "=" + good}, map[string]string{env: c.value}, "")
					if err != nil || s.vals[f.Name].from != fromFlag {
						t.Errorf("with the flag given too: %v, from %v; want the flag's value", err, s.vals[f.Name].from)
					}
				})
			}
		})
	}
}
