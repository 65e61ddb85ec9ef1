package cli

import (
	"context"
	"os"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/cobra"
)

// What completion asks the server: the relations for stream's RELATION
// (views.go) and a relation's columns for --column, --order-by and
// --split-by (completion_columns.go). Either connects only when a server
// is configured, with the settings the command line has so far, gives up
// after completionTimeout, and on any failure offers nothing and says
// nothing: whatever it printed would land in the user's shell.

// completionTimeout bounds a completion's lookup, connecting included: a
// shell waits on it. (A variable for tests.)
var completionTimeout = 2 * time.Second

// completionEnv are the libpq variables any of which, when set, say that
// a server is configured for completion to ask.
var completionEnv = []string{"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"}

// completionSettings resolves cmd's settings as its run would, from the
// command line typed so far, its FRAISE_* variables and the profile: nil
// when they are wrong or name no server.
func completionSettings(cmd *cobra.Command) *settings {
	s, err := resolveSettings(cmd, nil)
	if err != nil || !connectionConfigured(s) {
		return nil
	}
	return s
}

// connectionConfigured reports whether --dsn, FRAISE_DSN, the profile or
// a libpq variable names a server.
func connectionConfigured(s *settings) bool {
	if s.str("dsn") != "" {
		return true
	}
	for _, k := range completionEnv {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// completionLookup connects with s's connection settings and runs lookup
// on the session. It reports false when connecting or lookup fails, or
// when both take longer than completionTimeout: the shell is answered
// then, and the session is cancelled and closed soon after.
func completionLookup[T any](cmd *cobra.Command, s *settings, lookup func(context.Context, *wire.Conn) (T, error)) (T, bool) {
	var zero T
	// No password_command: a completion must never prompt.
	cfg, err := connConfig(s, nil)
	if err != nil {
		return zero, false
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := wire.Connect(ctx, cfg)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		v, err := lookup(ctx, conn)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err == nil
	case <-ctx.Done():
		return zero, false
	}
}
