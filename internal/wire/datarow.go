// DataRow bodies split into their values in place, without copies
// (documentation 55.7 "Message Formats", DataRow): one splitter for the
// stream's single json or jsonb value and for the text rows of QueryText.

package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// dataRowValue returns the single value of a DataRow body (nil for NULL),
// a slice of body: the stream's one json or jsonb column.
//
// A value holding a NUL byte is refused (nulInValue): PostgreSQL's text
// never holds one, and a message spliced into the row does. PgBouncer
// writes its own ErrorResponse ("server conn crashed?") to the client
// when the server's connection ends in the middle of a DataRow it is
// passing on, so that the rest of the row the client waits for is that
// error's bytes: taken as the value, it would be written as a line of
// garbage.
func dataRowValue(body []byte) ([]byte, error) {
	if len(body) < 2 {
		return nil, malformedRow("too short")
	}
	if n := binary.BigEndian.Uint16(body); n != 1 {
		return nil, &ProtocolError{Msg: fmt.Sprintf("data row with %d values, expected 1", n)}
	}
	v, end, ok := dataRowNext(body, 2)
	switch {
	case !ok:
		return nil, badDataRow(body, 2, 0, 1)
	case end != len(body):
		return nil, badDataRow(body, end, 1, 1)
	case bytes.IndexByte(v, 0) >= 0:
		return nil, nulInValue(0, 1)
	case len(v) > 0 && v[len(v)-1] == 'E':
		// The one splice without a NUL: the row cut one byte short, its
		// last byte the ErrorResponse's type. JSON text never ends in 'E'.
		return nil, malformedRow("the value ends in 'E', which JSON text never does: another message (an ErrorResponse) was spliced into the row (a pooler or proxy in between may have cut it)")
	}
	return v, nil
}

// dataRowValues appends to dst the values of a DataRow body (nil for
// NULL), as slices of body capped at their own length, and returns dst.
func dataRowValues(body []byte, dst [][]byte) ([][]byte, error) {
	if len(body) < 2 {
		return dst, malformedRow("too short")
	}
	n := int(binary.BigEndian.Uint16(body))
	p := 2
	for i := range n {
		v, next, ok := dataRowNext(body, p)
		switch {
		case !ok:
			return dst, badDataRow(body, p, i, n)
		case bytes.IndexByte(v, 0) >= 0:
			return dst, nulInValue(i, n)
		}
		dst = append(dst, v)
		p = next
	}
	if p != len(body) {
		return dst, badDataRow(body, p, n, n)
	}
	return dst, nil
}

// dataRowNext reads the value whose length starts at body[p]: the value
// (nil for NULL), capped at its own length, and where the next one
// starts; ok is false when the lengths do not add up (badDataRow says
// how). It is small enough to be inlined on the stream's path.
func dataRowNext(body []byte, p int) (v []byte, next int, ok bool) {
	if len(body)-p < 4 {
		return nil, p, false
	}
	l := int64(int32(binary.BigEndian.Uint32(body[p:])))
	p += 4
	if l == -1 {
		return nil, p, true
	}
	if l < 0 || l > int64(len(body)-p) {
		return nil, p, false
	}
	end := p + int(l)
	return body[p:end:end], end, true
}

// badDataRow says what is wrong at body[p]: value i of n does not fit, or,
// with i == n, bytes follow the last value.
func badDataRow(body []byte, p, i, n int) error {
	left := len(body) - p
	switch {
	case i == n:
		return malformedRow(fmt.Sprintf("%d bytes after the last value", left))
	case left < 4:
		return malformedRow(fmt.Sprintf("value %d of %d is missing", i+1, n))
	}
	l := int32(binary.BigEndian.Uint32(body[p:]))
	return malformedRow(fmt.Sprintf("value %d has length %d with %d bytes left", i+1, l, left-4))
}

// nulInValue is the error of a DataRow whose value i of n holds a NUL
// byte (see dataRowValue).
func nulInValue(i, n int) error {
	return malformedRow(fmt.Sprintf("value %d of %d holds a NUL byte, which text from PostgreSQL never does: another message was spliced into the row (a pooler or proxy in between may have cut it)", i+1, n))
}

// malformedRow is the error of a DataRow whose lengths do not add up.
func malformedRow(why string) error {
	return &ProtocolError{Msg: "malformed DataRow: " + why}
}
