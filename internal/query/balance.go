package query

import (
	"strings"
)

// checkBalanced refuses a fragment that would not stay inside the
// parentheses fraise puts around it: a ')' that closes no '(' of its own,
// a '(' it leaves open, or a quote, quoted identifier, dollar quote or
// block comment it leaves open (each would reach into the SQL after it,
// and "--where a --where b" would no longer be a AND b). What is quoted
// or commented is skipped as the server reads it.
func checkBalanced(part Part, s string) error {
	var open []int // offsets of the '(' not yet closed
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '(':
			open = append(open, i)
		case c == ')':
			if len(open) == 0 {
				return balanceError(part, s, i, "this ')' closes no '(' of the fragment, and would close the parentheses fraise puts around it")
			}
			open = open[:len(open)-1]
		case c == '-' && strings.HasPrefix(s[i:], "--"):
			// To the end of the line (\n or \r, as the server reads it), or
			// of the fragment, which fraise ends with a newline.
			j := strings.IndexAny(s[i:], "\n\r")
			if j < 0 {
				i = len(s)
				continue
			}
			i += j + 1
			continue
		case c == '$' && i > 0 && identCont(s[i-1]):
			// Inside a name (a$b): not a parameter or dollar quote.
		case c == '/' && strings.HasPrefix(s[i:], "/*"), c == '\'' || c == '"', c == '$':
			n, why := skipClosed(s, i)
			if n < 0 {
				return balanceError(part, s, i, why)
			}
			i = n
			continue
		}
		i++
	}
	if len(open) > 0 {
		return balanceError(part, s, open[len(open)-1], "this '(' is never closed")
	}
	return nil
}

// balanceError is the FragmentError of checkBalanced, its caret at off.
func balanceError(part Part, s string, off int, reason string) error {
	return &FragmentError{Part: part, Reason: reason + "; balance the parentheses, quotes and comments of each fragment", Text: s, Offset: off}
}

// skipClosed skips the quote, quoted identifier, dollar quote or block
// comment at i: the offset after it, or -1 and why it cannot be skipped
// (it is not closed, or where it ends depends on a setting). A '$' that
// starts no dollar quote is skipped alone.
func skipClosed(s string, i int) (int, string) {
	never := func(what string) string {
		return "this " + what + " is never closed, and would reach into the SQL after the fragment"
	}
	switch s[i] {
	case '/':
		return skipComment(s, i), never("block comment")
	case '"':
		return skipQuoted(s, i, '"', false), never("quoted identifier")
	case '\'':
		// E'…' is an escape string only when the E starts a token: in
		// name'…' the quote starts an ordinary string after a name.
		if i > 0 && (s[i-1] == 'E' || s[i-1] == 'e') && (i < 2 || !identCont(s[i-2])) {
			return skipQuoted(s, i, '\'', true), never("string literal")
		}
		// An ordinary string must end where it ends with or without
		// standard_conforming_strings.
		n := skipQuoted(s, i, '\'', false)
		if n >= 0 && skipQuoted(s, i, '\'', true) != n {
			return -1, "this string literal has a backslash before a quote, which ends it elsewhere where standard_conforming_strings is off; write it as E'…' or $$…$$"
		}
		return n, never("string literal")
	}
	n, ok := skipDollar(s, i)
	if !ok {
		return i + 1, ""
	}
	tag := s[i : strings.IndexByte(s[i+1:], '$')+i+2]
	if n == len(s) && !strings.HasSuffix(s[i+len(tag):], tag) {
		return -1, never("dollar quote " + tag)
	}
	return n, ""
}

// skipQuoted skips a quoted literal or identifier whose quote is q; a
// doubled quote stays inside it, and with escapes a backslash escapes
// the next byte. -1: never closed.
func skipQuoted(s string, i int, q byte, escapes bool) int {
	for j := i + 1; j < len(s); j++ {
		switch {
		case escapes && s[j] == '\\':
			j++
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j++
		case s[j] == q:
			return j + 1
		}
	}
	return -1
}

// skipComment skips a block comment, which nests. -1: never closed.
func skipComment(s string, i int) int {
	depth := 0
	for j := i; j < len(s)-1; j++ {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j++
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return -1
}

// identCont reports whether c continues a name: a letter, digit, _, $ or
// a byte of a multibyte character.
func identCont(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
