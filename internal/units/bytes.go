// Package units writes quantities for people to read: byte counts in
// binary units, the same way wherever fraise shows one (the progress
// display, the limit of --max-row-size in an error). It knows nothing of
// PostgreSQL, jq or files.
package units

import "fmt"

// prefixes are the binary prefixes Bytes uses above bytes, KiB to PiB.
const prefixes = "KMGTP"

// Bytes writes n with binary units: "512 B" below 1 KiB, else with one
// decimal in KiB, MiB, GiB, TiB or PiB ("1.5 KiB").
func Bytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, prefix := scaled(n)
	return fmt.Sprintf("%.1f %ciB", v, prefix)
}

// BytesExact writes n for a message that must be exact: "512 bytes" below
// 1 KiB, else as Bytes does followed by the exact count ("1.5 KiB (1536
// bytes)").
func BytesExact(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%s (%d bytes)", Bytes(n), n)
}

// scaled returns n, at least 1 KiB, in the largest binary unit it reaches
// (up to PiB), and that unit's prefix letter.
func scaled(n int64) (float64, byte) {
	div, exp := int64(1024), 0
	for m := n / 1024; m >= 1024 && exp < len(prefixes)-1; m /= 1024 {
		div *= 1024
		exp++
	}
	return float64(n) / float64(div), prefixes[exp]
}
