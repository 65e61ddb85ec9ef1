//go:build unix

package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest/tryout"
)

// TestStepsQuoted: each command line the tour prints gives a POSIX shell
// back the very arguments the step runs (tryout's tests cover the quoting
// of every kind of string).
func TestStepsQuoted(t *testing.T) {
	for _, s := range steps("/tmp/dir with space") {
		for _, args := range [][]string{s.args, s.pipe} {
			if args == nil {
				continue
			}
			line := tryout.ShellJoin(args)
			out, err := exec.Command("sh", "-c", `printf '%s\n' `+line).Output()
			if err != nil {
				t.Fatalf("%s: sh -c printf … %s: %v", s.title, line, err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			if want := strings.Split(strings.Join(args, "\n"), "\n"); !slices.Equal(got, want) {
				t.Errorf("%s: %s gave the shell %q, want %q", s.title, line, got, want)
			}
		}
	}
}
