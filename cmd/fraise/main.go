// Command fraise streams JSON documents out of PostgreSQL relations into
// shell pipelines and files.
package main

import (
	"os"

	"github.com/fraiseql/fraise/internal/cli"
)

func main() { os.Exit(cli.Main()) }
