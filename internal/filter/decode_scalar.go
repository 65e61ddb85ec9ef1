// Reading the scalars of a row's JSON text. A string without escapes is a
// view of the text (a copy for a decoder that owns its strings); escapes,
// surrogate pairs and invalid UTF-8 are read as jq reads them. A number
// becomes an int where it prints back the same, and otherwise stays a
// json.Number holding its text.

package filter

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// str decodes the string starting at d.i (at its opening quote); without
// escapes it is a substring of the text.
func (d *decoder) str() (string, error) {
	start := d.i + 1
	var high byte // the OR of the bytes: 0x80 set when any is not ASCII
	for j := start; j < len(d.s); j++ {
		c := d.s[j]
		high |= c
		switch {
		case c == '"':
			d.i = j + 1
			s := d.s[start:j]
			if high >= utf8.RuneSelf && !utf8.ValidString(s) {
				return replaceInvalid(s), nil
			}
			if d.own {
				s = strings.Clone(s)
			}
			return s, nil
		case c == '\\':
			return d.strEscaped(start, j)
		case c < 0x20:
			d.i = j
			return "", d.errorf("control character %#02x in a string; it must be escaped", c)
		}
	}
	d.i = len(d.s)
	return "", d.errorf("unterminated string")
}

// strEscaped decodes a string from start, whose first escape is at j.
func (d *decoder) strEscaped(start, j int) (string, error) {
	b := append(d.buf[:0], d.s[start:j]...)
	defer func() { d.buf = b[:0] }()
	for j < len(d.s) {
		c := d.s[j]
		switch {
		case c == '"':
			d.i = j + 1
			if !utf8.Valid(b) {
				return replaceInvalid(string(b)), nil
			}
			return string(b), nil
		case c < 0x20:
			d.i = j
			return "", d.errorf("control character %#02x in a string; it must be escaped", c)
		case c != '\\':
			b = append(b, c)
			j++
			continue
		}
		if j+1 >= len(d.s) {
			break
		}
		switch e := d.s[j+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(d.s, j+2)
			if !ok {
				d.i = j
				return "", d.errorf(`invalid \u escape`)
			}
			j += 6
			if utf16.IsSurrogate(r) {
				// A high surrogate followed by a low one is one character;
				// anything else is replaced, as encoding/json and jq do.
				if r2, ok := hex4(d.s, j+2); ok && j+1 < len(d.s) && d.s[j] == '\\' && d.s[j+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			d.i = j
			return "", d.errorf("invalid escape %q in a string", d.s[j:j+2])
		}
		j += 2
	}
	d.i = len(d.s)
	return "", d.errorf("unterminated string")
}

// replaceInvalid returns a copy of s with every byte that is not part of
// valid UTF-8 replaced by U+FFFD, as jq and encoding/json read such text (a
// database in SQL_ASCII can hold it).
func replaceInvalid(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// hex4 reads four hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i < 0 || i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number decodes a number. An integer of up to 18 digits in canonical form
// (no "-0") becomes an int, which prints back identically; anything else is
// kept as its text.
func (d *decoder) number() (any, error) {
	start := d.i
	digits, intEnd, err := d.scanNumber()
	if err != nil {
		return nil, err
	}
	s, i := d.s, d.i
	neg := s[start] == '-'
	if i == intEnd && intEnd-digits <= 18 && !(neg && s[digits] == '0') {
		n := 0
		for _, c := range []byte(s[digits:intEnd]) {
			n = n*10 + int(c-'0')
		}
		if neg {
			n = -n
		}
		return d.boxInt(n), nil
	}
	if d.own {
		return d.boxNumber(json.Number(strings.Clone(s[start:i]))), nil
	}
	return d.boxNumber(json.Number(s[start:i])), nil
}

// scanNumber moves past a number, returning where its integer digits
// start and end.
func (d *decoder) scanNumber() (digits, intEnd int, err error) {
	s, i := d.s, d.i
	if s[i] == '-' {
		i++
	}
	digits = i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		d.i = i
		return 0, 0, d.errorf("invalid number: expected a digit")
	}
	intEnd = i
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			d.i = i
			return 0, 0, d.errorf("invalid number: expected a digit after '.'")
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			d.i = i
			return 0, 0, d.errorf("invalid number: expected a digit in the exponent")
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	d.i = i
	return digits, intEnd, nil
}
