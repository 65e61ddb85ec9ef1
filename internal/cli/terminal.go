package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text fraise prints for humans carries what others wrote: server
// messages, stored data quoted in a cast error, jq error values, names of
// relations and hosts. None of it may reach a terminal raw, where an
// escape sequence could recolour, move or rewrite what the user sees.

// safeText returns s with every control character but tab and newline
// written as \uXXXX (as JSON writes them, so that a JSON line stays
// valid), the bidirectional controls that reorder a line's text too, and
// each byte that is not UTF-8 as \xNN.
func safeText(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case escaped(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if escaped(rune(c)) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || escaped(r) {
			return true
		}
		i += size
	}
	return false
}

// escaped reports whether r is written as an escape: C0 and C1 controls
// and DEL but tab and newline, and the bidirectional embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069).
func escaped(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case unicode.IsControl(r):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// printSafe writes a line of fraise's own for humans, the values escaped.
func printSafe(w io.Writer, format string, args ...any) {
	_, _ = io.WriteString(w, safeText(fmt.Sprintf(format, args...)))
}
