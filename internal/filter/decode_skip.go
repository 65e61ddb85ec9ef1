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

// skipContainer moves past an object or array without building it and
// without recursion. Its nesting is not bounded by maxDepth: nothing of it
// is built, and a server that narrows a row to what the expression
// observes (internal/pushdown) drops such a part, so bounding it here
// would make a row fail without narrowing and pass with it. One bit per
// open level says whether it is an object.
func (d *decoder) skipContainer() error {
	var objs []uint64 // bit n: level n is an object
	n := 0
	top := func() bool { return objs[(n-1)/64]&(1<<((n-1)%64)) != 0 }
	for {
		// At a value.
		if c := d.s[d.i]; c == '{' || c == '[' {
			if n/64 >= len(objs) {
				objs = append(objs, 0)
			}
			if c == '{' {
				objs[n/64] |= 1 << (n % 64)
			} else {
				objs[n/64] &^= 1 << (n % 64)
			}
			n++
			d.i++
			d.skipSpace()
			if d.i < len(d.s) && d.s[d.i] == closerOf(top()) {
				d.i++
				n--
			} else if err := d.member(top()); err != nil {
				return err
			} else {
				continue
			}
		} else if err := d.skip(); err != nil {
			return err
		}
		// After a value: the next member, or the end of containers.
		for {
			if n == 0 {
				return nil
			}
			more, err := d.after(closerOf(top()))
			if err != nil {
				return err
			}
			if more {
				break
			}
			n--
		}
		if err := d.member(top()); err != nil {
			return err
		}
	}
}

// closerOf is the byte that closes an object (obj) or an array.
func closerOf(obj bool) byte {
	if obj {
		return '}'
	}
	return ']'
}

// member moves to the value of a container's next member: past its key,
// in an object; it checks that a value starts there.
func (d *decoder) member(obj bool) error {
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
	if d.i >= len(d.s) {
		return d.errorf("unexpected end of input")
	}
	return nil
}
