package cli

import "bytes"

// keyKind says how the client compares a key item's text with the one
// before (a resumable run's check that the key is unique, without the
// server's window, which costs a copy of every row).
type keyKind int

const (
	// keyEqual: equal values have equal texts, and only those; the order
	// of two texts says nothing.
	keyEqual keyKind = iota + 1
	// keyInteger: the text is an integer, compared as one.
	keyInteger
)

// keyKinds returns how the client checks a key of the types the server
// named, or nil when one of them has equal values of different texts
// (numeric 1.0 and 1.00, float -0 and 0, intervals, citext, strings under
// a nondeterministic collation): the server must check those.
// deterministic says every collation of the database is.
func keyKinds(types []string, deterministic bool) []keyKind {
	kinds := make([]keyKind, len(types))
	for i, t := range types {
		switch t {
		case "smallint", "integer", "bigint":
			kinds[i] = keyInteger
		case "uuid", "date", "timestamp with time zone", "timestamp without time zone", "boolean", "oid":
			kinds[i] = keyEqual
		case "text", "character varying", "name":
			if !deterministic {
				return nil
			}
			kinds[i] = keyEqual
		default:
			return nil
		}
	}
	return kinds
}

// after reports whether key, compared as a row with the key before it,
// could come after it in the server's order (desc: descending): not equal
// to it, and, where the first item that differs is an integer, in order.
func after(kinds []keyKind, desc bool, key, before [][]byte) bool {
	for i, k := range key {
		if bytes.Equal(k, before[i]) {
			continue
		}
		if kinds[i] != keyInteger {
			return true
		}
		return (compareIntegers(k, before[i]) > 0) != desc
	}
	return false
}

// compareIntegers compares two integers in the server's text form
// (int2out, int4out, int8out: an optional minus sign, then digits without
// leading zeros), without parsing them: -1, 0 or 1.
func compareIntegers(a, b []byte) int {
	negA, negB := len(a) > 0 && a[0] == '-', len(b) > 0 && b[0] == '-'
	switch {
	case negA && !negB:
		return -1
	case negB && !negA:
		return 1
	}
	c := len(a) - len(b)
	if c == 0 {
		c = bytes.Compare(a, b)
	}
	if c > 0 {
		c = 1
	} else if c < 0 {
		c = -1
	}
	if negA {
		return -c
	}
	return c
}
