// Moving past the values a demand (demand.go) leaves out: their syntax is
// checked, as the decoder checks what it builds, so that a row that is not
// valid JSON fails whatever the filter reads; nothing is built.

package filter

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
