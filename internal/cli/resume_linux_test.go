package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/cli"
)

// TestResumeFileSystemFull: a file system that fills up (a small tmpfs)
// ends a resumable run with exit 6, keeping its sealed segments; once
// there is room (the tmpfs grown), the same command finishes with the
// bytes of an uninterrupted run. Needs root to mount; in CI it must run.
func TestResumeFileSystemFull(t *testing.T) {
	srv := resumeServer(t)
	clearPGEnv(t)
	cli.SetSegmentBounds(t, resumeSegment, 1<<40)
	for _, f := range []resumeFormat{resumeFormats[0], resumeFormats[3]} {
		t.Run(f.name, func(t *testing.T) {
			c := newResumeCase(t, srv, f)
			want := c.reference(t)
			dir := mountTmpfs(t, "256k")
			c.file = filepath.Join(dir, f.file)
			code, stderr := runInProcess(context.Background(), c.args(c.file))
			if code != 6 || !strings.Contains(stderr, "no space left on device") {
				t.Fatalf("run on a full file system: exit %d, want 6; stderr %q", code, stderr)
			}
			if readManifest(t, c.file).rows() == 0 {
				t.Fatal("nothing sealed before the file system filled")
			}
			if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=4m"); err != nil {
				t.Fatal(err)
			}
			c.finish(t, want, true)
		})
	}
}
