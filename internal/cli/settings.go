package cli

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Every setting is read, and checked, once, where the command starts
// (loadSettings): from its flag, its FRAISE_* variable, or the config
// file's profile. What is wrong is a usage error (exit 2) that names where
// the value came from. Past that point values have the flag's own type.

// settingKind is the type of value a setting takes.
type settingKind int

const (
	kindString   settingKind = iota // one string
	kindStrings                     // repeatable: one string, or (in a profile) a list of them
	kindBool                        // a boolean, in any of PostgreSQL's spellings
	kindInt                         // a whole number
	kindDuration                    // a duration: 30s, 1m30s, 0 for none
	kindSize                        // a size: 64MiB, 1048576
)

// durationSettings and sizeSettings are the string flags that hold a
// duration or a size.
var (
	durationSettings = []string{"connect-timeout", "statement-timeout", "idle-timeout"}
	sizeSettings     = []string{"max-row-size"}
)

// emptyAllowed are the settings for which the empty string is a value: a
// --param binds the empty string as it binds any other. Every other setting
// refuses one, from any source, rather than read it as "not given": an
// unset $VAR in a cron line must not send the export to stdout or run
// without its --where.
var emptyAllowed = []string{"param"}

// whatToGive says, by flag, what a setting takes, for the message when it
// is empty. A setting that takes one of a fixed set lists its values
// (choicesOf), followed by what is here.
var whatToGive = map[string]string{
	"config":            "a config file",
	"profile":           "a profile name",
	"dsn":               "a connection string (leave it out for the PG* environment and libpq's defaults)",
	"where":             "an SQL condition",
	"order-by":          "an SQL ORDER BY expression",
	"column":            "a column name",
	"jq":                "a jq expression, such as --jq . or --jq .id",
	"arg":               "NAME VALUE, or NAME=VALUE",
	"argjson":           "NAME JSON, or NAME=JSON",
	"output":            "a file name, or - for standard output",
	"compress":          "(leave it out to choose by the --output suffix)",
	"connect-timeout":   "a duration such as 30s, or 0 for none",
	"statement-timeout": "a duration such as 30s, or 0 for none",
	"idle-timeout":      "a duration such as 30s, or 0 for none",
	"max-row-size":      "a size such as 64MiB",
}

// boolSpellings are the spellings parseBool takes, for messages.
const boolSpellings = "true/false, yes/no, on/off or 1/0"

// kindOf returns the kind of value flag f takes.
func kindOf(f *pflag.Flag) settingKind {
	switch {
	case slices.Contains(durationSettings, f.Name):
		return kindDuration
	case slices.Contains(sizeSettings, f.Name):
		return kindSize
	}
	switch t := f.Value.Type(); {
	case t == "bool":
		return kindBool
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return kindInt
	case strings.HasSuffix(t, "Array"), strings.HasSuffix(t, "Slice"):
		return kindStrings
	}
	return kindString
}

// envName is the FRAISE_* variable of a flag.
func envName(flag string) string {
	return "FRAISE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// whatToGiveFor says what flag f takes, for the message when it is empty.
func whatToGiveFor(f *pflag.Flag) string {
	if choicesOf(f.Name) != nil {
		return strings.TrimSpace(choiceList(f.Name) + " " + whatToGive[f.Name])
	}
	if s := whatToGive[f.Name]; s != "" {
		return s
	}
	switch kindOf(f) {
	case kindBool:
		return "a boolean (" + boolSpellings + ")"
	case kindInt:
		return "a whole number"
	}
	return "a value"
}

// parseBool reads a boolean as PostgreSQL does (parse_bool in
// src/backend/utils/adt/bool.c): true, yes, on, 1 and false, no, off, 0,
// in any case, around spaces, and any unique prefix of the words (t, y,
// n, f; on and of at least two letters).
func parseBool(s string) (value, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return false, false
	}
	prefix := func(word string, minLen int) bool { return len(s) >= minLen && strings.HasPrefix(word, s) }
	switch {
	case prefix("true", 1), prefix("yes", 1), prefix("on", 2), s == "1":
		return true, true
	case prefix("false", 1), prefix("no", 1), prefix("off", 2), s == "0":
		return false, true
	}
	return false, false
}

// pgBool is a boolean flag's value: it takes parseBool's spellings, as
// the flag's FRAISE_* variable and a profile do (--stats=yes).
type pgBool bool

func (b *pgBool) Set(s string) error {
	v, ok := parseBool(s)
	if !ok {
		return fmt.Errorf("not a boolean; use %s", boolSpellings)
	}
	*b = pgBool(v)
	return nil
}

func (b *pgBool) String() string   { return strconv.FormatBool(bool(*b)) }
func (b *pgBool) Type() string     { return "bool" }
func (b *pgBool) IsBoolFlag() bool { return true }

// addBoolFlag declares a boolean flag, false unless given, that takes
// parseBool's spellings.
func addBoolFlag(f *pflag.FlagSet, name, short, usage string) {
	f.VarPF(new(pgBool), name, short, usage).NoOptDefVal = "true"
}

// profileValue checks val, the profile's value of key, against the type
// of flag f, and returns it as the flag's type reads it: a string, a
// []string, a bool or an int64.
func (p *profile) profileValue(key string, f *pflag.Flag, val any) (any, error) {
	at := fmt.Sprintf("config file %s, profile %s: %s", p.file, p.name, key)
	kind := kindOf(f)
	wrong := func(expected string, v any) error {
		return &usageError{fmt.Errorf("%s must be %s, got %s%s", at, expected, describeValue(f.Name, v), quoteHint(kind, v))}
	}
	switch kind {
	case kindStrings:
		return stringsValue(at, f, val, wrong)
	case kindBool:
		if b, ok := boolValue(val); ok {
			return b, nil
		}
		return nil, wrong("a boolean ("+boolSpellings+")", val)
	case kindInt:
		if n, ok := wholeNumber(val); ok {
			return n, nil
		}
		return nil, wrong(numberWhat(f.Name), val)
	case kindDuration:
		return parsedValue(at, f, val, parseDurationAt, wrong, "a duration such as 30s or 1m30s (0 for none)")
	case kindSize:
		return parsedValue(at, f, val, parseSizeAt, wrong, "a size such as 64MiB or 1048576")
	}
	s, ok := val.(string)
	switch {
	case !ok:
		return nil, wrong("a string", val)
	case s == "":
		return nil, profileEmpty(at, f)
	}
	return s, nil
}

// boolValue reads a boolean as YAML gives it: true or false, a string in
// parseBool's spellings (YAML 1.2 reads an unquoted yes or on as one), or
// the number 1 or 0.
func boolValue(val any) (value, ok bool) {
	switch x := val.(type) {
	case bool:
		return x, true
	case string:
		return parseBool(x)
	case int:
		return x == 1, x == 0 || x == 1
	}
	return false, false
}

// parsedValue reads a duration or a size: a string, or a whole number
// (bytes; for a duration, only 0 goes without a unit), checked with
// parse. It returns the string.
func parsedValue[T any](at string, f *pflag.Flag, val any, parse func(at, s string) (T, error), wrong func(string, any) error, expected string) (string, error) {
	s, ok := val.(string)
	if n, whole := wholeNumber(val); whole {
		s, ok = strconv.FormatInt(n, 10), true
	}
	switch {
	case !ok:
		return "", wrong(expected, val)
	case s == "":
		return "", profileEmpty(at, f)
	}
	_, err := parse(at, s)
	return s, err
}

// stringsValue reads a repeatable setting's profile value: a string or a
// list of strings.
func stringsValue(at string, f *pflag.Flag, val any, wrong func(string, any) error) ([]string, error) {
	var items []any
	switch x := val.(type) {
	case string:
		items = []any{x}
	case []any:
		items = x
	default:
		return nil, wrong("a string or a list of strings", val)
	}
	out := make([]string, len(items))
	for i, e := range items {
		s, ok := e.(string)
		if !ok {
			return nil, &usageError{fmt.Errorf("%s: item %d must be a string, got %s%s", at, i+1, describeValue(f.Name, e), quoteHint(kindString, e))}
		}
		if s == "" && !slices.Contains(emptyAllowed, f.Name) {
			return nil, profileEmpty(at, f)
		}
		out[i] = s
	}
	return out, nil
}

// profileEmpty refuses an empty profile value.
func profileEmpty(at string, f *pflag.Flag) error {
	return &usageError{fmt.Errorf("%s is empty; give %s, or remove it", at, whatToGiveFor(f))}
}

// wholeNumber reads a whole number as YAML gives it (an int), or as a
// string of digits; not a float (1e3, 2.0).
func wholeNumber(val any) (int64, bool) {
	switch x := val.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), x <= math.MaxInt64
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// describeValue shows a wrong value and its YAML type. A dsn's is never
// shown whole: it may hold a password.
func describeValue(flag string, v any) string {
	switch x := v.(type) {
	case nil:
		return "no value"
	case bool:
		return strconv.FormatBool(x) + " (a boolean)"
	case int, int64, uint64:
		return fmt.Sprint(x) + " (a number)"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64) + " (a number with a decimal point or an exponent)"
	case string:
		if flag == "dsn" {
			return "a string"
		}
		return strconv.Quote(x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("a %T", v)
}

// quoteHint tells to quote a scalar that YAML read as a boolean or a
// number where a string is wanted.
func quoteHint(kind settingKind, v any) string {
	if kind != kindString && kind != kindStrings {
		return ""
	}
	switch v.(type) {
	case bool, int, int64, uint64, float64:
		return `; quote it ("…") for YAML to read it as a string`
	}
	return ""
}
