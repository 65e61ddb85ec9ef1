package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// The flags that take a whole number (--limit, --offset, --chunk-size,
// --parallel, --jq-workers, --count): decimal digits, read the same from
// the command line, a FRAISE_* variable and a profile's quoted string, and
// a value that is not one is refused with what a valid one looks like. A
// profile's unquoted number is YAML's, read before fraise sees it: YAML
// takes 010 as octal 8, 0x10 as 16 and 1_000 as 1000.

// numberSpec says what a whole-number flag takes, for messages.
type numberSpec struct {
	// what is the kind and range of value, "a whole number of rows, 0 or
	// more".
	what string
	// example is a valid value, "100".
	example string
}

// numberSpecs are the whole-number flags, by name (a test checks that
// every one has its line).
var numberSpecs = map[string]numberSpec{
	"limit":      {"a whole number of rows, 0 or more", "100"},
	"offset":     {"a whole number of rows, 0 or more", "1000"},
	"chunk-size": {"a whole number of rows, 1 or more", "1000"},
	"parallel":   {fmt.Sprintf("a whole number of connections, from 1 to %d", maxParallel), "4"},
	"jq-workers": {"a whole number of workers, 0 (fraise chooses) or more", "4"},
	"count":      {"a whole number of round trips, 1 or more", "10"},
}

// numberWhat says what whole-number flag name takes.
func numberWhat(name string) string {
	if s, ok := numberSpecs[name]; ok {
		return s.what
	}
	return "a whole number"
}

// numberExample is a valid value of flag name as given at: "--limit 100"
// on the command line, "FRAISE_LIMIT=100" in the environment, "" when
// the flag has no example.
func numberExample(name, at string) string {
	s, ok := numberSpecs[name]
	if !ok {
		return ""
	}
	if strings.HasPrefix(at, "--") {
		return " (e.g. " + at + " " + s.example + ")"
	}
	return " (e.g. " + at + "=" + s.example + ")"
}

// wholeNumberValue is a whole-number flag's value: decimal digits with an
// optional sign, as PostgreSQL and the flag's FRAISE_* variable read them
// (pflag's own reads 010 as octal 8 and 0x10 as 16).
type wholeNumberValue int64

func (n *wholeNumberValue) Set(s string) error {
	v, err := parseWholeNumber(s)
	if err != nil {
		return err
	}
	*n = wholeNumberValue(v)
	return nil
}

func (n *wholeNumberValue) String() string { return strconv.FormatInt(int64(*n), 10) }
func (n *wholeNumberValue) Type() string   { return "int" }

// addNumberFlag declares a whole-number flag.
func addNumberFlag(f *pflag.FlagSet, name string, value int64, usage string) {
	v := wholeNumberValue(value)
	f.Var(&v, name, usage)
}

// parseWholeNumber reads a whole number in decimal, around spaces.
func parseWholeNumber(s string) (int64, error) {
	return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
}

// wholeNumberError is the message for s, given at (--limit, or
// FRAISE_LIMIT) to whole-number flag name, when it is not one; err is
// the parser's.
func wholeNumberError(name, at, s string, err error) error {
	why := ""
	if errors.Is(err, strconv.ErrRange) {
		why = "out of range; "
	}
	return fmt.Errorf("invalid value %q for %s: %swant %s%s", s, at, why, numberWhat(name), numberExample(name, at))
}

// numberFlagError is the error for a whole-number flag the command line
// gave something else: what a valid value looks like, or that an empty
// one is not a value; any other error is returned as it is.
func numberFlagError(err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) || kindOf(ive.GetFlag()) != kindInt {
		return err
	}
	f, s := ive.GetFlag(), ive.GetValue()
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("--%s is empty; give %s%s", f.Name, numberWhat(f.Name), numberExample(f.Name, "--"+f.Name))
	}
	return wholeNumberError(f.Name, "--"+f.Name, s, err)
}
