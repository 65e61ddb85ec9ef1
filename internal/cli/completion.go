package cli

import (
	"fmt"
	"strings"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/spf13/cobra"
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
		Short:     "Print the shell completion script for bash, zsh, fish or powershell",
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
