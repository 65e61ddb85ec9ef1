package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// NewRootCommand returns fraise's command tree, as Run builds it, with
// every command's output discarded. It is for generating documentation
// (man pages, completion scripts) from the command definitions; commands
// are run through Run or Main.
func NewRootCommand() *cobra.Command {
	return newRootCmd(&app{stdout: io.Discard, stderr: io.Discard})
}

// ExitStatus is one row of fraise's table of exit codes.
type ExitStatus struct {
	// Code is the process's exit code.
	Code int
	// Meaning says when fraise exits with it.
	Meaning string
}

// ExitStatuses returns the table of exit codes, as the README and the man
// pages give it, in increasing order of code.
func ExitStatuses() []ExitStatus {
	return []ExitStatus{
		{ExitOK, "success, including when the reader closed the pipe early (| head, | true)"},
		{ExitInternal, "unexpected internal error"},
		{ExitUsage, "usage: bad flag, invalid relation or column name, bad connection string, jq expression that does not compile, a --where or --order-by that reaches past its parentheses, an invalid config file or unknown profile, a --resume output another command wrote; found before connecting (a --resume key's session settings, once connected)"},
		{ExitConnection, "connection: network, TLS, authentication, server unavailable, connection lost"},
		{ExitQuery, "query: the server rejected or aborted the query (syntax error in --where, unknown relation, column not json/jsonb, read-only violation, pg_terminate_backend), or a limit ended it (--statement-timeout, --idle-timeout, --max-row-size), or the --resume key is not unique, or NULL"},
		{ExitFilter, "filter: the --jq expression failed on a row (--on-jq-error fail); also halt_error's default, while halt_error(N) exits N"},
		{ExitOutput, "output: the output cannot be written (disk full, permission, missing directory, file size limit); with -o, a previous file is left as it was"},
		{ExitSIGHUP, "hung up: SIGHUP (the terminal or ssh session closed); a query under way is cancelled"},
		{ExitSIGINT, "interrupted by SIGINT (Ctrl-C); a query under way is cancelled"},
		{ExitSIGTERM, "terminated by SIGTERM; a query under way is cancelled"},
	}
}
