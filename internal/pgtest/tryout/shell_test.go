//go:build unix

package tryout_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest/tryout"
)

// TestShellJoin: a line ShellJoin writes gives a POSIX shell back the
// very arguments it was made of, for strings that need each kind of
// quoting.
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
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command("sh", "-c", `printf '%s\n' `+tryout.ShellJoin(args)).Output()
			if err != nil {
				t.Fatalf("sh -c printf … %s: %v", tryout.ShellJoin(args), err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			want := strings.Split(strings.Join(args, "\n"), "\n")
			if !slices.Equal(got, want) {
				t.Errorf("%s gave the shell %q, want %q", tryout.ShellJoin(args), got, want)
			}
		})
	}
}

// TestShellQuoteBare: what needs no quotes gets none, so that the lines
// read as a person would type them.
func TestShellQuoteBare(t *testing.T) {
	for _, s := range []string{"stream", "v_user", "bin/fraise", "postgres://u@127.0.0.1:5432/db", "--limit=3"} {
		if got := tryout.ShellQuote(s); got != s {
			t.Errorf("ShellQuote(%q) = %q, want it bare", s, got)
		}
	}
}
