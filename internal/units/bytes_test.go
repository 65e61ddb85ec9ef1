package units_test

import (
	"math"
	"testing"

	"github.com/fraiseql/fraise/internal/units"
)

// TestBytes: the short form the progress display shows and the exact form
// of error messages, at each unit's edges. Below 1 TiB both read as they
// did when the CLI and wire each had their own formatter.
func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		n            int64
		short, exact string
	}{
		{0, "0 B", "0 bytes"},
		{1, "1 B", "1 bytes"},
		{1023, "1023 B", "1023 bytes"},
		{1024, "1.0 KiB", "1.0 KiB (1024 bytes)"},
		{1536, "1.5 KiB", "1.5 KiB (1536 bytes)"},
		{1<<20 - 1, "1024.0 KiB", "1024.0 KiB (1048575 bytes)"},
		{1 << 20, "1.0 MiB", "1.0 MiB (1048576 bytes)"},
		{2 << 20, "2.0 MiB", "2.0 MiB (2097152 bytes)"},
		{256 << 20, "256.0 MiB", "256.0 MiB (268435456 bytes)"},
		{1<<30 - 1, "1024.0 MiB", "1024.0 MiB (1073741823 bytes)"},
		{1<<30 + 58, "1.0 GiB", "1.0 GiB (1073741882 bytes)"},
		{1 << 40, "1.0 TiB", "1.0 TiB (1099511627776 bytes)"},
		{3 << 50, "3.0 PiB", "3.0 PiB (3377699720527872 bytes)"},
		{math.MaxInt64, "8192.0 PiB", "8192.0 PiB (9223372036854775807 bytes)"},
		{-1, "-1 B", "-1 bytes"},
	} {
		if got := units.Bytes(tc.n); got != tc.short {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.short)
		}
		if got := units.BytesExact(tc.n); got != tc.exact {
			t.Errorf("BytesExact(%d) = %q, want %q", tc.n, got, tc.exact)
		}
	}
}
