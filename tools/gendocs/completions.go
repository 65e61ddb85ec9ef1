// Completion scripts: cobra's, as "fraise completion SHELL" writes them.

package main

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// completionFiles are the scripts written, by file name, each by the
// generator "fraise completion" uses for that shell.
var completionFiles = []struct {
	name string
	gen  func(*cobra.Command, *bytes.Buffer) error
}{
	{"fraise.bash", func(c *cobra.Command, b *bytes.Buffer) error { return c.GenBashCompletionV2(b, true) }},
	{"fraise.zsh", func(c *cobra.Command, b *bytes.Buffer) error { return c.GenZshCompletion(b) }},
	{"fraise.fish", func(c *cobra.Command, b *bytes.Buffer) error { return c.GenFishCompletion(b, true) }},
	{"fraise.ps1", func(c *cobra.Command, b *bytes.Buffer) error { return c.GenPowerShellCompletionWithDesc(b) }},
}

// writeCompletions writes the completion scripts of root into dir.
func writeCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range completionFiles {
		var b bytes.Buffer
		if err := f.gen(root, &b); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
