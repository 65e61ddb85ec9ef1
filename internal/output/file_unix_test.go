//go:build unix

package output_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/output"
)

// TestFileModes: the temporary file is private (0600) while it is
// written, whatever the final file's mode will be, so that other users
// never read rows meant for a private file; Commit gives the file the
// mode a shell redirection would: the replaced file's, or 0666 less the
// umask for a new one.
func TestFileModes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		umask    int
		previous os.FileMode // 0 for no previous file
		want     os.FileMode
	}{
		{"new file, umask 022", 0o022, 0, 0o644},
		{"new file, umask 027", 0o027, 0, 0o640},
		{"new file, umask 077", 0o077, 0, 0o600},
		{"replacing 0600", 0o022, 0o600, 0o600},
		{"replacing 0640", 0o022, 0o640, 0o640},
		{"replacing 0644 under umask 077", 0o077, 0o644, 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := syscall.Umask(tc.umask)
			defer syscall.Umask(old)
			name := filepath.Join(t.TempDir(), "out.ndjson")
			if tc.previous != 0 {
				if err := os.WriteFile(name, []byte("old\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(name, tc.previous); err != nil {
					t.Fatal(err)
				}
			}
			f, err := output.CreateFile(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Abort()
			if _, err := f.Write([]byte("new\n")); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(f.Temp())
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("temporary file's mode while written: %04o, want 0600", got)
			}
			if err := f.Commit(); err != nil {
				t.Fatal(err)
			}
			fi, err = os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tc.want {
				t.Errorf("committed file's mode: %04o, want %04o", got, tc.want)
			}
		})
	}
}

// TestFileRootReplacesReadOnly: root may replace a file nobody may write,
// as a shell redirection run by root does (access(2) says so).
func TestFileRootReplacesReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	name := filepath.Join(t.TempDir(), "out.ndjson")
	if err := os.WriteFile(name, []byte("old\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	f, err := output.CreateFile(name)
	if err != nil {
		t.Fatalf("CreateFile as root on a 0444 file: %v", err)
	}
	if _, err := f.Write([]byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(name); string(got) != "new\n" {
		t.Errorf("file holds %q, want the new data", got)
	}
}
