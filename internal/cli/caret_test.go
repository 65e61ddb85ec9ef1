package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/query"
)

// TestCaret: the line holding the offset, after the flag, with a caret
// under the character.
func TestCaret(t *testing.T) {
	for _, tc := range []struct {
		name, flag, text string
		off              int
		indent, want     string
	}{
		{"first character", "--where", "a = b", 0, "", "--where a = b\n        ^"},
		{"inside", "--where", "data->>'x' =! 'y'", 11, "  ", "  --where data->>'x' =! 'y'\n                     ^"},
		{"end of input", "--order-by", "a,", 2, "", "--order-by a,\n             ^"},
		{"past the end", "--order-by", "a,", 9, "", "--order-by a,\n             ^"},
		{"multibyte text before", "--where", "'naïve' = 1", 10, "", "--where 'naïve' = 1\n                  ^"},
		{"second line alone", "--order-by", "a,\nb c d", 5, "", "--order-by b c d\n             ^"},
		{"first line alone", "--where", "a =!\nb", 2, "", "--where a =!\n          ^"},
		{"carriage return dropped", "--where", "a =! 1\r\nb", 2, "", "--where a =! 1\n          ^"},
		{"tab kept", "--where", "\ta =!", 3, "", "--where \ta =!\n        \t  ^"},
		{"jq", "--jq", ".a | nosuch", 5, "  ", "  --jq .a | nosuch\n            ^"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := caret(tc.flag, tc.text, tc.off, tc.indent); got != tc.want {
				t.Errorf("caret =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestCaretUnderFragment: a server position found in a fragment is shown
// under the flag the fragment came from.
func TestCaretUnderFragment(t *testing.T) {
	st, err := query.Build(query.Spec{
		Relation: query.Relation{Name: "v"}, Column: "data", Limit: -1,
		Where:   []string{"data->>'naïve' = 'café'", "data->>'x' =! 'y'"},
		OrderBy: "a,\nb c d",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Server positions are 1-based characters.
	at := func(s string, after int) int { return len([]rune(st.SQL[:strings.Index(st.SQL, s)])) + 1 + after }
	for _, tc := range []struct {
		name     string
		position int
		want     string
	}{
		{"second --where", at("=!", 0), "  --where data->>'x' =! 'y'\n                     ^"},
		{"after multibyte text", at("'café'", 0),
			"  --where data->>'naïve' = 'café'\n  " + strings.Repeat(" ", len("--where ")+len([]rune("data->>'naïve' = "))) + "^"},
		{"second line of --order-by", at("b c d", 2), "  --order-by b c d\n               ^"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, off, ok := st.Locate(tc.position)
			if !ok {
				t.Fatalf("Locate(%d) found no fragment", tc.position)
			}
			if got := fragmentCaret(f, off); got != tc.want {
				t.Errorf("caret =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestPartFlags: every part of the statement that holds user SQL is shown
// as the flag it came from, in carets and in errors.
func TestPartFlags(t *testing.T) {
	for _, tc := range []struct {
		part query.Part
		flag string
	}{
		{query.PartWhere, "--where"},
		{query.PartOrderBy, "--order-by"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			if got := partFlag(tc.part); got != tc.flag {
				t.Errorf("partFlag(%v) = %q, want %q", tc.part, got, tc.flag)
			}
			fe := &query.FragmentError{Part: tc.part, Reason: "the SQL fragment is empty"}
			want := tc.flag + ": the SQL fragment is empty"
			for _, err := range []error{fe, &usageError{fe}, fmt.Errorf("%w", fe)} {
				if got := headline(err); got != want {
					t.Errorf("headline(%v) = %q, want %q", err, got, want)
				}
			}
			if got := headline(fmt.Errorf("reading the query: %w", fe)); got != "reading the query: "+want {
				t.Errorf("headline drops what wraps the error: %q", got)
			}
			if !errors.Is(&usageError{fe}, fe) {
				t.Error("a usage error does not wrap the fragment's")
			}
		})
	}
	if len(partFlags) != 2 {
		t.Errorf("partFlags names %d parts; this test knows 2: add the new one here", len(partFlags))
	}
}
