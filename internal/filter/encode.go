package filter

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// encoder writes values as jq (and gojq.Marshal) does, compactly: object
// keys sorted, NaN as null, infinities clamped to ±MaxFloat64, \b and \f
// escapes, invalid UTF-8 as \ufffd, and '<', '>', '&' left alone. Numbers
// decoded as json.Number print as they were read. It reuses its scratch
// space and is not safe for concurrent use.
type encoder struct {
	kvs   []kv // object entries being sorted, innermost last
	depth int  // arrays and objects open
}

// errTooDeepToWrite refuses a value an expression built deeper than
// maxDepth (reduce range(1e6) as $i (null; [.])): written by recursion, it
// would overflow the stack, which no recover catches.
var errTooDeepToWrite = fmt.Errorf("the value is nested more than %d levels deep, too deep to write", maxDepth)

// appendValue appends the encoding of v to b.
func (e *encoder) appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if v {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case string:
		return appendString(b, v), nil
	case json.Number:
		return append(b, v...), nil
	case float64:
		return appendFloat(b, v), nil
	case *big.Int:
		return v.Append(b, 10), nil
	case []any:
		return e.nested(b, v, nil, false)
	case map[string]any:
		return e.nested(b, nil, v, true)
	}
	return b, fmt.Errorf("cannot encode a value of Go type %T", v)
}

// nested appends an array (a) or an object (m, when object), one level
// deeper.
func (e *encoder) nested(b []byte, a []any, m map[string]any, object bool) ([]byte, error) {
	if e.depth >= maxDepth {
		return b, errTooDeepToWrite
	}
	e.depth++
	var err error
	if object {
		b, err = e.appendObject(b, m)
	} else {
		b, err = e.appendArray(b, a)
	}
	e.depth--
	return b, err
}

func (e *encoder) appendArray(b []byte, a []any) ([]byte, error) {
	b = append(b, '[')
	for i, x := range a {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = e.appendValue(b, x); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func (e *encoder) appendObject(b []byte, m map[string]any) ([]byte, error) {
	base := len(e.kvs)
	for k, v := range m {
		e.kvs = append(e.kvs, kv{k, v})
	}
	entries := e.kvs[base:]
	slices.SortFunc(entries, func(x, y kv) int { return strings.Compare(x.k, y.k) })
	b = append(b, '{')
	var err error
	for i := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, entries[i].k)
		b = append(b, ':')
		// entries may move if a nested object grows e.kvs: index afresh.
		if b, err = e.appendValue(b, e.kvs[base+i].v); err != nil {
			break
		}
	}
	clear(e.kvs[base:])
	e.kvs = e.kvs[:base]
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendFloat formats f as jq does (encoding/json's float rules).
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) {
		return append(b, "null"...)
	}
	f = min(max(f, -math.MaxFloat64), math.MaxFloat64)
	format := byte('f')
	if x := math.Abs(f); x != 0 && x < 1e-6 || x >= 1e21 {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		if n := len(b) - start; n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

// safe marks the ASCII bytes written as they are inside a string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c <= '~'; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// shortEscape is the letter of the two-character escape of an ASCII byte,
// or 0 for \u00XX.
var shortEscape = [utf8.RuneSelf]byte{'"': '"', '\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't'}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			if e := shortEscape[c]; e != 0 {
				b = append(b, '\\', e)
			} else {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
