package cli

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/spf13/pflag"
)

// defaultMaxRowSize is --max-row-size's default.
const defaultMaxRowSize = "256MiB"

// addLimitFlags adds the flags that bound a run in time and memory, but
// for --connect-timeout, a connection flag (addConnFlags).
func addLimitFlags(f *pflag.FlagSet) {
	f.String("statement-timeout", "", "have the server cancel the statement after `DURATION` (SET LOCAL statement_timeout; default: the server's setting)")
	f.String("idle-timeout", "", "end the run when the server sends nothing for `DURATION`, connecting included, as over a half-open connection (default: none)")
	f.String("max-row-size", defaultMaxRowSize, "refuse a row larger than `SIZE` (bytes, or with kB, MB, GB, KiB, MiB, GiB); a whole row is held in memory")
}

// limits are the parsed limit flags.
type limits struct {
	statement, idle time.Duration
	maxRow          int64
}

// statementGrace is how long past --statement-timeout fraise waits on a
// server that sends nothing, before it takes the server for stuck or the
// connection for dead: the server ends a statement at its timeout itself,
// with an error, and that error needs a moment to arrive. (A variable for
// tests.)
var statementGrace = 5 * time.Second

// silenceLimit is the longest fraise waits on a server that sends nothing,
// connecting included: --idle-timeout, or --statement-timeout plus
// statementGrace, whichever is shorter; and the flag it comes from. Zero
// means no limit: neither is set. With either set, no wait can hang.
func (l limits) silenceLimit() (time.Duration, string) {
	backstop := time.Duration(0)
	if l.statement > 0 {
		backstop = l.statement + statementGrace
	}
	if l.idle > 0 && (backstop == 0 || l.idle <= backstop) {
		return l.idle, "--idle-timeout"
	}
	return backstop, "--statement-timeout"
}

// bound applies the silence limit to connecting, where connect_timeout
// (or --connect-timeout) does not already bound it more tightly, and to
// the statement's every wait.
func (l limits) bound(cfg *wire.Config, st *wire.Statement) {
	d, from := l.silenceLimit()
	if d == 0 {
		return
	}
	if cfg.ConnectTimeout == 0 || d < cfg.ConnectTimeout {
		cfg.ConnectTimeout, cfg.ConnectTimeoutFrom = d, from
	}
	st.IdleTimeout = d
	if from != "--idle-timeout" {
		st.IdleFrom = from + " " + l.statement.String() + " and " + statementGrace.String() + " more"
	}
}

func parseLimits(s *settings) (limits, error) {
	var l limits
	var err error
	if l.statement, err = parseDuration("statement-timeout", s.str("statement-timeout")); err != nil {
		return l, err
	}
	if l.statement > math.MaxInt32*time.Millisecond {
		return l, &usageError{fmt.Errorf("--statement-timeout %s is more than PostgreSQL's largest, %s", l.statement, time.Duration(math.MaxInt32)*time.Millisecond)}
	}
	if l.idle, err = parseDuration("idle-timeout", s.str("idle-timeout")); err != nil {
		return l, err
	}
	if l.maxRow, err = parseSize("max-row-size", s.str("max-row-size")); err != nil {
		return l, err
	}
	if l.maxRow < 1 {
		return l, &usageError{errors.New("--max-row-size must be at least 1 byte")}
	}
	return l, nil
}

// parseDuration reads a duration flag: Go's syntax with a unit ("30s",
// "1m30s", "500ms"), or 0 for none. A bare number is refused: psql users
// read it as seconds (connect_timeout) or milliseconds (statement_timeout).
func parseDuration(flag, s string) (time.Duration, error) { return parseDurationAt("--"+flag, s) }

// parseDurationAt is parseDuration with at naming the setting in messages
// (--flag, or the config file's profile and key).
func parseDurationAt(at, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if plainNumber(s) {
		if f, _ := strconv.ParseFloat(s, 64); f == 0 {
			return 0, nil // 0, 00, 0.0: none
		}
		return 0, &usageError{fmt.Errorf("%s %s needs a unit: %ss, %sms or %sm", at, s, s, s, s)}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &usageError{fmt.Errorf("%s: %q is not a duration; write it like 30s, 1m30s or 500ms", at, s)}
	}
	if d < 0 {
		return 0, &usageError{fmt.Errorf("%s must not be negative, got %s", at, s)}
	}
	return d, nil
}

// plainNumber reports whether s is digits with at most one dot.
func plainNumber(s string) bool {
	digits, dots := 0, 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// sizeUnits are the units parseSize knows. As in PostgreSQL, kB, MB and
// GB are powers of 1024; KiB, MiB and GiB say so.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}

// parseSize reads a byte count with an optional unit, as 256MiB or 1GB.
func parseSize(flag, s string) (int64, error) { return parseSizeAt("--"+flag, s) }

// parseSizeAt is parseSize with at naming the setting in messages.
func parseSizeAt(at, s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(t[i:]))]
	if errors.Is(err, strconv.ErrRange) && ok {
		return 0, &usageError{fmt.Errorf("%s: %q is too large", at, s)}
	}
	if err != nil || !ok {
		return 0, &usageError{fmt.Errorf("%s: %q is not a size; write it like 64MiB, 1GB or 1048576", at, s)}
	}
	if n > math.MaxInt64/unit {
		return 0, &usageError{fmt.Errorf("%s: %q is too large", at, s)}
	}
	return n * unit, nil
}
