package query

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Spec is what the user asked for: the parts of the one statement fraise runs.
type Spec struct {
	// Relation is the relation to read.
	Relation Relation
	// Column is the json/jsonb column to read.
	Column string
	// Where holds the conditions of the WHERE clause, the user's own
	// SQL; they are ANDed.
	Where []string
	// OrderBy is the ORDER BY list, the user's own SQL, or "".
	OrderBy string
	// Limit is the LIMIT; negative means no limit.
	Limit int64
	// Offset is the OFFSET; zero or negative means none.
	Offset int64
}

// Part names the part of the statement a fragment of user SQL is placed
// in. Where the user typed it (a flag, a setting) is for the caller to say.
type Part int

// The parts of the statement that hold user SQL.
const (
	// PartWhere is one condition of the WHERE clause (Spec.Where).
	PartWhere Part = iota + 1
	// PartOrderBy is the ORDER BY list (Spec.OrderBy).
	PartOrderBy
)

// String names the part as SQL does: WHERE, ORDER BY.
func (p Part) String() string {
	switch p {
	case PartWhere:
		return "WHERE"
	case PartOrderBy:
		return "ORDER BY"
	}
	return "Part(" + strconv.Itoa(int(p)) + ")"
}

// Fragment is a piece of user SQL placed in the statement.
type Fragment struct {
	// Part is the part of the statement the fragment is placed in.
	Part Part
	// Text is the fragment as the user gave it.
	Text string
	// Start is the offset, in characters (runes), of the fragment's first
	// character in the statement.
	Start int
}

// Statement is the SQL text to send and where the user's fragments sit in it.
type Statement struct {
	// SQL is the statement text.
	SQL string
	// Fragments lists the user fragments in the order they appear.
	Fragments []Fragment
}

// FragmentError reports a fragment of user SQL refused before any
// connection is made.
type FragmentError struct {
	// Part is the part of the statement the fragment was for.
	Part Part
	// Reason says what is wrong.
	Reason string
}

func (e *FragmentError) Error() string { return e.Part.String() + ": " + e.Reason }

// Build renders the statement for spec.
func Build(spec Spec) (Statement, error) {
	if spec.Relation.Name == "" {
		return Statement{}, errors.New("query: no relation given")
	}
	if spec.Column == "" {
		return Statement{}, errors.New("query: no column given")
	}
	var b builder
	b.text("SELECT " + QuoteIdent(spec.Column) + "\nFROM " + spec.Relation.String())
	for i, w := range spec.Where {
		if err := checkFragment(PartWhere, w); err != nil {
			return Statement{}, err
		}
		if i == 0 {
			b.text("\nWHERE (\n")
		} else {
			b.text("\n) AND (\n")
		}
		b.fragment(PartWhere, w)
	}
	if len(spec.Where) > 0 {
		b.text("\n)")
	}
	if spec.OrderBy != "" {
		if err := checkFragment(PartOrderBy, spec.OrderBy); err != nil {
			return Statement{}, err
		}
		b.text("\nORDER BY\n")
		b.fragment(PartOrderBy, spec.OrderBy)
		// A lone closing line keeps a trailing "--" comment in the fragment
		// from swallowing what follows.
		b.text("\n")
	}
	if spec.Limit >= 0 {
		b.text("\nLIMIT " + strconv.FormatInt(spec.Limit, 10))
	}
	if spec.Offset > 0 {
		b.text("\nOFFSET " + strconv.FormatInt(spec.Offset, 10))
	}
	return Statement{SQL: b.sb.String(), Fragments: b.frags}, nil
}

func checkFragment(part Part, s string) error {
	if strings.TrimSpace(s) == "" {
		return &FragmentError{Part: part, Reason: "the SQL fragment is empty; give an expression or leave the flag out"}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return &FragmentError{Part: part, Reason: "the SQL fragment contains a NUL byte"}
	}
	if !utf8.ValidString(s) {
		return &FragmentError{Part: part, Reason: "the SQL fragment is not valid UTF-8"}
	}
	return nil
}

type builder struct {
	sb    strings.Builder
	runes int
	frags []Fragment
}

func (b *builder) text(s string) {
	b.sb.WriteString(s)
	b.runes += utf8.RuneCountInString(s)
}

func (b *builder) fragment(part Part, s string) {
	b.frags = append(b.frags, Fragment{Part: part, Text: s, Start: b.runes})
	b.text(s)
}

// Locate maps a server error position (1-based, in characters, as in the
// ErrorResponse P field) to the fragment it falls in. It returns the fragment
// and the 0-based rune offset inside it; ok is false when the position is
// outside every fragment. A position on the first token after a fragment
// (such as fraise's closing parenthesis, when the fragment closed it
// early) is reported at the fragment's end.
func (s Statement) Locate(position int) (frag Fragment, offset int, ok bool) {
	p := position - 1
	var sql []rune
	for _, f := range s.Fragments {
		n := utf8.RuneCountInString(f.Text)
		end := f.Start + n
		// A position just past the end (e.g. "unexpected end of input")
		// still belongs to the fragment.
		if p >= f.Start && p <= end {
			return f, p - f.Start, true
		}
		if p > end {
			if sql == nil {
				sql = []rune(s.SQL)
			}
			if p < len(sql) && strings.TrimSpace(string(sql[end:p])) == "" {
				return f, n, true
			}
		}
	}
	return Fragment{}, 0, false
}
