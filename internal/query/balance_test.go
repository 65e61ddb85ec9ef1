package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

// TestFragmentsStayInside: a fragment whose parentheses, quotes, dollar
// quotes or block comments would reach past the parentheses fraise puts
// around it is refused, the offset of the culprit given; what is quoted
// or commented does not count, and what is balanced passes.
func TestFragmentsStayInside(t *testing.T) {
	for _, tc := range []struct {
		frag   string
		offset int // -1: accepted
		reason string
	}{
		{"true) OR (true", 4, "closes no '('"},
		{"a = 1)", 5, "closes no '('"},
		{"(a = 1", 0, "never closed"},
		{"f(x, (y)", 1, "never closed"},
		{"x = 'a", 4, "string literal is never closed"},
		{`"x = 1`, 0, "quoted identifier is never closed"},
		{"x = $q$ a", 4, "dollar quote $q$ is never closed"},
		{"x = $$", 4, "dollar quote $$ is never closed"},
		{"true /* a", 5, "block comment is never closed"},
		{"true /* a /* b */", 5, "block comment is never closed"},
		{"x = E'a\\'", 5, "string literal is never closed"},
		{"(a) AND (b)", -1, ""},
		{"x = ')' AND y = '('", -1, ""},
		{`"a)b" = 1`, -1, ""},
		{"x = $q$ ) $q$", -1, ""},
		{"x = $1 AND y = $2", -1, ""},
		{"true -- )", -1, ""},
		{"true /* ( /* ) */ */", -1, ""},
		{"x = E'\\')'", -1, ""},
		{"x = 'it''s )'", -1, ""},
		{"arr[1] = (2)", -1, ""},
		// What a review found: names holding $, a quote after a name, a
		// comment ended by \r, a comment at the end hiding an open '(',
		// and a string the setting standard_conforming_strings reads
		// two ways.
		{"EXISTS (SELECT 1 x$q$)) UNION ALL SELECT secret FROM s WHERE ((SELECT true y$q$)", 22, "closes no '('"},
		{"name'\\' IS NOT NULL) UNION ALL SELECT 1 WHERE (true --'", 4, "standard_conforming_strings"},
		{"name'x' IS NOT NULL) UNION ALL SELECT 1 WHERE (true --'", 19, "closes no '('"},
		{"true --\r) UNION ALL SELECT 1 WHERE (true", 8, "closes no '('"},
		{"(a = 1 -- c", 0, "never closed"},
		{"'\\' = ' ) UNION ALL SELECT 1 WHERE (true --'", 0, "standard_conforming_strings"},
		{"a$b$c = 1", -1, ""},
		{"name = E'C:\\\\'", -1, ""},
	} {
		_, err := query.Build(query.Spec{Relation: query.Relation{Name: "v"}, Column: "data", Where: []string{tc.frag}, Limit: -1})
		var fe *query.FragmentError
		switch {
		case tc.offset < 0 && err != nil:
			t.Errorf("%q refused: %v", tc.frag, err)
		case tc.offset >= 0 && (!errors.As(err, &fe) || fe.Offset != tc.offset || fe.Text != tc.frag || !strings.Contains(fe.Reason, tc.reason)):
			t.Errorf("%q: %v (offset %v); want refused at %d saying %q", tc.frag, err, fe, tc.offset, tc.reason)
		}
	}
	if _, err := query.Build(query.Spec{Relation: query.Relation{Name: "v"}, Column: "data", OrderBy: "(a", Limit: -1}); err == nil {
		t.Error("an --order-by with an open '(' passed")
	}
}
