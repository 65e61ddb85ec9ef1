package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time with -ldflags "-X github.com/fraiseql/fraise/internal/cli.version=…".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func newVersionCmd(app *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit, build date and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(app.stdout, versionText())
			return err
		},
	}
}

// versionText is what "fraise version" and "fraise --version" print.
func versionText() string {
	c, d := commit, date
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	return fmt.Sprintf("fraise %s\ncommit: %s\nbuilt: %s\ngo: %s %s/%s\n",
		version, c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
