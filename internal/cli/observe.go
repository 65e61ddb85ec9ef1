package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"
)

// addObserveFlags declares what a run tells about itself on stderr.
func addObserveFlags(f *pflag.FlagSet) {
	addBoolFlag(f, "stats", "", "at the end, print one JSON line of counters and timings on stderr (also after a failure)")
	f.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal and the rows go elsewhere: -o FILE or a pipe), always or never")
	addBoolFlag(f, "verbose", "v", "log the run's steps on stderr: connection attempts, TLS, authentication, SQL, timings, cancel requests")
	f.String("log-format", "text", "format of --verbose logs: text or json")
	addBoolFlag(f, "quiet", "q", "print nothing on stderr but errors: no progress bar, warnings or notices")
}

// observeSettings are the parsed observation flags.
type observeSettings struct {
	stats, progress, quiet bool
	log                    *slog.Logger // nil without --verbose
}

// parseObserve reads the observation flags; toFile: the rows go to -o
// FILE, not stdout.
func parseObserve(s *settings, toFile bool, stdout, stderr io.Writer) (observeSettings, error) {
	o := observeSettings{stats: s.bool("stats"), quiet: s.bool("quiet")}
	var err error
	if o.progress, err = wantProgress(strings.ToLower(s.str("progress")), o.quiet, toFile, stdout, stderr); err != nil {
		return o, err
	}
	format := strings.ToLower(s.str("log-format"))
	if format != "text" && format != "json" {
		return o, &usageError{fmt.Errorf("--log-format must be text or json, got %q", s.str("log-format"))}
	}
	if s.bool("verbose") {
		opts := &slog.HandlerOptions{Level: slog.LevelInfo}
		if format == "json" {
			o.log = slog.New(slog.NewJSONHandler(stderr, opts))
		} else {
			o.log = slog.New(slog.NewTextHandler(stderr, opts))
		}
	}
	return o, nil
}

// logger returns the --verbose logger, or one that discards.
func (o observeSettings) logger() *slog.Logger {
	if o.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.log
}
