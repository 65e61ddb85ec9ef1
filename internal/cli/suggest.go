package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fraiseql/fraise/internal/suggest"
	"github.com/fraiseql/fraise/internal/wire/pgconf"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// didYouMean is the end of an unknown command's message: the command it
// was probably meant to be, if one is close.
func didYouMean(cmd *cobra.Command, word string) string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if near := suggest.Nearest(word, names); near != "" {
		return fmt.Sprintf("; did you mean %q?", near)
	}
	return ""
}

// withFlagSuggestion adds to an unknown flag's error the flag it was
// probably meant to be, if one of cmd's is close.
func withFlagSuggestion(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var names []string
	add := func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	}
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	if near := suggest.Nearest(name, names); near != "" {
		return fmt.Errorf("%w; did you mean --%s?", err, near)
	}
	return err
}

// keywordSuggestion is the advice for a connection keyword libpq does not
// know (its message is libpq's, word for word): the keyword probably
// meant, or "" when none is close.
func keywordSuggestion(err error) string {
	var pe *pgconf.ParseError
	if !errors.As(err, &pe) || pe.Kind != pgconf.KindUnknownKeyword {
		return ""
	}
	if near := suggest.Nearest(pe.Keyword, pgconf.Keywords()); near != "" {
		return fmt.Sprintf("did you mean %q? (a libpq connection keyword)", near)
	}
	return ""
}
