package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/spf13/cobra"
)

// Main runs fraise with the process's arguments and streams and returns the
// exit code.
func Main() int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	ready := make(chan struct{})
	// Installing the handlers starts the runtime's signal thread, which
	// costs a few hundred microseconds: done here, it overlaps the parsing
	// of the command line and the settings, and every command waits for
	// it before its first effect (app.awaitSignals).
	go handleSignals(cancel, ready)
	return run(ctx, os.Args[1:], os.Stdout, os.Stderr, func() { <-ready })
}

// Run runs fraise with args, writing to stdout and stderr, and returns the
// exit code. Errors are printed here and nowhere else.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr, nil)
}

// run is Run, with signals (nil: none) returning once the signal handlers
// are installed.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, signals func()) int {
	app := &app{stdout: stdout, stderr: stderr, signals: signals}
	root := newRootCmd(app)
	root.SetArgs(joinArgPairs(args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return app.end(ExitOK)
	}
	// A signal ends the run whatever error it caused on the way out.
	var se *signalError
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &se) {
		err = &interruptedError{sig: se, stage: app.stage, what: app.stageWhat}
	}
	if !app.ran {
		err = &usageError{err}
	}
	var he *filter.HaltError
	if errors.As(err, &he) {
		// halt and halt_error, as jq: the value as it is, the code asked for.
		_, _ = stderr.Write(he.Message())
		return app.end(he.Code & 0xff)
	}
	code := exitCode(err)
	if code == ExitOK {
		// The reader went away: nothing more to say.
		return app.end(code)
	}
	printError(stderr, err, statementOf(err))
	var ue *usageError
	if errors.As(err, &ue) && cmd != nil {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return app.end(code)
}

// warn prints a warning on stderr.
func (a *app) warn(msg string) { printSafe(a.stderr, "fraise: warning: %s\n", msg) }

// end runs what the command asked to run once its exit code is known
// (--stats) and returns the code.
func (a *app) end(code int) int {
	if a.atEnd != nil {
		a.atEnd(code)
	}
	return code
}

// app carries the streams and what error rendering needs to know.
type app struct {
	stdout, stderr io.Writer
	// ran is set once a command's own code starts (the root's
	// PersistentPreRun, after cobra has parsed the flags and checked the
	// arguments): errors before it are usage errors found by cobra.
	ran bool
	// atEnd, when set, is run with the exit code, after any error is
	// printed.
	atEnd func(code int)
	// stage is how far the run got, and stageWhat what runs at
	// stagePassword, for the message when a signal ends it.
	stage     runStage
	stageWhat string
	// signals returns once the signal handlers are installed; nil when
	// Run is called without them.
	signals func()
}

// setStage records how far the run got. Every stage has effects outside
// the process: the signal handlers are in place first.
func (a *app) setStage(s runStage, what string) {
	a.awaitSignals()
	a.stage, a.stageWhat = s, what
}

// awaitSignals returns once the signal handlers are installed, so that a
// signal cannot end the process before it has removed what it created or
// cancelled what it started. Call it before the first effect outside the
// process (a file, a password command, a connection).
func (a *app) awaitSignals() {
	if a.signals != nil {
		a.signals()
	}
}

func newRootCmd(app *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "fraise",
		Short: "Stream JSON documents out of PostgreSQL relations",
		Long: `fraise streams the json/jsonb column of a PostgreSQL relation as NDJSON,
one document per line, with bounded memory, inside a read-only transaction.
"fraise views" lists the relations it can stream; "fraise ping" checks the
connection.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// A bare "fraise" with an unknown word is a usage error, with
		// the commands it may have meant.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			return &usageError{fmt.Errorf("unknown command %q for %q%s", args[0], cmd.CommandPath(), didYouMean(cmd, args[0]))}
		},
		// fraise --version prints what fraise version does.
		Version: version,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
		PersistentPreRun: func(*cobra.Command, []string) { app.ran = true },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{numberFlagError(withFlagSuggestion(cmd, err))}
	})
	root.SetVersionTemplate(versionText())
	root.SetUsageFunc(writeUsage)
	addConfigFlags(root.PersistentFlags())
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newStreamCmd(app), newPingCmd(app), newViewsCmd(app), newVersionCmd(app), newCompletionCmd(app))
	registerCompletions(root)
	return root
}
