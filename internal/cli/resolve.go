package cli

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Where a setting's value comes from is decided here and nowhere else:
// the command line, then the flag's FRAISE_* variable, then the config
// file's profile, then the flag's default. (The connection settings have
// a further rank below, the PG* environment, which wire.ParseConfig reads
// under whatever --dsn this gives.) Every value is checked for its kind
// as it is resolved, and a wrong one is a usage error that names where it
// came from; past resolveSettings values have their kind's Go type.

// source is where a setting's value came from, lowest rank first.
type source int

const (
	fromDefault source = iota // the flag's default
	fromProfile               // the config file's profile
	fromEnv                   // the flag's FRAISE_* variable
	fromFlag                  // the command line
)

// setting is one resolved value: a string (also for durations and sizes,
// checked), a []string, a bool or an int64, by the flag's kind.
type setting struct {
	value any
	from  source
}

// settings are one command's settings, resolved once.
type settings struct {
	vals map[string]setting // by flag name
	// profile is the config file's chosen profile, nil when none is.
	profile *profile
}

// resolveSettings resolves every flag of cmd from its sources; warn
// receives a warning about a config file others can read.
func resolveSettings(cmd *cobra.Command, warn func(string)) (*settings, error) {
	s := &settings{vals: map[string]setting{}}
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Name == "help" {
			return
		}
		var st setting
		var ok bool
		if st, ok, err = commandLineSetting(f); ok {
			s.vals[f.Name] = st
		}
	})
	if err != nil {
		return nil, err
	}
	if s.profile, err = loadProfile(s, warn); err != nil {
		return nil, err
	}
	for name, val := range s.profile.settingsFor(cmd) {
		if _, set := s.vals[name]; !set {
			s.vals[name] = setting{value: val, from: fromProfile}
		}
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if _, set := s.vals[f.Name]; !set && f.Name != "help" {
			s.vals[f.Name] = setting{value: flagValue(f), from: fromDefault}
		}
	})
	return s, nil
}

// commandLineSetting is f's value from the command line, else from its
// FRAISE_* variable, and whether either gave one. An empty value is
// refused from both (see emptyAllowed), and a variable must parse as f's
// kind: the command line's values pflag has parsed already.
func commandLineSetting(f *pflag.Flag) (setting, bool, error) {
	give := whatToGiveFor(f)
	if f.Changed {
		st := setting{value: flagValue(f), from: fromFlag}
		vals := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		if slices.Contains(vals, "") && !slices.Contains(emptyAllowed, f.Name) {
			return st, false, &usageError{fmt.Errorf("--%s is empty; give %s", f.Name, give)}
		}
		return st, true, nil
	}
	name := envName(f.Name)
	s, ok := os.LookupEnv(name)
	if !ok {
		return setting{}, false, nil
	}
	if s == "" && !slices.Contains(emptyAllowed, f.Name) {
		return setting{}, false, &usageError{fmt.Errorf("%s is set but empty; give %s, or unset %s", name, give, name)}
	}
	val, err := envValue(f, name, s)
	return setting{value: val, from: fromEnv}, err == nil, err
}

// envValue reads s, the value of f's variable name, as f's kind: a
// repeatable setting takes it as one value, never split on spaces or
// commas (SQL holds both).
func envValue(f *pflag.Flag, name, s string) (any, error) {
	switch kindOf(f) {
	case kindStrings:
		return []string{s}, nil
	case kindBool:
		b, ok := parseBool(s)
		if !ok {
			return nil, &usageError{fmt.Errorf("%s=%q is not a boolean; use %s (any case)", name, s, boolSpellings)}
		}
		return b, nil
	case kindInt:
		n, err := parseWholeNumber(s)
		if err != nil {
			return nil, &usageError{wholeNumberError(f.Name, name, s, err)}
		}
		return n, nil
	}
	return s, nil
}

// flagValue is f's value as its kind's Go type: what the command line
// gave, or the default.
func flagValue(f *pflag.Flag) any {
	switch kindOf(f) {
	case kindStrings:
		// GetStringArray round-trips through text and loses a lone "".
		return slices.Clone(f.Value.(pflag.SliceValue).GetSlice())
	case kindBool:
		b, _ := parseBool(f.Value.String())
		return b
	case kindInt:
		n, _ := strconv.ParseInt(f.Value.String(), 10, 64)
		return n
	}
	return f.Value.String()
}

// str returns a string setting ("" for a flag the command lacks).
func (s *settings) str(name string) string {
	v, _ := s.vals[name].value.(string)
	return v
}

// strs returns a repeatable setting.
func (s *settings) strs(name string) []string {
	v, _ := s.vals[name].value.([]string)
	return v
}

// bool returns a boolean setting.
func (s *settings) bool(name string) bool {
	v, _ := s.vals[name].value.(bool)
	return v
}

// int returns a whole-number setting.
func (s *settings) int(name string) int64 {
	v, _ := s.vals[name].value.(int64)
	return v
}

// given reports whether a setting was given, by any source but the
// flag's default.
func (s *settings) given(name string) bool {
	st, ok := s.vals[name]
	return ok && st.from != fromDefault
}

// givenAbove reports whether a setting was given by a source that ranks
// above the profile: the command line or the flag's variable.
func (s *settings) givenAbove(name string) bool { return s.vals[name].from > fromProfile }
