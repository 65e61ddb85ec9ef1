package query_test

import (
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

// TestBuildNarrowing: fraise's narrowing replaces the column in the
// select list, under its own name, after its notes as comments, and the
// user's fragments stay where Locate finds them.
func TestBuildNarrowing(t *testing.T) {
	rel := query.Relation{Name: "v"}
	n := &query.Narrowing{Select: "f(\"data\")", Notes: []string{"only .a", "select(.b)"}}
	tests := []struct {
		name string
		spec query.Spec
		want string
	}{
		{"alone", query.Spec{Relation: rel, Column: "data", Limit: -1, Narrowing: n},
			"SELECT /* only .a */\n/* select(.b) */\nf(\"data\") AS \"fraise:narrowed\"\nFROM \"v\""},
		{"with --where, a range and ORDER BY", query.Spec{Relation: rel, Column: "data", Limit: -1, Where: []string{"a -- c"},
			Range: &query.Range{Key: "id", Lo: true, Param: 3}, OrderBy: "data", Narrowing: n},
			"SELECT /* only .a */\n/* select(.b) */\nf(\"data\") AS \"fraise:narrowed\"\nFROM \"v\"\nWHERE (\na -- c\n) AND (\n(\nid\n) >= $3\n)\nORDER BY\ndata\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := query.Build(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if st.SQL != tt.want {
				t.Errorf("SQL =\n%s\nwant\n%s", st.SQL, tt.want)
			}
			for _, f := range st.Fragments {
				if got := string([]rune(st.SQL)[f.Start : f.Start+len([]rune(f.Text))]); got != f.Text {
					t.Errorf("fragment %q recorded at %d, SQL has %q there", f.Text, f.Start, got)
				}
			}
		})
	}
}

// TestComment: a note becomes one comment that cannot end early, nest, or
// hold a control character, whatever it says.
func TestComment(t *testing.T) {
	for _, s := range []string{"plain", "a */ DROP TABLE x; /*", "/*/", "**//**", "x\ny\r\x1b[31m\x00z", "\u0085é"} {
		c := query.Comment(s)
		inner := strings.TrimSuffix(strings.TrimPrefix(c, "/* "), " */")
		if !strings.HasPrefix(c, "/* ") || !strings.HasSuffix(c, " */") || strings.Contains(inner, "*/") || strings.Contains(inner, "/*") {
			t.Errorf("Comment(%q) = %q: ends early or nests", s, c)
		}
		for _, r := range c {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Errorf("Comment(%q) = %q holds control character %U", s, c, r)
			}
		}
	}
}
