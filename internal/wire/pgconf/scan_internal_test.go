package pgconf

import (
	"strings"
	"testing"
)

// TestConninfoValue: a key/value string's value, read from its start:
// quoted or up to whitespace, backslash escapes in both, and where the
// reading stops.
func TestConninfoValue(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   string
		quoted bool
		end    int
		err    string
	}{
		{in: "abc def", want: "abc", end: 3},
		{in: "", want: "", end: 0},
		{in: `a\ b c`, want: "a b", end: 4},
		{in: `x\`, want: "x", end: 2},
		{in: "'a b' c", want: "a b", quoted: true, end: 5},
		{in: `'it\'s'x`, want: "it's", quoted: true, end: 7},
		{in: "''", want: "", quoted: true, end: 2},
		{in: "'open", err: "unterminated quoted string"},
		{in: `'open\'`, err: "unterminated quoted string"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			sc := conninfoScanner{s: tc.in}
			got, quoted, err := sc.value()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want || quoted != tc.quoted || sc.i != tc.end {
				t.Errorf("value %q, quoted %v, end %d, error %v; want %q, %v, %d", got, quoted, sc.i, err, tc.want, tc.quoted, tc.end)
			}
		})
	}
}

// TestURIHost: one netloc's host, a name or an IPv6 address in brackets,
// and where it ends.
func TestURIHost(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		end  int
		err  string
	}{
		{in: "h1:5/db", want: "h1", end: 2},
		{in: "h1,h2", want: "h1", end: 2},
		{in: "/db", want: "", end: 0},
		{in: "[::1]:5", want: "::1", end: 5},
		{in: "[::1]", want: "::1", end: 5},
		{in: "[::1", err: `matching "]" in IPv6 host address`},
		{in: "[]", err: "IPv6 host address may not be empty"},
		{in: "[::1]x", err: `unexpected character "x" at position 6 in URI`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, end, err := uriHost(tc.in, 0)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want || end != tc.end {
				t.Errorf("host %q, end %d, error %v; want %q, %d", got, end, err, tc.want, tc.end)
			}
		})
	}
}
