package suggest_test

import (
	"testing"

	"github.com/fraiseql/fraise/internal/suggest"
)

// TestNearest: a typo, a swap, a missing or extra letter, a unique prefix
// find their name; a word far from every name, or the name itself, finds
// none.
func TestNearest(t *testing.T) {
	names := []string{"stream", "views", "ping", "version", "where", "order-by", "limit", "dbname", "host", "hostaddr"}
	for _, tc := range []struct{ word, want string }{
		{"strem", "stream"},
		{"stream", ""},
		{"wher", "where"},
		{"lmit", "limit"},
		{"limti", "limit"},
		{"dbnme", "dbname"},
		{"order-b", "order-by"},
		{"ordr-by", "order-by"},
		{"hots", "host"},
		{"vers", "version"},
		{"xyzzy", ""},
		{"", ""},
		{"pig", "ping"},
	} {
		if got := suggest.Nearest(tc.word, names); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}
