package cli

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseSize: a size flag's value is a byte count that reads back the
// same written plainly, or a usage error that names the flag.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"256MiB", "1GB", "1048576", "0", " 64 kb ", "9223372036854775807", "9223372036854775808", "8589934592GiB", "-1", "1.5MB", "MB", "", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize("max-row-size", s)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "--max-row-size: ") {
				t.Fatalf("parseSize(%q): %v (%T)", s, err, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("parseSize(%q) = %d", s, n)
		}
		if back, err := parseSize("max-row-size", strconv.FormatInt(n, 10)); err != nil || back != n {
			t.Fatalf("parseSize(%q) = %d, which reads back as %d, %v", s, n, back, err)
		}
	})
}

// FuzzParseDuration: a duration flag's value is a duration, none or more,
// that reads back the same from its String form, or a usage error that
// names the flag.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "1m30s", "500ms", "0", "0.0", "00", "5", "1.5", "-1s", "", " 2h ", "1e3s", "9999999999h", "1µs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration("idle-timeout", s)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "--idle-timeout") {
				t.Fatalf("parseDuration(%q): %v (%T)", s, err, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("parseDuration(%q) = %v", s, d)
		}
		if back, err := parseDuration("idle-timeout", d.String()); err != nil || back != d {
			t.Fatalf("parseDuration(%q) = %v, which reads back as %v, %v", s, d, back, err)
		}
	})
}
