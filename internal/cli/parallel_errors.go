package cli

import "fmt"

// Advice on a parallel run that cannot start.
const (
	exportHint      = "--parallel needs pg_export_snapshot() (standbys from PostgreSQL 10) in a transaction of its own; run without --parallel"
	connectionsHint = "check the server's max_connections and a pooler's pool size (--parallel N needs N+1 connections), or run with a smaller --parallel"
)

// parallelRoomHint is the advice when the server has room for room more
// connections.
func parallelRoomHint(room int) string {
	if room < 2 {
		return "run on one connection (leave --parallel out), or when the server is less busy"
	}
	return fmt.Sprintf("run with --parallel %d or fewer, or when the server is less busy", room)
}

// parallelError is a parallel run that cannot go on: what failed, the
// server's error if any, and what to do.
type parallelError struct {
	msg        string
	err        error
	hint       string
	connection bool // exit 3: no room for the connections
}

func (e *parallelError) Error() string {
	if e.err == nil {
		return "--parallel: " + e.msg
	}
	return "--parallel: " + e.msg + ": " + e.err.Error()
}

func (e *parallelError) Unwrap() error { return e.err }
