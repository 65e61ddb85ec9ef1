package query_test

import (
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

// TestMaxPlaceholder: placeholders are counted where the server reads
// them, not inside literals, quoted identifiers, comments or dollar
// quotes.
func TestMaxPlaceholder(t *testing.T) {
	for s, want := range map[string]int{
		"a = 1":                          0,
		"a = $1":                         1,
		"a = $2 AND b = $10":             10,
		"f($3)":                          3,
		"a = '$4'":                       0,
		`"$5" = 1`:                       0,
		"a = 1 -- $6\n":                  0,
		"a = 1 /* $7 /* $8 */ */ AND $2": 2,
		"a = $tag$ $9 $tag$":             0,
		"a = E'\\' $9'":                  0,
		"$":                              0,
		"x$1":                            1,
	} {
		if got := query.MaxPlaceholder(s); got != want {
			t.Errorf("MaxPlaceholder(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestHasOrdinal: an ORDER BY item that is a position names a column of
// the select list.
func TestHasOrdinal(t *testing.T) {
	for s, want := range map[string]bool{
		"1":                   true,
		"id, 2 DESC":          true,
		"id":                  false,
		"data->>'1'":          false,
		"(1)":                 false,
		"1 + id":              true,
		"\"1\"":               false,
		"f(1), id NULLS LAST": false,
	} {
		if got := query.HasOrdinal(s); got != want {
			t.Errorf("HasOrdinal(%q) = %v, want %v", s, got, want)
		}
	}
}
