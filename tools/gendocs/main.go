// Command gendocs writes fraise's generated documentation from the command
// definitions in internal/cli: a man page per command (man/fraise.1,
// man/fraise-stream.1, …) and the completion scripts (completions/fraise.bash,
// .zsh, .fish, .ps1). "make generate" runs it; "make check-generated" runs
// it into a temporary directory and compares. It is a tool of the
// repository, not installed with fraise.
//
// Usage:
//
//	go run ./tools/gendocs [-man DIR] [-completions DIR]
//
// The pages' date is SOURCE_DATE_EPOCH when set and not empty, else
// defaultDate, so that the output depends on nothing but the sources.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
)

// defaultDate is the man pages' date when SOURCE_DATE_EPOCH is not set: the
// committed pages carry it. Move it forward when the pages change for a
// release.
var defaultDate = time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gendocs", flag.ContinueOnError)
	manDir := fs.String("man", "man", "directory of the man pages (its *.1 files are replaced)")
	compDir := fs.String("completions", "completions", "directory of the completion scripts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	date, err := pageDate(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	if err := writeManPages(cli.NewRootCommand(), *manDir, date); err != nil {
		return err
	}
	return writeCompletions(cli.NewRootCommand(), *compDir)
}

// pageDate is the date of SOURCE_DATE_EPOCH (seconds since 1970, UTC), or
// defaultDate when it is empty.
func pageDate(epoch string) (time.Time, error) {
	if epoch == "" {
		return defaultDate, nil
	}
	n, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, errors.New("SOURCE_DATE_EPOCH must be a number of seconds since 1970-01-01, got " + strconv.Quote(epoch))
	}
	return time.Unix(n, 0).UTC(), nil
}
