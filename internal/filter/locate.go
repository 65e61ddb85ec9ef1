package filter

import (
	"regexp"
	"strings"
	"sync"
)

// undefined matches gojq's messages for unknown names.
var undefined = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:function not defined: ([a-zA-Z_][a-zA-Z0-9_]*(?:::[a-zA-Z_][a-zA-Z0-9_]*)*)/\d+|variable not defined: \$([a-zA-Z_][a-zA-Z0-9_]*))$`)
})

// locateUndefined returns the byte offset in expr of the name gojq's
// compile error msg complains about, or -1.
func locateUndefined(expr, msg string) int {
	m := undefined().FindStringSubmatch(msg)
	switch {
	case m == nil:
		return -1
	case m[1] != "":
		return locateFunc(expr, m[1])
	default:
		return locate(expr, "$"+m[2], func(string, int) bool { return true })
	}
}

// locateFunc returns the offset of the first call of function name in expr,
// or -1: an identifier not after '.' (a field) and not followed by ':' (an
// object key).
func locateFunc(expr, name string) int {
	return locate(expr, name, func(code string, i int) bool {
		if i > 0 && (code[i-1] == '.' || code[i-1] == '$' || code[i-1] == '@') {
			return false
		}
		rest := strings.TrimLeft(code[i+len(name):], " \t\r\n")
		return !strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "::")
	})
}

// locate finds the first occurrence of word in the code of expr (outside
// string literals and comments, inside string interpolations) that is a
// whole identifier and passes ok.
func locate(expr, word string, ok func(code string, i int) bool) int {
	// parens counts open parentheses in each interpolation being scanned;
	// inString is true while inside a literal.
	var parens []int
	inString := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if inString {
			switch {
			case c == '\\' && i+1 < len(expr) && expr[i+1] == '(':
				parens = append(parens, 0)
				inString = false
				i++
			case c == '\\':
				i++
			case c == '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '(' && len(parens) > 0:
			parens[len(parens)-1]++
		case c == ')' && len(parens) > 0:
			if parens[len(parens)-1] == 0 {
				parens = parens[:len(parens)-1]
				inString = true
			} else {
				parens[len(parens)-1]--
			}
		case strings.HasPrefix(expr[i:], word) && (i == 0 || !isIdent(expr[i-1]) || word[0] == '$') &&
			(i+len(word) == len(expr) || !isIdent(expr[i+len(word)])) && ok(expr, i):
			return i
		}
	}
	return -1
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
