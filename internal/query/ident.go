// Identifier syntax as in the PostgreSQL documentation, "SQL Syntax",
// section 4.1.1 "Identifiers and Key Words".

package query

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIdentifierBytes is the longest identifier PostgreSQL keeps
// (NAMEDATALEN - 1); longer names are silently truncated by the server, so
// fraise refuses them instead.
const MaxIdentifierBytes = 63

// Relation is a validated relation name, optionally qualified by a schema.
type Relation struct {
	// Schema is the schema name as PostgreSQL stores it, or "" when the
	// relation is found through search_path.
	Schema string
	// Name is the relation name as PostgreSQL stores it.
	Name string
}

// String returns the relation quoted for SQL, e.g. "public"."v_user".
func (r Relation) String() string {
	if r.Schema == "" {
		return QuoteIdent(r.Name)
	}
	return QuoteIdent(r.Schema) + "." + QuoteIdent(r.Name)
}

// Display returns the relation the way fraise reads it back unchanged
// (ParseRelation), quoting only the parts that need it: v_user,
// "Odd Schema"."MixedCase".
func (r Relation) Display() string {
	if r.Schema == "" {
		return FormatIdent(r.Name)
	}
	return FormatIdent(r.Schema) + "." + FormatIdent(r.Name)
}

// IdentError reports a relation or column name that is not a valid SQL
// identifier.
type IdentError struct {
	// What names the input, e.g. "relation" or "--column".
	What string
	// Input is the text the user gave.
	Input string
	// Reason says what is wrong with it.
	Reason string
}

func (e *IdentError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.What, e.Input, e.Reason)
}

// ParseRelation parses name or schema.name in SQL identifier syntax:
// unquoted parts are folded to lower case as PostgreSQL does, quoted parts
// ("Odd Schema"."MixedCase") keep their case and may contain any character
// but NUL, with "" standing for one double quote.
func ParseRelation(s string) (Relation, error) {
	parts, err := parseIdentChain(s, "relation")
	if err != nil {
		return Relation{}, err
	}
	switch len(parts) {
	case 1:
		return Relation{Name: parts[0]}, nil
	case 2:
		return Relation{Schema: parts[0], Name: parts[1]}, nil
	default:
		return Relation{}, &IdentError{What: "relation", Input: s,
			Reason: "expected name or schema.name, got more than two dot-separated parts"}
	}
}

// ParseColumn parses a single column name in SQL identifier syntax.
func ParseColumn(s string) (string, error) {
	parts, err := parseIdentChain(s, "--column")
	if err != nil {
		return "", err
	}
	if len(parts) != 1 {
		return "", &IdentError{What: "--column", Input: s,
			Reason: "expected a single column name, without a relation prefix"}
	}
	return parts[0], nil
}

// QuoteIdent returns name as a quoted SQL identifier.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// FormatIdent returns name as fraise's identifier syntax reads it back
// unchanged: bare when it is a plain lower-case name (a letter or
// underscore, then letters, digits, underscores and dollar signs; non-ASCII
// letters and digits included), else double-quoted with each " doubled.
// Key words stay bare: fraise quotes every name it sends to the server.
func FormatIdent(name string) string {
	if bareIdent(name) {
		return name
	}
	return QuoteIdent(name)
}

// bareIdent reports whether name can be written without quotes. Non-ASCII
// characters other than letters, marks and digits (a no-break space, a
// format character) are accepted bare by the parser but quoted here, so
// that what is shown cannot be misread.
func bareIdent(name string) bool {
	if name == "" || len(name) > MaxIdentifierBytes || !utf8.ValidString(name) {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_' || ('a' <= r && r <= 'z'):
		case i > 0 && (('0' <= r && r <= '9') || r == '$'):
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}

// parseIdentChain splits s into dot-separated identifiers.
func parseIdentChain(s, what string) ([]string, error) {
	fail := func(format string, args ...any) error {
		return &IdentError{What: what, Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return nil, fail("the name is empty")
	}
	if !utf8.ValidString(s) {
		return nil, fail("the name is not valid UTF-8")
	}
	var parts []string
	i := 0
	for {
		if i >= len(s) {
			return nil, fail("a name is missing after the last dot")
		}
		read := unquotedPart
		if s[i] == '"' {
			read = quotedPart
		}
		part, j, reason := read(s, i)
		if reason != "" {
			return nil, fail("%s", reason)
		}
		if len(part) > MaxIdentifierBytes {
			return nil, fail("names are at most %d bytes in PostgreSQL; this one has %d and the server would truncate it", MaxIdentifierBytes, len(part))
		}
		parts = append(parts, part)
		if j == len(s) {
			return parts, nil
		}
		if s[j] != '.' {
			r, _ := utf8.DecodeRuneInString(s[j:])
			return nil, fail("unexpected %q after a quoted name; parts are joined by a dot", r)
		}
		i = j + 1
	}
}

// quotedPart reads the quoted name at s[i] (a double quote): the name,
// where it ends, and what is wrong with it ("" for nothing).
func quotedPart(s string, i int) (string, int, string) {
	var b strings.Builder
	j := i + 1
	for j < len(s) {
		switch {
		case s[j] == '"' && j+1 < len(s) && s[j+1] == '"':
			b.WriteByte('"')
			j += 2
			continue
		case s[j] == '"':
			if b.Len() == 0 {
				return "", 0, `a quoted name may not be empty ("")`
			}
			return b.String(), j + 1, ""
		case s[j] == 0:
			return "", 0, "a quoted name may not contain a NUL byte"
		}
		b.WriteByte(s[j])
		j++
	}
	return "", 0, "a quoted name is not closed: add the final \""
}

// unquotedPart reads the unquoted name at s[i], up to a dot or the end:
// the name folded to lower case, where it ends, and what is wrong with it
// ("" for nothing).
func unquotedPart(s string, i int) (string, int, string) {
	j := i
	for j < len(s) && s[j] != '.' {
		c := s[j]
		ok := c == '_' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') ||
			(j > i && (('0' <= c && c <= '9') || c == '$'))
		if !ok {
			r, _ := utf8.DecodeRuneInString(s[j:])
			if j == i {
				return "", 0, fmt.Sprintf("a name must start with a letter or underscore, not %q; quote it (\"...\") to use other characters", r)
			}
			return "", 0, fmt.Sprintf("unexpected character %q; quote the name (\"...\") to use it", r)
		}
		j++
	}
	if j == i {
		return "", 0, "a name is missing before a dot"
	}
	// PostgreSQL folds only ASCII letters of unquoted names.
	return asciiLower(s[i:j]), j, ""
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
