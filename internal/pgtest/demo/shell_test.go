//go:build unix

package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestShellJoin: what the demo prints as a command line gives a POSIX
// shell back the very arguments it runs, for every step of the tour and
// for strings that need each kind of quoting.
func TestShellJoin(t *testing.T) {
	cases := map[string][]string{
		"empty":           {""},
		"plain":           {"stream", "v_user", "--limit", "3", "a/b.c:d@e=f,g+h%"},
		"space":           {"a b", " lead", "trail "},
		"single quotes":   {"data->>'name' = 'x'", "'", "''"},
		"double quotes":   {`"\(.name)"`, `say "hi"`, `"`},
		"shell specials":  {"$HOME", "`id`", `back\slash`, "a!b", "*", "?", "[x]", "a;b", "a|b", "a&b", "(x)", "<in", ">out", "~", "#c"},
		"newline and tab": {"a\nb", "a\tb"},
		"unicode":         {"Ω", "naïve café"},
	}
	for i, s := range steps("/tmp/dir with space") {
		cases["step "+s.title] = s.args
		if s.pipe != nil {
			cases["pipe of step "+string(rune('1'+i))] = s.pipe
		}
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command("sh", "-c", `printf '%s\n' `+shellJoin(args)).Output()
			if err != nil {
				t.Fatalf("sh -c printf … %s: %v", shellJoin(args), err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			want := strings.Split(strings.Join(args, "\n"), "\n")
			if !slices.Equal(got, want) {
				t.Errorf("%s gave the shell %q, want %q", shellJoin(args), got, want)
			}
		})
	}
}
