package cli

import (
	"bytes"
	"strconv"
)

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
		a, errA := strconv.ParseInt(string(k), 10, 64)
		b, errB := strconv.ParseInt(string(before[i]), 10, 64)
		if errA != nil || errB != nil {
			return false
		}
		return a > b != desc
	}
	return false
}
