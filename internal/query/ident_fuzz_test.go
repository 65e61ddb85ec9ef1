package query_test

import (
	"errors"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

// FuzzParseColumn: --column parses to one name that reads back the same
// from its formatted form, or fails with an *IdentError naming --column;
// a relation's parts behave the same.
func FuzzParseColumn(f *testing.F) {
	for _, s := range []string{"data", `"Doc"`, `"a""b"`, "a.b", `"x`, "", "é", `"a.b"`, " data ", "1a", `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		col, err := query.ParseColumn(s)
		var ie *query.IdentError
		if err != nil {
			if !errors.As(err, &ie) || ie.What != "--column" || ie.Input != s {
				t.Fatalf("ParseColumn(%q): %#v", s, err)
			}
		} else if back, err := query.ParseColumn(query.FormatIdent(col)); err != nil || back != col {
			t.Fatalf("ParseColumn(%q) = %q, which formats as %s and reads back as %q, %v", s, col, query.FormatIdent(col), back, err)
		}
		rel, err := query.ParseRelation(s)
		if err != nil && (!errors.As(err, &ie) || ie.What != "relation" || ie.Input != s) {
			t.Fatalf("ParseRelation(%q): %#v", s, err)
		}
		if err == nil && rel.Name == "" {
			t.Fatalf("ParseRelation(%q) = %+v: no name", s, rel)
		}
	})
}
