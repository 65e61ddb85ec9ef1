// Package tryout holds what the demo and sandbox commands share: the
// signals that stop them, the check of the fraise binary they run, and
// the quoting of the shell lines they print. Like pgtest, it is for those
// programs and tests only, never for fraise itself.
package tryout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// Main runs a demo or sandbox program's run with its arguments and
// standard streams, under a context notifyContext ends, and exits with
// the code run returns.
func Main(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	ctx, stop := notifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// notifyContext returns a context that ends on Ctrl-C, SIGTERM or SIGHUP:
// SIGHUP too, so that a terminal closed stops the server rather than
// leaving it running with nobody to stop it.
func notifyContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}

// Binary checks the fraise binary a program was given with -fraise and
// returns it as an absolute path when it names a file by a path; a bare
// name is returned as it is, for PATH to find when it runs. target is
// the make target that builds it, for the error's advice.
func Binary(fraise, target string) (string, error) {
	if !strings.ContainsRune(fraise, '/') && !strings.ContainsRune(fraise, filepath.Separator) {
		return fraise, nil
	}
	abs, err := filepath.Abs(fraise)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("%s does not exist: build it with make build (make %s does), or pass -fraise PATH", fraise, target)
	case err != nil:
		return "", err
	case fi.IsDir():
		return "", fmt.Errorf("-fraise %s is a directory, not the fraise binary", fraise)
	}
	return abs, nil
}

// plain are the bytes a POSIX shell takes literally outside quotes.
const plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+%"

// ShellQuote quotes s for a POSIX shell: bare when it holds only letters,
// digits and -_./:@=,+%; in double quotes when nothing in it is special
// there (easier to read around SQL's single quotes); else in single
// quotes.
func ShellQuote(s string) string {
	switch {
	case s != "" && strings.Trim(s, plain) == "":
		return s
	case !strings.ContainsAny(s, "\"$`\\!"):
		return `"` + s + `"`
	default:
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
}

// ShellJoin quotes each of args for a POSIX shell and joins them.
func ShellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = ShellQuote(a)
	}
	return strings.Join(quoted, " ")
}
