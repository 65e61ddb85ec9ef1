package query

import (
	"errors"
	"strings"
	"unicode"
)

// OrderKey is the first item of an ORDER BY list: its expression and its
// direction, for a parallel run that writes its ranges in that order.
type OrderKey struct {
	// Expr is the item's expression, without ASC/DESC and NULLS.
	Expr string
	// Desc is set for DESC.
	Desc bool
	// NullsFirst says where NULL keys sort: first by default with DESC,
	// last with ASC, as PostgreSQL does, unless NULLS FIRST/LAST says.
	NullsFirst bool
	// Alone is set when the list has no other item.
	Alone bool
}

// ErrOrderUsing is LeadingOrderKey's error for an item sorted with USING,
// whose order fraise cannot follow.
var ErrOrderUsing = errors.New("the ORDER BY item sorts with USING")

// LeadingOrderKey returns the first item of the ORDER BY list orderBy. It
// splits at the first comma outside parentheses, brackets, quotes,
// dollar quotes and comments.
func LeadingOrderKey(orderBy string) (OrderKey, error) {
	items := splitList(orderBy)
	k, err := orderItem(items[0])
	if err != nil {
		return OrderKey{}, err
	}
	k.Alone = len(items) == 1
	return k, nil
}

// OrderKeys returns every item of the ORDER BY list orderBy, split as
// LeadingOrderKey splits it.
func OrderKeys(orderBy string) ([]OrderKey, error) {
	items := splitList(orderBy)
	keys := make([]OrderKey, len(items))
	for i, item := range items {
		k, err := orderItem(item)
		if err != nil {
			return nil, err
		}
		k.Alone = len(items) == 1
		keys[i] = k
	}
	return keys, nil
}

// LastItem splits an ORDER BY list being typed before its last item, as
// LeadingOrderKey splits it: head runs to the last comma outside
// parentheses, brackets, quotes, dollar quotes and comments, and the white
// space after it; item is the rest ("a, b" is "a, " and "b"). Without such
// a comma, head is the white space that begins list.
func LastItem(list string) (head, item string) {
	start := 0
	for i := 0; i < len(list); {
		n, kind := skipToken(list, i)
		switch {
		case kind == tokComma:
			start = n
		case kind == tokSpace && i == start:
			start = n
		}
		i = n
	}
	return list[:start], list[start:]
}

// orderItem reads one ORDER BY item: its expression, ASC/DESC and NULLS.
func orderItem(item string) (OrderKey, error) {
	var k OrderKey
	words := itemWords(item)
	nullsGiven := false
	if n := len(words); n >= 2 && strings.EqualFold(words[n-2].text, "NULLS") {
		switch {
		case strings.EqualFold(words[n-1].text, "FIRST"):
			k.NullsFirst, nullsGiven = true, true
			words = words[:n-2]
		case strings.EqualFold(words[n-1].text, "LAST"):
			nullsGiven = true
			words = words[:n-2]
		}
	}
	if n := len(words); n >= 1 {
		switch {
		case strings.EqualFold(words[n-1].text, "DESC"):
			k.Desc = true
			words = words[:n-1]
		case strings.EqualFold(words[n-1].text, "ASC"):
			words = words[:n-1]
		}
	}
	for _, w := range words {
		if strings.EqualFold(w.text, "USING") {
			return OrderKey{}, ErrOrderUsing
		}
	}
	if !nullsGiven {
		k.NullsFirst = k.Desc
	}
	if len(words) == 0 {
		return k, nil
	}
	k.Expr = strings.TrimSpace(item[:words[len(words)-1].end])
	return k, nil
}

// SameExpr reports whether two SQL expressions are the same text but for
// whitespace between tokens and the case of unquoted words.
func SameExpr(a, b string) bool {
	wa, wb := itemWords(a), itemWords(b)
	if len(wa) != len(wb) {
		return false
	}
	for i := range wa {
		x, y := wa[i].text, wb[i].text
		if wa[i].quoted || wb[i].quoted {
			if x != y {
				return false
			}
		} else if !strings.EqualFold(x, y) {
			return false
		}
	}
	return true
}

// word is a top-level token of an item: a run of characters outside
// whitespace, with what is quoted or bracketed kept whole.
type word struct {
	text   string
	end    int // offset just past it in the item
	quoted bool
}

// itemWords splits s into top-level words; comments are dropped.
func itemWords(s string) []word {
	var ws []word
	start := -1
	quoted := false
	flush := func(end int) {
		if start >= 0 {
			ws = append(ws, word{text: s[start:end], end: end, quoted: quoted})
			start, quoted = -1, false
		}
	}
	for i := 0; i < len(s); {
		n, kind := skipToken(s, i)
		switch {
		case kind == tokComment:
			flush(i)
		case kind == tokSpace:
			flush(i)
		default:
			if start < 0 {
				start = i
			}
			if kind == tokQuoted || kind == tokGroup {
				quoted = true
			}
		}
		i = n
	}
	flush(len(s))
	return ws
}

// splitList splits s at its top-level commas.
func splitList(s string) []string {
	var items []string
	last := 0
	for i := 0; i < len(s); {
		n, kind := skipToken(s, i)
		if kind == tokComma {
			items = append(items, s[last:i])
			last = n
		}
		i = n
	}
	return append(items, s[last:])
}

type tokKind int

const (
	tokOther tokKind = iota
	tokSpace
	tokComment
	tokQuoted // '…', "…", E'…', $tag$…$tag$
	tokGroup  // (…) or […], nested
	tokComma
)

// skipToken returns the offset after the token at i and its kind. An
// unterminated quote, comment or group runs to the end of s: the server
// reports it, not this.
func skipToken(s string, i int) (int, tokKind) {
	c := s[i]
	switch {
	case c == ',':
		return i + 1, tokComma
	case c == '-' && strings.HasPrefix(s[i:], "--"):
		if j := strings.IndexAny(s[i:], "\n\r"); j >= 0 {
			return i + j + 1, tokComment
		}
		return len(s), tokComment
	case c == '/' && strings.HasPrefix(s[i:], "/*"):
		return skipBlockComment(s, i), tokComment
	case c == '\'' || c == '"':
		return skipQuote(s, i, c), tokQuoted
	case c == '$' && (i == 0 || !identCont(s[i-1])):
		if n, ok := skipDollar(s, i); ok {
			return n, tokQuoted
		}
	case c == '(' || c == '[':
		return skipGroup(s, i), tokGroup
	case c < 0x80 && unicode.IsSpace(rune(c)):
		return i + 1, tokSpace
	}
	return i + 1, tokOther
}

// skipQuote skips a quoted literal or identifier; a doubled quote stays
// inside it. E'…' strings' backslash escapes are honoured. Unclosed, it
// runs to the end of s.
func skipQuote(s string, i int, q byte) int {
	escapes := q == '\'' && i > 0 && (s[i-1] == 'E' || s[i-1] == 'e') && (i < 2 || !identCont(s[i-2]))
	if n := skipQuoted(s, i, q, escapes); n >= 0 {
		return n
	}
	return len(s)
}

// skipDollar skips a dollar-quoted string at i, if one starts there.
func skipDollar(s string, i int) (int, bool) {
	j := i + 1
	for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || j > i+1 && s[j] >= '0' && s[j] <= '9' || s[j] >= 0x80) {
		j++
	}
	if j >= len(s) || s[j] != '$' {
		return 0, false
	}
	tag := s[i : j+1]
	if k := strings.Index(s[j+1:], tag); k >= 0 {
		return j + 1 + k + len(tag), true
	}
	return len(s), true
}

// skipBlockComment skips a /* … */ comment, which nests; unclosed, it
// runs to the end of s.
func skipBlockComment(s string, i int) int {
	if n := skipComment(s, i); n >= 0 {
		return n
	}
	return len(s)
}

// skipGroup skips a parenthesised or bracketed group, nested, with what
// is quoted inside it.
func skipGroup(s string, i int) int {
	depth := 0
	for j := i; j < len(s); {
		switch s[j] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		case ',':
		default:
			n, _ := skipToken(s, j)
			if n > j+1 {
				j = n
				continue
			}
		}
		j++
	}
	return len(s)
}
