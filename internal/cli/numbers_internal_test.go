package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestNumberFlagsDescribed: every whole-number flag says what it takes,
// and reads decimal digits as its FRAISE_* variable does.
func TestNumberFlagsDescribed(t *testing.T) {
	for _, cmd := range commandsWithSettings() {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if kindOf(f) != kindInt {
				return
			}
			if _, ok := numberSpecs[f.Name]; !ok {
				t.Errorf("%s --%s: no line in numberSpecs", cmd.Name(), f.Name)
			}
			if _, ok := f.Value.(*wholeNumberValue); !ok {
				t.Errorf("%s --%s: a %T, not declared with addNumberFlag", cmd.Name(), f.Name, f.Value)
			}
		})
	}
}

// TestWholeNumberValue: decimal digits with a sign, around spaces; not
// pflag's octal, hexadecimal or underscores.
func TestWholeNumberValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"10", 10, true},
		{"010", 10, true},
		{" 7 ", 7, true},
		{"-3", -3, true},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"1e3", 0, false},
		{"", 0, false},
	} {
		var v wholeNumberValue
		err := v.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && int64(v) != tc.want) {
			t.Errorf("Set(%q) = %d, %v; want %d, ok %t", tc.in, v, err, tc.want, tc.ok)
		}
	}
}

// TestNumberFlagErrors: a whole-number flag given something else says
// what a valid value looks like, exit 2, before connecting.
func TestNumberFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stream", "v", "--limit", "abc"}, `fraise: invalid value "abc" for --limit: want a whole number of rows, 0 or more (e.g. --limit 100)` + "\n"},
		{[]string{"stream", "v", "--offset=1.5"}, `fraise: invalid value "1.5" for --offset: want a whole number of rows, 0 or more (e.g. --offset 1000)` + "\n"},
		{[]string{"stream", "v", "--chunk-size", "1e3"}, `fraise: invalid value "1e3" for --chunk-size: want a whole number of rows, 1 or more (e.g. --chunk-size 1000)` + "\n"},
		{[]string{"stream", "v", "--parallel", "99999999999999999999"}, `fraise: invalid value "99999999999999999999" for --parallel: out of range; want a whole number of connections, from 1 to 64 (e.g. --parallel 4)` + "\n"},
		{[]string{"stream", "v", "--jq-workers", "all"}, `fraise: invalid value "all" for --jq-workers: want a whole number of workers, 0 (fraise chooses) or more (e.g. --jq-workers 4)` + "\n"},
		{[]string{"stream", "v", "--limit="}, `fraise: --limit is empty; give a whole number of rows, 0 or more (e.g. --limit 100)` + "\n"},
		{[]string{"ping", "--count", "x"}, `fraise: invalid value "x" for --count: want a whole number of round trips, 1 or more (e.g. --count 10)` + "\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tc.args, &stdout, &stderr)
			if code != ExitUsage || !strings.HasPrefix(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d, stderr starting:\n%s", code, stderr.String(), ExitUsage, tc.want)
			}
		})
	}
}
