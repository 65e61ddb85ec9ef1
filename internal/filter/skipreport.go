// --on-jq-error skip's report: the rows dropped, grouped by the kind of
// their failure (errkind.go), each kind told at its first row as it comes
// and counted in a summary at the end.

package filter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxWarned bounds the kinds of failure a skip report tells apart; the
// rows of further kinds are counted as other errors.
const maxWarned = 20

// maxShown bounds, in bytes, each text a skip report shows of a row: its
// message, its kind and its values.
const maxShown = 200

// SkipGroup is skipped rows that failed alike: whose messages are one
// once the values they quote are elided.
type SkipGroup struct {
	// Kind is the rows' message with its values elided ("cannot add:
	// number (…) and string (…)"), as shown (see Msg).
	Kind string
	// Row is the number of the group's first row, from 1.
	Row int64
	// Msg is the first row's message, as shown: on one line, control
	// characters escaped, cut to 200 bytes.
	Msg string
	// Values are the values the first row's message quotes, as gojq
	// printed them, joined by ", ", as shown; empty if it quotes none.
	Values string
	// N is the number of rows.
	N int64
}

// SkipKind returns the kind of failure msg tells of: SkipGroup.Kind.
func SkipKind(msg string) string { return shown(kindOf(msg)) }

// NewSkipGroup returns the group of one row, row, that failed with msg.
func NewSkipGroup(row int64, msg string) SkipGroup {
	kind, values := errorKind(msg)
	return SkipGroup{Kind: shown(kind), Row: row, Msg: shown(msg), Values: shown(strings.Join(values, ", ")), N: 1}
}

// SkipReport tells of the rows --on-jq-error skip dropped, grouped by
// kind: the first row of each kind as it comes, up to maxWarned kinds in
// the order they are first seen, then, at the end, a summary with each
// kind's count, its first row and that row's values. A pipeline has its
// own; a caller that runs several (the ranges of a parallel run) makes
// one and adds their groups in the output's order, for the same lines as
// one pipeline would print.
type SkipReport struct {
	warn   func(string) // nil discards
	index  map[string]int
	groups []SkipGroup
	total  int64
}

// NewSkipReport returns a report that warns through warn (nil: nothing).
func NewSkipReport(warn func(string)) *SkipReport {
	return &SkipReport{warn: warn, index: map[string]int{}}
}

// Add records a skipped row, row (counted from 1 in the output's rows),
// that failed with msg.
func (r *SkipReport) Add(row int64, msg string) {
	if i, ok := r.index[SkipKind(msg)]; ok {
		r.groups[i].N++
		r.total++
		return
	}
	r.AddGroup(NewSkipGroup(row, msg))
}

// AddGroup records g's rows, g.Row numbered in the output's rows: counted
// in the group of their kind, or, a kind not seen yet, told now.
func (r *SkipReport) AddGroup(g SkipGroup) {
	r.total += g.N
	if i, ok := r.index[g.Kind]; ok {
		r.groups[i].N += g.N
		return
	}
	if len(r.groups) >= maxWarned {
		return
	}
	r.index[g.Kind] = len(r.groups)
	r.groups = append(r.groups, g)
	r.say(fmt.Sprintf("jq error on row %d, row skipped: %s", g.Row, g.Msg))
	if len(r.groups) == maxWarned {
		r.say(fmt.Sprintf("%d kinds of jq error so far; rows failing with another kind are counted, not shown", maxWarned))
	}
}

// AddOthers records n skipped rows whose failures are not told apart:
// counted in the summary's other errors.
func (r *SkipReport) AddOthers(n int64) { r.total += n }

// Summarize warns of every skipped row, out of rows, if any was: a line
// per kind, in the order first seen, and one for the other errors.
func (r *SkipReport) Summarize(rows int64) {
	if r.total == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "skipped %d of %d rows on jq errors (--on-jq-error skip)", r.total, rows)
	rest := r.total
	for _, g := range r.groups {
		fmt.Fprintf(&b, "\n  %d × %s — first on row %d", g.N, g.Kind, g.Row)
		if g.Values != "" {
			fmt.Fprintf(&b, ": %s", g.Values)
		}
		rest -= g.N
	}
	if rest > 0 {
		fmt.Fprintf(&b, "\n  %d × other errors", rest)
	}
	r.say(b.String())
}

func (r *SkipReport) say(msg string) {
	if r.warn != nil {
		r.warn(msg)
	}
}

// shown returns s as a report shows it: on one line, the control
// characters (newline and tab too) and the bidirectional controls
// escaped as JSON writes them, each byte that is not UTF-8 as \xNN, cut
// after maxShown bytes with "…". A message may quote the row's text as
// it is (error's), which must not reach a terminal raw.
func shown(s string) string {
	if len(s) <= maxShown && printable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		unit := s[i : i+size]
		switch {
		case r == utf8.RuneError && size == 1:
			unit = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\n':
			unit = `\n`
		case r == '\t':
			unit = `\t`
		case r == '\r':
			unit = `\r`
		case unicode.IsControl(r), r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			unit = fmt.Sprintf(`\u%04x`, r)
		}
		if b.Len()+len(unit) > maxShown {
			b.WriteString("…")
			break
		}
		b.WriteString(unit)
		i += size
	}
	return b.String()
}

// printable reports whether s is printable ASCII, shown as it is.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
