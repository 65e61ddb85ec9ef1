// The kind of a jq failure: its message with the values it quotes elided,
// by which --on-jq-error skip's report groups the rows it drops. gojq
// puts the value it failed on into its message ("cannot add: number (21)
// and string (\"x\")"), so that without elision every row would be an
// error of its own.
//
// gojq prints a value with Preview: as JSON, cut at 30 bytes with " ..."
// and, for a string, array or object, its closing quote or bracket. It
// puts such a value in a message in a few places only (gojq's error.go):
//
//   - typed, anywhere: "number (21)", "string (\"x\")", "array ([1, ...])";
//     null is written bare, and is the same for every row;
//   - as a function's arguments at the start: "ltrimstr(1) cannot be
//     applied to: …", "match(1; \"g\") cannot be …";
//   - bare before a wrapped error: "tonumber cannot be applied to
//     \"user-01\": invalid number"; the wrapped error may be gojq's
//     (typed values again) or a Go library's, whose quoted strings
//     ("failed to parse \"abc\" with \"%Y\"") and characters ("invalid
//     character 'b'") are the row's;
//   - bare after a few fixed phrases: "array index too large: 1e+300",
//     "repeat string result too large: \"ab\" * 1e+100";
//   - error(v): "error: " and v, a string as it is (the user's own text,
//     kept), anything else as whole JSON;
//   - a regular expression from the row: "invalid regular expression
//     \"x(\": error parsing regexp: missing closing ): `x(`".
//
// fraise's own row errors quote a byte offset ("(at byte 10000)"). A
// message with none of these stays as it is.

package filter

import "strings"

// previewMax is the longest value gojq's Preview writes, in bytes.
const previewMax = 30

// elided stands for a value taken out of a message.
const elided = "…"

// errorKind returns msg with the values gojq (or fraise) quoted in it
// elided, and those values as they were printed, in order.
func errorKind(msg string) (kind string, values []string) {
	e := elider{keep: true}
	e.elide(msg)
	return e.out.String(), e.values
}

// kindOf returns errorKind's kind alone.
func kindOf(msg string) string {
	var e elider
	e.elide(msg)
	return e.out.String()
}

// elider builds a message's kind.
type elider struct {
	out    strings.Builder
	keep   bool // the values too
	values []string
	// unclosed is set once a quote of a wrapped error's found no end:
	// none after it will (their escapes fall in step with its), and
	// scanning each to the end would be quadratic in a long message.
	unclosed [2]bool // '"', '\''
}

func (e *elider) elide(msg string) {
	e.out.Grow(len(msg))
	switch {
	case strings.HasPrefix(msg, "error: "):
		e.errorValue(msg[len("error: "):])
	case strings.HasPrefix(msg, "invalid regular expression "), strings.HasPrefix(msg, "unsupported regular expression flag: "):
		e.text(msg, true)
	default:
		e.text(msg[e.call(msg):], false)
	}
}

// value writes shape for the value v.
func (e *elider) value(v, shape string) {
	e.out.WriteString(shape)
	if e.keep {
		e.values = append(e.values, v)
	}
}

// bare writes a value printed without its type: elided, its quotes or
// brackets kept.
func (e *elider) bare(v string) {
	switch v[0] {
	case '"':
		e.value(v, `"`+elided+`"`)
	case '[':
		e.value(v, "["+elided+"]")
	case '{':
		e.value(v, "{"+elided+"}")
	default:
		e.value(v, elided)
	}
}

// errorValue writes the kind of error(v)'s message, v's text given: a
// value that is whole JSON and not a string's text is elided.
func (e *elider) errorValue(v string) {
	e.out.WriteString("error: ")
	if n, ok := scanValue(v); ok && n == len(v) && v[0] != '"' {
		e.bare(v)
		return
	}
	e.out.WriteString(v)
}

// call writes the function and elided arguments msg starts with, when it
// is a gojq function's failure ("name(v; w) cannot be applied to…"), and
// returns their length; 0 and nothing written otherwise.
func (e *elider) call(msg string) int {
	n := 0
	for n < len(msg) && (msg[n] == '@' || msg[n] == '_' || isAlnum(msg[n])) {
		n++
	}
	if n == 0 || n == len(msg) || msg[n] != '(' {
		return 0
	}
	var args []string
	i := n + 1
	for {
		if j, ok := preview(msg, i, "; "); ok {
			args = append(args, msg[i:j])
			i = j + len("; ")
			continue
		}
		j, ok := preview(msg, i, ")")
		if !ok || !strings.HasPrefix(msg[j+1:], " cannot be applied to") {
			return 0
		}
		args = append(args, msg[i:j])
		e.out.WriteString(msg[:n+1])
		for k, a := range args {
			if k > 0 {
				e.out.WriteString("; ")
			}
			e.bare(a)
		}
		e.out.WriteByte(')')
		return j + 1
	}
}

// bareLeads are the phrases at the start of a message that gojq follows
// with values, each followed by the next stop ("": the message's end).
var bareLeads = []struct {
	lead  string
	stops []string
}{
	{"array index should not be negative: ", []string{""}},
	{"array index too large: ", []string{""}},
	{"flatten depth should not be negative: ", []string{""}},
	{"repeat string result too large: ", []string{" * ", ""}},
}

// typeNames are the types gojq names before a value (null is bare).
var typeNames = []string{"boolean", "number", "string", "array", "object"}

// text writes the kind of s, a message or a wrapped error's tail
// (wrapped: a Go library's quoted strings are the row's too). A wrapped
// error is taken in turn, as a tail of its own, in the same loop: however
// deep the wrapping, the stack is not.
func (e *elider) text(s string, wrapped bool) {
	if n, ok := e.leads(s); ok {
		s = s[n:]
	}
	for i := 0; i < len(s); {
		if j, ok := e.wrap(s, i); ok {
			s, i, wrapped = s[j:], 0, true
			if n, ok := e.leads(s); ok {
				s = s[n:]
			}
			continue
		}
		if j, ok := e.at(s, i, wrapped); ok {
			i = j
			continue
		}
		e.out.WriteByte(s[i])
		i++
	}
}

// wrap writes, when s[i:] is " cannot be applied to " a value and ": ",
// that with the value elided, and returns where the error it wraps starts.
func (e *elider) wrap(s string, i int) (int, bool) {
	const applied = " cannot be applied to "
	if !strings.HasPrefix(s[i:], applied) {
		return 0, false
	}
	start := i + len(applied)
	j, ok := preview(s, start, ": ")
	if !ok {
		return 0, false
	}
	e.out.WriteString(applied)
	e.bare(s[start:j])
	e.out.WriteString(": ")
	return j + len(": "), true
}

// leads writes a message that starts with one of bareLeads, its values
// elided, and returns its length.
func (e *elider) leads(s string) (int, bool) {
	for _, b := range bareLeads {
		if !strings.HasPrefix(s, b.lead) {
			continue
		}
		i, vals := len(b.lead), []string(nil)
		for k, stop := range b.stops {
			j, ok := preview(s, i, stop)
			if !ok {
				return 0, false
			}
			vals = append(vals, s[i:j])
			if k < len(b.stops)-1 {
				i = j + len(stop)
			} else {
				i = j
			}
		}
		e.out.WriteString(b.lead)
		for k, v := range vals {
			if k > 0 {
				e.out.WriteString(b.stops[k-1])
			}
			e.bare(v)
		}
		return i, true
	}
	return 0, false
}

// at writes the value that starts at s[i], if one does, and returns
// where it ends.
func (e *elider) at(s string, i int, wrapped bool) (int, bool) {
	rest := s[i:]
	if i == 0 || s[i-1] == ' ' {
		for _, t := range typeNames {
			if !strings.HasPrefix(rest, t) || !strings.HasPrefix(rest[len(t):], " (") {
				continue
			}
			start := i + len(t) + 2
			j, ok := preview(s, start, ")")
			if !ok {
				return 0, false
			}
			e.out.WriteString(t)
			e.value(s[start:j], " ("+elided+")")
			return j + 1, true
		}
	}
	if j, ok := e.byteOffset(s, i); ok {
		return j, true
	}
	if wrapped {
		return e.quoted(s, i)
	}
	return 0, false
}

// byteOffset elides the number of " byte N", which fraise's own row
// errors ("(at byte 10000)") and Go's base64 decoder ("at input byte 4")
// quote.
func (e *elider) byteOffset(s string, i int) (int, bool) {
	const lead = " byte "
	if !strings.HasPrefix(s[i:], lead) {
		return 0, false
	}
	j := i + len(lead)
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i+len(lead) {
		return 0, false
	}
	e.out.WriteString(lead)
	e.value(s[i+len(lead):j], elided)
	return j, true
}

// quoted elides what a Go library's error quotes: a string ("…", as %q
// writes it), a character after "invalid character " ('…'), and a
// regular expression to the end (`…`).
func (e *elider) quoted(s string, i int) (int, bool) {
	switch {
	case s[i] == '"' && !e.unclosed[0]:
		if n, ok := scanString(s[i:], '"'); ok {
			e.value(s[i:i+n], `"`+elided+`"`)
			return i + n, true
		}
		e.unclosed[0] = true
	case s[i] == '\'' && !e.unclosed[1] && strings.HasSuffix(s[:i], "invalid character "):
		if n, ok := scanString(s[i:], '\''); ok {
			e.value(s[i:i+n], "'"+elided+"'")
			return i + n, true
		}
		e.unclosed[1] = true
	case s[i] == '`' && len(s)-i >= 2 && s[len(s)-1] == '`':
		e.value(s[i:], "`"+elided+"`")
		return len(s), true
	}
	return 0, false
}

// preview returns where the value gojq's Preview printed at s[i] ends,
// which stop must follow ("": the end of s); false if there is none.
func preview(s string, i int, stop string) (int, bool) {
	if i >= len(s) {
		return 0, false
	}
	w := s[i:min(len(s), i+previewMax)]
	if n, ok := scanValue(w); ok && followedBy(s, i+n, stop) {
		return i + n, true
	}
	// A value cut short: " ..." and its closing quote or bracket.
	trail := " ..."
	switch w[0] {
	case '"':
		trail = ` ..."`
	case '[':
		trail = " ...]"
	case '{':
		trail = " ...}"
	}
	for n := len(w); n > len(trail); n-- {
		if strings.HasSuffix(w[:n], trail) && followedBy(s, i+n, stop) {
			return i + n, true
		}
	}
	return 0, false
}

func followedBy(s string, i int, stop string) bool {
	if stop == "" {
		return i == len(s)
	}
	return strings.HasPrefix(s[i:], stop)
}

// scanValue returns the length of the JSON value w starts with: a string,
// an array or object (brackets balanced, strings skipped), a number or
// true, false or null.
func scanValue(w string) (int, bool) {
	if w == "" {
		return 0, false
	}
	switch c := w[0]; {
	case c == '"':
		return scanString(w, '"')
	case c == '[' || c == '{':
		depth := 0
		for i := 0; i < len(w); i++ {
			switch w[i] {
			case '"':
				n, ok := scanString(w[i:], '"')
				if !ok {
					return 0, false
				}
				i += n - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	case c == '-' || c >= '0' && c <= '9':
		n := 1
		for n < len(w) && (w[n] >= '0' && w[n] <= '9' || strings.IndexByte(".eE+-", w[n]) >= 0) {
			n++
		}
		return n, true
	}
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(w, lit) {
			return len(lit), true
		}
	}
	return 0, false
}

// scanString returns the length of the string w starts with, quoted by q,
// a backslash escaping the byte after it.
func scanString(w string, q byte) (int, bool) {
	for i := 1; i < len(w); i++ {
		switch w[i] {
		case '\\':
			i++
		case q:
			return i + 1, true
		}
	}
	return 0, false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
