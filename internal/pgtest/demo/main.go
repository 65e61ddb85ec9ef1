// Command demo starts a throwaway PostgreSQL with the sample relations of
// internal/pgtest, streams one of them through fraise with --where and
// --order-by, and stops the server. Run it with "make demo".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(os.Stderr, "demo: starting a throwaway PostgreSQL…")
	srv, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		return 1
	}
	defer srv.Close()
	dsn := srv.ConnString(pgtest.RoleSCRAM, true) + " password=" + quote(pgtest.Password(pgtest.RoleSCRAM))
	fmt.Fprintf(os.Stderr, "demo: PostgreSQL %d on 127.0.0.1:%d, socket %s\n\n", srv.Major, srv.Port, srv.SocketDir)

	args := []string{"stream", "v_user",
		"--where", "data->>'active' = 'true'",
		"--where", "(data->>'age')::int >= 30",
		"--order-by", "data->>'name' DESC",
		"--limit", "5"}
	fmt.Fprintf(os.Stderr, "$ FRAISE_DSN='postgres://%s:…@127.0.0.1:%d/%s' fraise %s\n", pgtest.RoleSCRAM, srv.Port, pgtest.Database, shellJoin(args))
	os.Setenv("FRAISE_DSN", dsn)
	code := cli.Run(ctx, args, os.Stdout, os.Stderr)
	fmt.Fprintf(os.Stderr, "\ndemo: fraise exited %d; stopping PostgreSQL\n", code)
	return code
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"$>()") {
			a = `"` + a + `"`
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
