package cli

import (
	"fmt"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/spf13/pflag"
)

// addOutputFlags declares where and how the lines are written.
func addOutputFlags(f *pflag.FlagSet) {
	f.StringP("output", "o", "", "write to `FILE` instead of standard output, atomically: a temporary file beside it, renamed onto FILE once complete (- is standard output; an empty FILE is an error)")
	f.String("compress", "", "compress the output: gzip, zstd or none (default: from --output's suffix, .gz or .zst)")
	f.String("format", "ndjson", "ndjson (one value per line) or json (one array of the values)")
}

// outputSettings are the parsed output flags.
type outputSettings struct {
	path   string // "" for standard output
	comp   output.Compression
	format string
}

func (o outputSettings) array() bool { return o.format == "json" }

// display is the output's name in messages and --stats.
func (o outputSettings) display() string {
	if o.path == "" {
		return "-"
	}
	return o.path
}

func parseOutput(s *settings, raw bool) (outputSettings, error) {
	var o outputSettings
	if p := s.str("output"); p != "-" {
		o.path = p
	}
	o.comp = output.CompressionFor(o.path)
	if name := s.str("compress"); name != "" {
		c, err := output.ParseCompression(name)
		if err != nil {
			return o, &usageError{fmt.Errorf("--compress: %w", err)}
		}
		o.comp = c
	}
	var err error
	if o.format, err = oneOf(s, "format"); err != nil {
		return o, err
	}
	if o.array() && raw {
		return o, &usageError{fmt.Errorf("--raw-output writes strings that are not JSON, which cannot go in a --format json array; drop one of them")}
	}
	return o, nil
}
