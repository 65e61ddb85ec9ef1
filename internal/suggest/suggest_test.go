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

// TestClose: the edits between a word and a candidate, case aside, and
// whether they are few enough for the word's length.
func TestClose(t *testing.T) {
	for _, tc := range []struct {
		word, candidate string
		edits           int
		ok              bool
	}{
		{"v_usr", "v_user", 1, true},
		{"myview", "MyView", 0, true},
		{"usres", "users", 1, true},
		{"v_usrs", "v_user", 2, true},
		{"v_xyzzy", "v_user", 5, false},
		{"tv", "v", 1, true},
		{"tvo", "v_o", 2, false},
		{"", "", 0, false},
	} {
		edits, ok := suggest.Close(tc.word, tc.candidate)
		if edits != tc.edits || ok != tc.ok {
			t.Errorf("Close(%q, %q) = %d, %t; want %d, %t", tc.word, tc.candidate, edits, ok, tc.edits, tc.ok)
		}
	}
}
