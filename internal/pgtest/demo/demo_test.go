//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// demoTimeout bounds a whole demo run in a test.
const demoTimeout = 3 * time.Minute

// TestDemo runs the demo with a fraise binary built for the test: it exits
// 0, and every step's command line appears in order, each followed by a
// sign of its output.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fraise and runs the demo")
	}
	pgtest.RequireBinaries(t)
	fraise := buildFraise(t)
	out, code := runDemo(t, "-fraise", fraise)
	if code != 0 {
		t.Fatalf("the demo exited %d, want 0; it printed:\n%s", code, out)
	}
	// Each command line is printed whole; each is followed by something
	// of its output.
	want := []string{
		"$ export FRAISE_DSN=postgres://" + pgtest.RoleTrust + "@127.0.0.1:",
		"$ fraise views",
		"public        v_user ",
		"$ fraise ping",
		"user:           " + pgtest.RoleTrust,
		`$ fraise stream v_user --where "data->>'active' = 'true'" --where "(data->>'age')::int >= 30" --order-by "data->>'name' DESC" --limit 3`,
		`{"id": 20, `,
		`$ fraise stream v_user --limit 3 --jq '"\(.name) <\(.email)>"' -r`,
		"user-01 <user-01@example.com>",
		"$ fraise stream v_user -o ",
		`"rows_written":20,`,
		"# users.ndjson.zst: ",
		"$ fraise stream v_seq --stats | head -n 1",
		`{"id": 1, `,
		"# head exited 0 after one line",
		"demo: every step passed; PostgreSQL stopped and its files removed",
	}
	assertInOrder(t, out, want)
	if !strings.Contains(out, "users.ndjson.zst --stats\n") {
		t.Errorf("the export's command line does not end in users.ndjson.zst --stats:\n%s", out)
	}
	for _, role := range []string{pgtest.RoleSCRAM, pgtest.RoleMD5, pgtest.RolePassword} {
		if pw := pgtest.Password(role); strings.Contains(out, pw) {
			t.Errorf("the demo printed the password of %s:\n%s", role, out)
		}
	}
}

// TestDemoFailingStep: a step whose fraise fails ends the demo with exit
// 1, naming the step, and no later step runs.
func TestDemoFailingStep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fraise and runs the demo")
	}
	pgtest.RequireBinaries(t)
	fraise := buildFraise(t)
	// fraise, except that ping fails with the exit code of a connection
	// failure.
	wrapper := filepath.Join(t.TempDir(), "fraise")
	script := fmt.Sprintf("#!/bin/sh\n[ \"$1\" = ping ] && { echo 'fraise: ping refused by the test' >&2; exit 3; }\nexec '%s' \"$@\"\n", fraise)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, code := runDemo(t, "-fraise", wrapper)
	if code != 1 {
		t.Fatalf("the demo exited %d, want 1; it printed:\n%s", code, out)
	}
	assertInOrder(t, out, []string{
		"$ fraise views",
		"$ fraise ping",
		"fraise: ping refused by the test",
		"demo: PostgreSQL stopped and its files removed",
		"demo: step 2 of 6 (the server, and how fraise reached it) failed: fraise ping: fraise ended: exit status 3",
	})
	if strings.Contains(out, "$ fraise stream") {
		t.Errorf("steps after the failing one ran:\n%s", out)
	}
}

// TestDemoMissingBinary: without the fraise binary the demo says how to
// build it and exits 2, before starting a server.
func TestDemoMissingBinary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "bin", "fraise")
	out, code := runDemo(t, "-fraise", missing)
	if code != 2 || !strings.Contains(out, "does not exist: build it with make build") || strings.Contains(out, "starting") {
		t.Errorf("the demo exited %d, want 2 with a hint to build fraise, before starting a server; it printed:\n%s", code, out)
	}
}

// runDemo runs the demo with args, its standard output and error into one
// buffer, and returns that and its exit code.
func runDemo(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), demoTimeout)
	defer cancel()
	var out bytes.Buffer
	code := run(ctx, args, &out, &out)
	return out.String(), code
}

// assertInOrder checks that each of want is part of a line of out, each
// in a line after the previous one's.
func assertInOrder(t *testing.T, out string, want []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		for i < len(lines) && !strings.Contains(lines[i], w) {
			i++
		}
		if i == len(lines) {
			t.Errorf("the demo's output lacks %q (in that order):\n%s", w, out)
			return
		}
		i++
	}
}

// buildFraise builds fraise into a temporary directory and returns its
// path.
func buildFraise(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fraise")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/fraiseql/fraise/cmd/fraise")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
