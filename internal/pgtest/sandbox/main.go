// Command sandbox starts a throwaway PostgreSQL with the sample relations
// of internal/pgtest (internal/pgtest/fixtures.sql: v_user, v_seq, …),
// prints the FRAISE_DSN and the fraise commands to try from another shell,
// and keeps the server running until Ctrl-C, SIGTERM or SIGHUP (its
// terminal closed); then it stops the server and removes its directory.
// Run it with "make sandbox", which builds bin/fraise first.
//
// The printed DSN logs in as pgtest.RoleTrust over TCP to 127.0.0.1, which
// pg_hba.conf lets in without a password, so it works for any local user,
// also when the server runs as an unprivileged user because the sandbox
// runs as root.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/pgtest/tryout"
)

func main() { tryout.Main(run) }

// run starts the server, prints how to use it to stdout and waits for ctx
// to end (a signal, in main); status lines and errors go to stderr. It
// returns the exit code: 0 when the server was stopped and removed, 2 for
// a bad command line, 1 for any other failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fraise := fs.String("fraise", "bin/fraise", "the fraise `binary` the printed commands run (make sandbox builds bin/fraise)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := tryout.Binary(*fraise, "sandbox"); err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 2
	}
	fmt.Fprintln(stderr, "sandbox: starting a throwaway PostgreSQL…")
	srv, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	printUsage(stdout, srv, *fraise)
	<-ctx.Done()
	fmt.Fprintf(stderr, "\nsandbox: %v; stopping PostgreSQL…\n", context.Cause(ctx))
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "sandbox: stopping PostgreSQL failed: %v\n(its files are in %s; remove them once nothing uses them)\n", err, srv.Dir)
		return 1
	}
	fmt.Fprintf(stderr, "sandbox: PostgreSQL stopped and %s removed\n", srv.Dir)
	return 0
}

// printUsage prints the server's address and directory and the commands
// to run from another shell: a block of shell lines, each indented by four
// spaces, that works as it is once pasted.
func printUsage(w io.Writer, srv *pgtest.Server, fraise string) {
	fmt.Fprintf(w, "PostgreSQL %d is running on 127.0.0.1:%d with the sample relations of internal/pgtest/fixtures.sql (v_user: 20 users, v_seq: 100,000 rows, …).\n", srv.Major, srv.Port)
	fmt.Fprintf(w, "Its files, removed when the sandbox stops: %s\n\n", srv.Dir)
	fmt.Fprintln(w, "In another shell:")
	fmt.Fprintln(w)
	for _, line := range shellLines(srv.URL(pgtest.RoleTrust, false), fraise) {
		fmt.Fprintf(w, "    %s\n", line)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The role %s needs no password (trust, on loopback only); psql works too: %s \"$FRAISE_DSN\"\n", pgtest.RoleTrust, psqlCommand(srv))
	fmt.Fprintln(w, "Ctrl-C here stops the server and removes its files.")
}

// shellLines returns the commands to paste into a shell: a cd into the
// current directory when fraise is a relative path, the export of
// FRAISE_DSN, then a tour of fraise.
func shellLines(dsn, fraise string) []string {
	var lines []string
	if !filepath.IsAbs(fraise) && strings.ContainsRune(fraise, '/') {
		if wd, err := os.Getwd(); err == nil {
			lines = append(lines, "cd "+tryout.ShellQuote(wd))
		}
	}
	f := tryout.ShellQuote(fraise)
	return append(lines,
		"export FRAISE_DSN="+tryout.ShellQuote(dsn),
		f+" views",
		f+" ping",
		f+` stream v_user --where "data->>'active' = 'true'" --order-by "data->>'name' DESC" --limit 3`,
		f+` stream v_user --jq '"\(.name) <\(.email)>"' -r --limit 3`,
		f+" stream v_seq | head -n 2",
	)
}

// psqlCommand returns how to run psql from a shell: psql when one is on
// PATH, else the harness's by its full path.
func psqlCommand(srv *pgtest.Server) string {
	if _, err := exec.LookPath("psql"); err == nil {
		return "psql"
	}
	return tryout.ShellQuote(srv.PsqlPath)
}
