// Command demo starts a throwaway PostgreSQL with the sample relations of
// internal/pgtest and runs a short tour of fraise against it: each
// command is printed as a shell would show it, then its output. The tour
// runs the fraise binary (-fraise, bin/fraise by default: make demo builds
// it), so that its pipeline is a real one. The server is stopped and every
// file removed at the end; a failing step ends the demo with exit code 1,
// naming the step. Run it with "make demo"; "make sandbox" keeps a server
// running instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/pgtest/tryout"
)

func main() { tryout.Main(run) }

// run parses args, starts the server, runs the tour and stops the server.
// The tour goes to stdout, fraise's own standard error and the demo's
// status lines to stderr. It returns 0 when every step passed, 2 for a
// bad command line and 1 otherwise.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fraise := fs.String("fraise", "bin/fraise", "the fraise `binary` to run (make demo builds bin/fraise)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bin, err := tryout.Binary(*fraise, "demo")
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 2
	}
	err = withServer(ctx, stderr, func(srv *pgtest.Server, dir string) error {
		t := newTour(srv, bin, dir, stdout, stderr)
		return t.run(ctx, steps(dir))
	})
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	return 0
}

// withServer starts the server and a temporary directory, calls fn, and
// stops and removes both, saying so on w.
func withServer(ctx context.Context, w io.Writer, fn func(srv *pgtest.Server, dir string) error) (err error) {
	dir, err := os.MkdirTemp("", "fraise-demo-*")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	fmt.Fprintln(w, "demo: starting a throwaway PostgreSQL…")
	srv, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		return err
	}
	err = fn(srv, dir)
	if cerr := srv.Close(); cerr != nil {
		return errors.Join(err, fmt.Errorf("stopping PostgreSQL: %w", cerr))
	}
	if err != nil {
		fmt.Fprintln(w, "demo: PostgreSQL stopped and its files removed")
		return err
	}
	fmt.Fprintln(w, "demo: every step passed; PostgreSQL stopped and its files removed (make sandbox keeps one running)")
	return nil
}
