package cli

import (
	"io"
	"log/slog"

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
	mode, err := oneOf(s, "progress")
	if err != nil {
		return o, err
	}
	o.progress = wantProgress(mode, o.quiet, toFile, stdout, stderr)
	format, err := oneOf(s, "log-format")
	if err != nil {
		return o, err
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
