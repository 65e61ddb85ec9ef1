// Decoding JSON text into the values gojq works on: the decoder, its entry
// points (decode for rows, DecodeJSON for the values of --argjson) and its
// walk over objects and arrays, which builds only what the filter's demand
// asks for. Strings and numbers are read in decode_scalar.go, the values a
// demand leaves out are skipped in decode_skip.go, and a row's maps and
// slices are built in place as decode_reuse.go and box.go say.

package filter

import (
	"fmt"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds the nesting of a decoded value, as encoding/json does,
// so that hostile input cannot exhaust the stack.
const maxDepth = 10000

// decoder turns JSON text into the values gojq works on: nil, bool, int,
// json.Number, string, []any and map[string]any. Integers that fit an int
// and print back the same become int; every other number stays
// json.Number, so that a number the filter does not touch is written
// exactly as it was read. A decoder reuses its scratch space between
// values and is not safe for concurrent use.
//
// decode builds values in place: their strings are views of the row's
// bytes, and their maps and slices (see decode_reuse.go), and the boxes
// that hold their strings and numbers as interface values (see box.go),
// are the ones the previous decode built, cleared and filled again. A
// value is therefore valid only until the next decode and while the
// row's bytes stay as they are — which is how the pipeline uses it: a row
// is decoded, filtered and its outputs encoded before the next row is
// decoded, and a batch's bytes are kept until its output is written. Anything that outlives the row (an error
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
	more, err := d.after(closer)
	if err == nil && !more {
		d.depth--
	}
	return more, err
}

// after is more for a container outside the depth count (skipContainer).
func (d *decoder) after(closer byte) (bool, error) {
	d.skipSpace()
	if d.i < len(d.s) {
		switch d.s[d.i] {
		case ',':
			d.i++
			d.skipSpace()
			return true, nil
		case closer:
			d.i++
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
