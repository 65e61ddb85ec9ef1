package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestVersionInjected: version, commit and date set at link time (as
// make build and .goreleaser.yaml set them) are what fraise version prints.
func TestVersionInjected(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fraise")
	}
	bin := filepath.Join(t.TempDir(), "fraise")
	const pkg = "github.com/fraiseql/fraise/internal/cli"
	build := exec.Command("go", "build", "-trimpath", "-o", bin,
		"-ldflags", "-X "+pkg+".version=9.8.7 -X "+pkg+".commit=abc123 -X "+pkg+".date=2026-12-01T00:00:00Z",
		"github.com/fraiseql/fraise/cmd/fraise")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "fraise 9.8.7\ncommit: abc123\nbuilt: 2026-12-01T00:00:00Z\ngo: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if string(out) != want {
		t.Errorf("fraise version printed %q, want %q", out, want)
	}
}
