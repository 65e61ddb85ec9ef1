package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// helpWidth is the width --help wraps the flags' descriptions to: a
// terminal's usual 80 columns. Unwrapped, a description runs past the
// edge and the terminal breaks it wherever the column ends, mid-word;
// wrapped, each continuation line starts under the description's first.
const helpWidth = 80

// writeUsage is the usage part of every command's --help (after its long
// description): the usage line, the examples, the commands under it, and
// its flags and the inherited ones, their descriptions wrapped to
// helpWidth.
func writeUsage(c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:")
	if c.Runnable() {
		b.WriteString("\n  " + c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\n  " + c.CommandPath() + " [command]")
	}
	if c.HasExample() {
		b.WriteString("\n\nExamples:\n" + c.Example)
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\n\nAvailable Commands:")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "\n  %-*s %s", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		b.WriteString("\n\nFlags:\n" + flagUsages(c.LocalFlags()))
	}
	if c.HasAvailableInheritedFlags() {
		b.WriteString("\n\nGlobal Flags:\n" + flagUsages(c.InheritedFlags()))
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\n\nUse \"%s [command] --help\" for more information about a command.", c.CommandPath())
	}
	b.WriteString("\n")
	_, err := io.WriteString(c.OutOrStderr(), b.String())
	return err
}

// flagUsages lists the flags of f, one per line, each description
// wrapped at spaces to helpWidth and indented under its first line.
func flagUsages(f *pflag.FlagSet) string {
	return strings.TrimRight(f.FlagUsagesWrapped(helpWidth), " \n")
}
