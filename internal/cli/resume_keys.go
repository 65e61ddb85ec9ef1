package cli

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/query"
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

// keySettings returns the settings the text of a key of these types
// depends on, among query.KeySettings (all of them for a type it does not
// know), and whether that text is read back exactly only in ISO DateStyle
// (SQL's style names zones by abbreviations that repeat at a DST change)
// or with extra_float_digits 1 or more (less rounds floats).
func keySettings(types []string) (names []string, iso, floats bool) {
	add := func(n ...string) {
		for _, x := range n {
			if !slices.Contains(names, x) {
				names = append(names, x)
			}
		}
	}
	for _, t := range types {
		switch t {
		case "smallint", "integer", "bigint", "numeric", "text", "character varying", "bpchar", "name", "uuid", "boolean", "oid", "bytea":
		case "date", "timestamp with time zone", "timestamp without time zone", "time with time zone", "time without time zone":
			iso = true
		case "interval":
			add("IntervalStyle")
		case "double precision", "real":
			floats = true
		case "money":
			add("lc_monetary")
		default:
			add(query.KeySettings...)
			iso, floats = true, true
		}
	}
	return names, iso, floats
}

// settingError refuses a key whose text the session's settings would not
// read back as the same value.
func settingError(format string, a ...any) error {
	return &usageError{fmt.Errorf("--resume: "+format, a...)}
}

// checkSettings refuses a key whose text this session's settings do not
// make exact, and records the settings it depends on (the manifest keeps
// the first run's; a later run with others is refused, naming them).
func (r *resumeOptions) checkSettings(kt keyTypes) error {
	names, iso, floats := keySettings(kt.types)
	if ds := kt.settings["DateStyle"]; iso && !strings.HasPrefix(ds, "ISO") {
		return settingError("the --order-by key holds dates or times, whose text in DateStyle %q may not be read back as the same value; "+
			"use ISO: PGOPTIONS='-c DateStyle=ISO', or options=-cDateStyle=ISO in --dsn", ds)
	}
	if efd, err := strconv.Atoi(kt.settings["extra_float_digits"]); floats && (err != nil || efd < 1) {
		return settingError("the --order-by key holds floats, which extra_float_digits %q rounds; set it to 1 or more (the default): "+
			"PGOPTIONS='-c extra_float_digits=1'", kt.settings["extra_float_digits"])
	}
	if r.seg == nil {
		return nil // --explain
	}
	cur := map[string]string{}
	for _, n := range names {
		cur[n] = kt.settings[n]
	}
	if diff := r.seg.KeySettings(cur); diff != "" {
		return &output.ResumeError{Msg: fmt.Sprintf("cannot resume the output in %s: the --order-by key's text depends on settings that differ from the first run's: %s; "+
			"run with the first run's settings, or give --resume=restart to start over", output.ResumeDir(r.seg.Final()), diff)}
	}
	return nil
}
