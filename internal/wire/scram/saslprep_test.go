package scram_test

import (
	"testing"

	"github.com/fraiseql/fraise/internal/wire/scram"
)

func TestSASLprep(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Pure ASCII is never touched, not even control characters.
		{"ascii", "password", "password"},
		{"ascii space", "pass word", "pass word"},
		{"ascii controls", "pass\x01\tword\x7f", "pass\x01\tword\x7f"},
		{"ascii nul", "a\x00b", "a\x00b"},
		{"empty", "", ""},

		// Mapping (RFC 4013 §2.1).
		{"no-break space", "pass\u00A0word", "pass word"},
		{"ideographic space", "pass\u3000word", "pass word"},
		{"soft hyphen", "pass\u00ADword", "password"},
		{"soft hyphen rfc 4013 example", "I\u00ADX", "IX"},
		{"variation selector", "pass\uFE0Fword", "password"},
		{"zero width joiner", "pass\u200Dword", "password"},
		{"zero width space is a space in postgresql", "pass\u200Bword", "pass word"},
		{"only zero width space", "\u200B", " "},

		// Normalization (RFC 4013 §2.2).
		{"vulgar fraction", "\u00BC", "1\u20444"},
		{"roman numeral nine", "\u2168", "IX"},
		{"feminine ordinal", "\u00AA", "a"},
		{"ligature", "\uFB01x", "fix"},
		{"fullwidth", "\uFF50\uFF41\uFF53\uFF53", "pass"},
		{"combining sequence", "e\u0301", "\u00E9"},
		{"already nfkc", "d\u00E9j\u00E0 vu", "d\u00E9j\u00E0 vu"},
		{"hebrew", "\u05D0\u05D1\u05D2", "\u05D0\u05D1\u05D2"},
		{"hebrew around digit", "\u05D01\u05D1", "\u05D01\u05D1"},

		// Prohibited output (RFC 4013 §2.3): the raw input is kept.
		{"ascii control in non-ascii", "\u00E9\u0007", "\u00E9\u0007"},
		{"private use", "x\uE000", "x\uE000"},
		{"replacement character", "x\uFFFD", "x\uFFFD"},
		{"non-character", "x\uFDD0", "x\uFDD0"},
		{"line separator", "x\u2028", "x\u2028"},
		{"tagging", "x\U000E0001", "x\U000E0001"},
		{"ideographic description", "\u2FF0\u4E00", "\u2FF0\u4E00"},
		// U+0340 is in C.8; its NFKC form U+0300 is not. PostgreSQL checks
		// before normalizing, so the raw input is used.
		{"prohibited before normalization", "a\u0340", "a\u0340"},

		// Unassigned in Unicode 3.2 (RFC 4013 §2.5, table A.1).
		{"emoji", "pass\U0001F600", "pass\U0001F600"},
		{"rupee sign", "\u20B9100", "\u20B9100"},

		// Bidirectional rules (RFC 3454 §6).
		{"hebrew and latin", "\u05D0a", "\u05D0a"},
		{"latin and hebrew", "a\u05D0b", "a\u05D0b"},
		{"arabic then digit rfc 4013 example", "\u0627\u0031", "\u0627\u0031"},
		{"digit then hebrew", "1\u05D0", "1\u05D0"},

		// Invalid UTF-8 and empty results keep the input.
		{"invalid utf-8", "\xff\xfe", "\xff\xfe"},
		{"truncated utf-8", "pass\xC3", "pass\xC3"},
		{"surrogate encoded", "\xED\xA0\x80", "\xED\xA0\x80"},
		{"only soft hyphens", "\u00AD\u00AD", "\u00AD\u00AD"},
		{"only variation selectors", "\uFE00\uFE0F", "\uFE00\uFE0F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scram.SASLprep(tt.in); got != tt.want {
				t.Errorf("SASLprep(%+q) = %+q, want %+q", tt.in, got, tt.want)
			}
		})
	}
}
