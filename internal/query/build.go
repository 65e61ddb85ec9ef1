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
	// Range, when set, keeps only the rows whose split key falls in it
	// (--parallel): one more condition, ANDed with Where.
	Range *Range
	// Narrowing, when set, is fraise's own narrowing of what the server
	// sends for --jq (internal/pushdown).
	Narrowing *Narrowing
	// Resume, when set, makes the statement resumable (--resume): its
	// ORDER BY list is the key.
	Resume *Resume
}

// Narrowing is SQL fraise writes, never the user, to narrow what the
// server sends for --jq (internal/pushdown); its parameters follow the
// user's.
type Narrowing struct {
	// Select is selected in place of the column, under the name
	// NarrowedName: not the column's, which an ORDER BY naming the column
	// would then take for it.
	Select string
	// Notes say what Select does, each in a comment before it.
	Notes []string
	// DropsRows says that Select is SQL NULL for a row the expression
	// certainly drops, a NULL value being sent as JSON null: the row is
	// still sent, so that every row keeps its number (for jq's errors,
	// --limit and --offset), but only as a NULL.
	DropsRows bool
}

// NarrowedName names the narrowed value in the select list.
const NarrowedName = "fraise:narrowed"

// Comment renders s as an SQL comment on its own line: it cannot end
// early, nest, or hold a control character.
func Comment(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	for strings.Contains(s, "*/") || strings.Contains(s, "/*") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "*/", "* /"), "/*", "/ *")
	}
	return "/* " + s + " */"
}

// Range is a slice of a split key's values: the rows whose key is at
// least the parameter $Param (when Lo) and below the next parameter (when
// Hi), or, when Null, the rows whose key is NULL. Without either bound
// and without Null it is every row whose key is not NULL.
type Range struct {
	// Key is the split key, the user's own SQL expression.
	Key string
	// Lo and Hi say which bounds are bound as parameters.
	Lo, Hi bool
	// Null selects the rows whose key IS NULL; Lo and Hi are then false.
	Null bool
	// Param is the number of the first bound's parameter: $Param.
	Param int
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
	// PartSplitBy is the split key of a parallel run (Spec.Range.Key).
	PartSplitBy
)

// String names the part as SQL does: WHERE, ORDER BY.
func (p Part) String() string {
	switch p {
	case PartWhere:
		return "WHERE"
	case PartOrderBy:
		return "ORDER BY"
	case PartSplitBy:
		return "split key"
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
	// Text, when set, is the fragment, and Offset the byte in it the
	// reason is about.
	Text   string
	Offset int
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
	var keys []OrderKey
	b.text("SELECT ")
	if spec.Resume != nil {
		var err error
		if keys, err = resumeKeys(spec); err != nil {
			return Statement{}, err
		}
		b.resumeColumns(keys, spec.Resume.Check)
	}
	if n := spec.Narrowing; n != nil {
		for _, note := range n.Notes {
			b.text(Comment(note) + "\n")
		}
		b.text(n.Select + " AS " + QuoteIdent(NarrowedName))
	} else {
		b.text(QuoteIdent(spec.Column))
	}
	if err := b.fromWhere(spec); err != nil {
		return Statement{}, err
	}
	if spec.Resume != nil && spec.Resume.Check {
		b.text("\nWINDOW " + resumeWindow + " AS (ORDER BY\n")
		b.fragment(PartOrderBy, spec.OrderBy)
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

// BuildExtent renders the statement that finds a split key's extent over
// the rows spec selects (its Range and ORDER BY, LIMIT, OFFSET are not
// used): one row of the key's type OID, and its least and greatest
// values as text (NULL when no row has a key).
func BuildExtent(spec Spec, key string) (Statement, error) {
	if err := checkFragment(PartSplitBy, key); err != nil {
		return Statement{}, err
	}
	var b builder
	b.text("SELECT pg_typeof(min((\n")
	b.fragment(PartSplitBy, key)
	b.text("\n)))::oid::int8, min((\n")
	b.fragment(PartSplitBy, key)
	b.text("\n))::text, max((\n")
	b.fragment(PartSplitBy, key)
	b.text("\n))::text")
	spec.Range = nil
	if err := b.fromWhere(spec); err != nil {
		return Statement{}, err
	}
	return Statement{SQL: b.sb.String(), Fragments: b.frags}, nil
}

// fromWhere writes the FROM and WHERE clauses of spec.
func (b *builder) fromWhere(spec Spec) error {
	b.text("\nFROM " + spec.Relation.String())
	for i, w := range spec.Where {
		if err := checkFragment(PartWhere, w); err != nil {
			return err
		}
		if i == 0 {
			b.text("\nWHERE (\n")
		} else {
			b.text("\n) AND (\n")
		}
		b.fragment(PartWhere, w)
	}
	if spec.Range != nil {
		if err := b.rangeCondition(*spec.Range, len(spec.Where) > 0); err != nil {
			return err
		}
	} else if len(spec.Where) > 0 {
		b.text("\n)")
	}
	if r := spec.Resume; r != nil && r.After > 0 {
		keys, err := resumeKeys(spec)
		if err != nil {
			return err
		}
		b.resumeAfter(keys, *r, len(spec.Where) > 0 || spec.Range != nil)
	}
	return nil
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
	return checkBalanced(part, s)
}

// rangeCondition writes r's condition, after the user's conditions when
// more.
func (b *builder) rangeCondition(r Range, more bool) error {
	if err := checkFragment(PartSplitBy, r.Key); err != nil {
		return err
	}
	if more {
		b.text("\n) AND (\n")
	} else {
		b.text("\nWHERE (\n")
	}
	key := func() {
		b.text("(\n")
		b.fragment(PartSplitBy, r.Key)
		b.text("\n)")
	}
	param := r.Param
	switch {
	case r.Null:
		key()
		b.text(" IS NULL")
	case !r.Lo && !r.Hi:
		key()
		b.text(" IS NOT NULL")
	default:
		if r.Lo {
			key()
			b.text(" >= $" + strconv.Itoa(param))
			param++
		}
		if r.Lo && r.Hi {
			b.text(" AND ")
		}
		if r.Hi {
			key()
			b.text(" < $" + strconv.Itoa(param))
		}
	}
	b.text("\n)")
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
