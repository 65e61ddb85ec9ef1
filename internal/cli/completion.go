package cli

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire/pgconf"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// completionShells are the shells "fraise completion" writes a script for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

const completionLong = `Write the completion script for SHELL (bash, zsh, fish or powershell) on
standard output. The script completes commands, flags and their values by
asking fraise itself (a hidden "fraise __complete" command), so it stays
right when fraise is upgraded. The release archives carry the same scripts
in completions/, and the deb and rpm packages install them.

bash (needs the bash-completion package):
  for this shell:   source <(fraise completion bash)
  for every shell:  fraise completion bash > ~/.local/share/bash-completion/completions/fraise
  or, system-wide:  fraise completion bash > /usr/share/bash-completion/completions/fraise

zsh (completion must be on: "autoload -U compinit; compinit" in ~/.zshrc):
  for this shell:   source <(fraise completion zsh)
  for every shell:  fraise completion zsh > "${fpath[1]}/_fraise"
  or, system-wide:  fraise completion zsh > /usr/share/zsh/vendor-completions/_fraise

fish:
  for this shell:   fraise completion fish | source
  for every shell:  fraise completion fish > ~/.config/fish/completions/fraise.fish

powershell:
  for this shell:   fraise completion powershell | Out-String | Invoke-Expression
  for every shell:  add that line to the file $PROFILE names

A new shell picks up the installed script.`

const completionExample = `  source <(fraise completion bash)
  fraise completion zsh > "${fpath[1]}/_fraise"
  fraise completion fish > ~/.config/fish/completions/fraise.fish
  fraise completion powershell | Out-String | Invoke-Expression`

func newCompletionCmd(app *app) *cobra.Command {
	return &cobra.Command{
		Use:       "completion SHELL",
		Short:     "Print the completion script for bash, zsh, fish or powershell",
		Long:      completionLong,
		Example:   completionExample,
		ValidArgs: completionShells,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{fmt.Errorf("completion takes exactly one SHELL argument (%s), got %d", shellList(), len(args))}
			}
			for _, s := range completionShells {
				if args[0] == s {
					return nil
				}
			}
			return &usageError{fmt.Errorf("unknown shell %q: completion scripts exist for %s", args[0], shellList())}
		},
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			var err error
			switch args[0] {
			case "bash":
				err = root.GenBashCompletionV2(app.stdout, true)
			case "zsh":
				err = root.GenZshCompletion(app.stdout)
			case "fish":
				err = root.GenFishCompletion(app.stdout, true)
			default:
				err = root.GenPowerShellCompletionWithDesc(app.stdout)
			}
			if err != nil {
				// Only writing can fail: a reader gone is exit 0, a full
				// disk exit 6, as for stream.
				return &output.WriteError{Err: err}
			}
			return nil
		},
	}
}

// shellList is "bash, zsh, fish or powershell".
func shellList() string {
	n := len(completionShells)
	return strings.Join(completionShells[:n-1], ", ") + " or " + completionShells[n-1]
}

// valueCompletions complete, by flag, the values of the flags that take
// neither one of a fixed set (choicesOf) nor a file name (fileFlags).
var valueCompletions = map[string]cobra.CompletionFunc{
	"profile":  completeProfiles,
	"column":   completeColumns(offerJSONColumn),
	"order-by": completeColumns(offerOrderItem),
	"split-by": completeColumns(offerColumn),
}

// fileFlags are the flags that name a file: the shell completes file
// names for them.
var fileFlags = []string{"config", "output"}

// registerCompletions gives the flags of cmd and of its commands their
// values' completion: a fixed set's values, valueCompletions', file
// names for fileFlags, and for every other flag nothing (a file name
// would be wrong).
func registerCompletions(cmd *cobra.Command) {
	cmd.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		fn := valueCompletions[f.Name]
		switch {
		case slices.Contains(fileFlags, f.Name):
			return
		case choicesOf(f.Name) != nil:
			fn = completeChoices(f.Name)
		case fn == nil:
			fn = cobra.NoFileCompletions
		}
		if err := cmd.RegisterFlagCompletionFunc(f.Name, fn); err != nil {
			panic(err) // a flag registered twice: a bug
		}
	})
	for _, c := range cmd.Commands() {
		registerCompletions(c)
	}
}

// completeProfiles completes --profile with the profile names of the
// config file --config or FRAISE_CONFIG names, else of the default one;
// the default profile and each profile's database and host (from its
// dsn, which is never shown) are described. A config file that is
// missing, unreadable or wrong completes nothing, and says nothing.
func completeProfiles(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	none := cobra.ShellCompDirectiveNoFileComp
	s := &settings{vals: map[string]setting{}}
	if f := cmd.Flag("config"); f != nil {
		st, ok, err := commandLineSetting(f)
		if err != nil {
			return nil, none
		}
		if ok {
			s.vals["config"] = st
		}
	}
	file, _ := configFileName(s)
	if file == "" {
		return nil, none
	}
	cf, err := readConfig(file)
	if err != nil {
		return nil, none
	}
	var out []cobra.Completion
	for _, name := range cf.names() {
		if strings.HasPrefix(name, toComplete) && strings.IndexFunc(name, unicode.IsControl) < 0 {
			out = append(out, withDesc(name, cf.describe(name)))
		}
	}
	return out, none
}

// describe says of profile name whether it is the default, and which
// database on which host its dsn names.
func (cf *configFile) describe(name string) string {
	var parts []string
	if strings.EqualFold(cf.defaultProfile, name) {
		parts = append(parts, "default profile")
	}
	dsn, _ := cf.profiles[name]["dsn"].(string)
	if st, err := pgconf.Parse(dsn); err == nil && dsn != "" {
		switch db, host := st["dbname"], st["host"]; {
		case db != "" && host != "":
			parts = append(parts, "database "+db+" on "+host)
		case db != "":
			parts = append(parts, "database "+db)
		case host != "":
			parts = append(parts, "host "+host)
		}
	}
	return strings.Join(parts, ", ")
}

// withDesc is value completed with desc as its description, when there is
// one; its control characters escaped, for they would break the lines
// the shell reads.
func withDesc(value, desc string) cobra.Completion {
	if desc == "" {
		return value
	}
	return cobra.CompletionWithDesc(value, cell(desc))
}
