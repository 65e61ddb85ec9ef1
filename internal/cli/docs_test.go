package cli_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/cli"
)

// TestExitStatuses: the documented table has every exit code, once, in
// order, each with a meaning.
func TestExitStatuses(t *testing.T) {
	want := []int{cli.ExitOK, cli.ExitInternal, cli.ExitUsage, cli.ExitConnection, cli.ExitQuery,
		cli.ExitFilter, cli.ExitOutput, cli.ExitSIGHUP, cli.ExitSIGINT, cli.ExitSIGTERM}
	var got []int
	for _, s := range cli.ExitStatuses() {
		got = append(got, s.Code)
		if strings.TrimSpace(s.Meaning) == "" {
			t.Errorf("exit %d has no meaning", s.Code)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
}

// TestNewRootCommand: the tree for the documentation has the commands, and
// they run.
func TestNewRootCommand(t *testing.T) {
	root := cli.NewRootCommand()
	if root.Name() != "fraise" {
		t.Fatalf("root is %q", root.Name())
	}
	for _, name := range []string{"stream", "version", "completion"} {
		c, _, err := root.Find([]string{name})
		if err != nil || c.Name() != name {
			t.Errorf("command %s: %v, %v", name, c, err)
		}
	}
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil {
		t.Errorf("version: %v", err)
	}
}
