package cli

import (
	"fmt"
	"strings"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/spf13/cobra"
)

// The settings that take one value of a fixed set read it here: the check
// of a value, the message when it is wrong or empty, and shell completion
// all use the one list of a flag's values.

// choice is one value of a setting that takes one of a fixed set, with
// what it does in a few words (completion shows them).
type choice struct{ value, desc string }

// fixedChoices are, by flag, the values of the settings that take one of a
// fixed set, in the order messages list them. --compress's come from
// output.Compressions, described by compressDescs (choicesOf).
var fixedChoices = map[string][]choice{
	"format": {
		{"ndjson", "one value per line"},
		{"json", "one array of the values"},
	},
	"on-jq-error": {
		{"fail", "stop at the first row --jq fails on, exit 5"},
		{"skip", "warn, drop the row and go on"},
	},
	"progress": {
		{"auto", "when stderr is a terminal and the rows go elsewhere"},
		{"always", "even when stderr is not a terminal"},
		{"never", "no progress bar"},
	},
	"log-format": {
		{"text", "key=value lines"},
		{"json", "one JSON object per line"},
	},
	"resume": {
		{"continue", "go on after an earlier run's sealed segments"},
		{"restart", "discard an earlier run's segments, start over"},
	},
}

// compressDescs describe output's compression formats, by name.
var compressDescs = map[string]string{
	"gzip": "gzip, as the .gz suffix chooses",
	"zstd": "Zstandard, as the .zst suffix chooses",
	"none": "no compression, whatever the --output suffix",
}

// choicesOf returns the values flag takes, or nil when it takes any.
func choicesOf(flag string) []choice {
	if flag != "compress" {
		return fixedChoices[flag]
	}
	cs := make([]choice, 0, len(output.Compressions))
	for _, c := range output.Compressions {
		cs = append(cs, choice{c.String(), compressDescs[c.String()]})
	}
	return cs
}

// choiceList is "a, b or c", the values flag takes.
func choiceList(flag string) string {
	cs := choicesOf(flag)
	vals := make([]string, len(cs))
	for i, c := range cs {
		vals[i] = c.value
	}
	if n := len(vals); n > 1 {
		return strings.Join(vals[:n-1], ", ") + " or " + vals[n-1]
	}
	return strings.Join(vals, "")
}

// oneOf returns setting flag's value, in lower case, when it is one of
// the flag's values, else a usage error that lists them.
func oneOf(s *settings, flag string) (string, error) {
	if v := strings.ToLower(s.str(flag)); isChoice(flag, v) {
		return v, nil
	}
	return "", &usageError{fmt.Errorf("--%s must be %s, got %q", flag, choiceList(flag), s.str(flag))}
}

// completeChoices completes flag's values, each with what it does; no file
// names.
func completeChoices(flag string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, c := range choicesOf(flag) {
			if strings.HasPrefix(c.value, toComplete) {
				out = append(out, cobra.CompletionWithDesc(c.value, c.desc))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// isChoice reports whether v is one of flag's values.
func isChoice(flag, v string) bool {
	for _, c := range choicesOf(flag) {
		if v == c.value {
			return true
		}
	}
	return false
}
