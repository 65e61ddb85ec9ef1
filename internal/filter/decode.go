package filter

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds the nesting of a decoded value, as encoding/json does,
// so that hostile input cannot exhaust the stack.
const maxDepth = 10000

// SyntaxError reports JSON text that could not be decoded.
type SyntaxError struct {
	// Offset is the byte offset in the text where the problem was found.
	Offset int
	// Msg says what was wrong.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// DepthError reports JSON text nested deeper than the decoder goes: the
// text may well be valid JSON, and is not read past that point.
type DepthError struct {
	// Offset is the byte offset of the '[' or '{' one level too deep.
	Offset int
	// Limit is the deepest nesting decoded.
	Limit int
}

func (e *DepthError) Error() string {
	return fmt.Sprintf("JSON nested more than %d levels deep (at byte %d)", e.Limit, e.Offset)
}

// decoder turns JSON text into the values gojq works on: nil, bool, int,
// json.Number, string, []any and map[string]any. Integers that fit an int
// and print back the same become int; every other number stays
// json.Number, so that a number the filter does not touch is written
// exactly as it was read. A decoder reuses its scratch space between
// values and is not safe for concurrent use.
//
// decode builds values in place: their strings are views of the row's
// bytes, and their maps and slices, and the boxes that hold their strings
// and numbers as interface values (see box.go), are the ones the previous
// decode built, cleared and filled again. A value is therefore valid only until
// the next decode and while the row's bytes stay as they are — which is
// how the pipeline uses it: a row is decoded, filtered and its outputs
// encoded before the next row is decoded, and a batch's bytes are kept
// until its output is written. Anything that outlives the row (an error
// reported later, a halt_error value) must be copied out (see own).
type decoder struct {
	s     string
	i     int
	depth int
	kvs   []kv  // object entries being collected, innermost last
	vals  []any // array elements being collected, innermost last
	buf   []byte
	// reuse holds the containers of the previous value, to build the next
	// one in; nil for a decoder whose values must stay valid (DecodeJSON).
	reuse *containers
	// own makes every string a copy rather than a view of the text.
	own bool
	// huge says the last value came from a row of dropRowBytes or more,
	// whose bytes the scratch space and containers still point into.
	huge bool
}

// containers are the maps and slices a decoder built for one value, in
// the order it built them: the next value of the same shape takes them
// again in the same order.
type containers struct {
	scalars
	maps   []map[string]any
	slices [][]any
	nm, ns int // taken so far for the value being built
}

// takeMap returns an empty map with room for n entries.
func (d *decoder) takeMap(n int) map[string]any {
	c := d.reuse
	if c == nil {
		return make(map[string]any, n)
	}
	if c.nm < len(c.maps) {
		m := c.maps[c.nm]
		c.nm++
		clear(m)
		return m
	}
	m := make(map[string]any, n)
	c.maps = append(c.maps, m)
	c.nm++
	return m
}

// takeSlice returns a slice of length n.
func (d *decoder) takeSlice(n int) []any {
	c := d.reuse
	if c == nil {
		return make([]any, n)
	}
	if c.ns < len(c.slices) && cap(c.slices[c.ns]) >= n {
		s := c.slices[c.ns][:n]
		c.ns++
		return s
	}
	s := make([]any, n, max(n, 4))
	if c.ns < len(c.slices) {
		c.slices[c.ns] = s
	} else {
		c.slices = append(c.slices, s)
	}
	c.ns++
	return s
}

// forget zeroes whatever still points into the last row: the scratch
// space beyond its length and the containers the next value may not take.
// Without it, a huge row would stay in memory after the pipeline dropped
// it, for as long as later rows are smaller (or hold no strings).
func (d *decoder) forget() {
	clear(d.kvs[:cap(d.kvs)])
	clear(d.vals[:cap(d.vals)])
	for _, m := range d.reuse.maps {
		clear(m)
	}
	for _, s := range d.reuse.slices {
		clear(s[:cap(s)])
	}
}

type kv struct {
	k string
	v any
}

// decode decodes data, which must hold exactly one JSON value, building
// only the parts dem asks for (nil: all of it).
//
// The value is built in place (see decoder): valid until the next decode
// and while data is unchanged.
func (d *decoder) decode(data []byte, dem *demand) (any, error) {
	if d.reuse == nil {
		d.reuse = &containers{}
	}
	d.reuse.nm, d.reuse.ns = 0, 0
	d.reuse.reset()
	if d.huge {
		d.forget()
	}
	d.huge = len(data) >= dropRowBytes
	v, err := d.decodeString(unsafe.String(unsafe.SliceData(data), len(data)), dem)
	if err != nil {
		d.s = ""
	}
	return v, err
}

func (d *decoder) decodeString(s string, dem *demand) (any, error) {
	d.s, d.i, d.depth = s, 0, 0
	d.kvs, d.vals = d.kvs[:0], d.vals[:0]
	d.skipSpace()
	v, err := d.valueFor(dem)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.i < len(d.s) {
		return nil, d.errorf("unexpected %s after the value", d.quoteAt())
	}
	d.s = ""
	return v, nil
}

func (d *decoder) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: d.i, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) quoteAt() string {
	if d.i >= len(d.s) {
		return "end of input"
	}
	r, _ := utf8.DecodeRuneInString(d.s[d.i:])
	return fmt.Sprintf("%q", r)
}

func (d *decoder) skipSpace() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// valueFor decodes a value under dem: an object is built with only the
// keys dem names; anything else, or anything under a whole demand, is
// built in full.
func (d *decoder) valueFor(dem *demand) (any, error) {
	if dem.whole() || d.i >= len(d.s) || d.s[d.i] != '{' {
		return d.value()
	}
	return d.object(dem)
}

func (d *decoder) value() (any, error) {
	if d.i >= len(d.s) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.s[d.i]; {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return d.boxString(s), nil
	case c == '{':
		return d.object(nil)
	case c == '[':
		return d.array()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.errorf("unexpected %s where a value should start", d.quoteAt())
}

func (d *decoder) literal(word string) error {
	if len(d.s)-d.i < len(word) || d.s[d.i:d.i+len(word)] != word {
		return d.errorf("invalid literal; expected %s", word)
	}
	d.i += len(word)
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return &DepthError{Offset: d.i, Limit: maxDepth}
	}
	return nil
}

// object decodes an object; with a partial demand dem, only the keys it
// names are kept and the other values are checked and skipped.
func (d *decoder) object(dem *demand) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	if d.open('}') {
		return d.takeMap(0), nil
	}
	base := len(d.kvs)
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, d.errorf("unexpected %s where an object key should start", d.quoteAt())
		}
		// Under a demand the key is only looked up: the demand's own
		// string is the one kept.
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, d.errorf("unexpected %s after an object key; expected ':'", d.quoteAt())
		}
		d.i++
		d.skipSpace()
		if dem != nil {
			sub, ok := dem.fields[k]
			if !ok {
				if err := d.skip(); err != nil {
					return nil, err
				}
			} else if v, err := d.valueFor(sub); err != nil {
				return nil, err
			} else {
				d.kvs = append(d.kvs, kv{sub.key, v})
			}
		} else if v, err := d.value(); err != nil {
			return nil, err
		} else {
			d.kvs = append(d.kvs, kv{k, v})
		}
		if more, err := d.more('}'); err != nil {
			return nil, err
		} else if !more {
			break
		}
	}
	entries := d.kvs[base:]
	m := d.takeMap(len(entries))
	for _, e := range entries {
		m[e.k] = e.v // a repeated key keeps its last value, as in jq
	}
	clear(entries)
	d.kvs = d.kvs[:base]
	return m, nil
}

func (d *decoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	if d.open(']') {
		return d.takeSlice(0), nil
	}
	base := len(d.vals)
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.vals = append(d.vals, v)
		if more, err := d.more(']'); err != nil {
			return nil, err
		} else if !more {
			break
		}
	}
	elems := d.vals[base:]
	a := d.takeSlice(len(elems))
	copy(a, elems)
	clear(elems)
	d.vals = d.vals[:base]
	return a, nil
}

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

// skip checks and moves past one value without building it.
func (d *decoder) skip() error {
	if d.i >= len(d.s) {
		return d.errorf("unexpected end of input")
	}
	switch c := d.s[d.i]; {
	case c == '"':
		return d.skipString()
	case c == '{', c == '[':
		return d.skipContainer()
	case c == '-' || c >= '0' && c <= '9':
		_, _, err := d.scanNumber()
		return err
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	return d.errorf("unexpected %s where a value should start", d.quoteAt())
}

// skipString moves past a string, checking its escapes.
func (d *decoder) skipString() error {
	s := d.s
	for j := d.i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			d.i = j + 1
			return nil
		case c == '\\':
			if j+1 >= len(s) {
				break
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if _, ok := hex4(s, j+2); !ok {
					d.i = j
					return d.errorf(`invalid \u escape`)
				}
				j += 5
			default:
				d.i = j
				return d.errorf("invalid escape %q in a string", s[j:j+2])
			}
		case c < 0x20:
			d.i = j
			return d.errorf("control character %#02x in a string; it must be escaped", c)
		}
	}
	d.i = len(s)
	return d.errorf("unterminated string")
}

// skipContainer moves past an object or array.
func (d *decoder) skipContainer() error {
	obj := d.s[d.i] == '{'
	if err := d.enter(); err != nil {
		return err
	}
	closer := byte(']')
	if obj {
		closer = '}'
	}
	if d.open(closer) {
		return nil
	}
	for {
		if obj {
			if d.i >= len(d.s) || d.s[d.i] != '"' {
				return d.errorf("unexpected %s where an object key should start", d.quoteAt())
			}
			if err := d.skipString(); err != nil {
				return err
			}
			d.skipSpace()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				return d.errorf("unexpected %s after an object key; expected ':'", d.quoteAt())
			}
			d.i++
			d.skipSpace()
		}
		if err := d.skip(); err != nil {
			return err
		}
		if more, err := d.more(closer); err != nil || !more {
			return err
		}
	}
}

// open moves past the '{' or '[' at d.i and any space, and reports whether
// closer follows at once (an empty container, which it also moves past and
// leaves).
func (d *decoder) open(closer byte) bool {
	d.i++
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == closer {
		d.i++
		d.depth--
		return true
	}
	return false
}

// more moves past the ',' or closer after a member of a container, and
// reports whether another member follows; after the closer the container
// is left.
func (d *decoder) more(closer byte) (bool, error) {
	d.skipSpace()
	if d.i < len(d.s) {
		switch d.s[d.i] {
		case ',':
			d.i++
			d.skipSpace()
			return true, nil
		case closer:
			d.i++
			d.depth--
			return false, nil
		}
	}
	if closer == '}' {
		return false, d.errorf("unexpected %s in an object; expected ',' or '}'", d.quoteAt())
	}
	return false, d.errorf("unexpected %s in an array; expected ',' or ']'", d.quoteAt())
}

// DecodeJSON decodes text holding exactly one JSON value the way rows are
// decoded: numbers keep the text they were written with.
func DecodeJSON(text string) (any, error) {
	var d decoder
	return d.decodeString(text, nil)
}
