//go:build unix

package pgconf_test

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// TestReadFile: only a regular file within the cap is read; anything else
// is refused at once — a FIFO without waiting for a writer, /dev/zero
// without reading — with a *FileError naming the file, what it is, the
// setting and the cap.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	link := filepath.Join(dir, "link")
	if err := os.Symlink("regular", link); err != nil {
		t.Fatal(err)
	}
	use := pgconf.FileUse{What: "root certificate file", Setting: "sslrootcert", Limit: 10}
	for _, tc := range []struct {
		name  string
		path  string
		limit int64  // 0: use.Limit
		want  string // the start of the content, or the error message
		is    error  // the error's cause; nil for success
	}{
		{"regular file", regular, 0, "0123456789", nil},
		{"through a symbolic link", link, 0, "0123456789", nil},
		{"a size 0 file of /proc, read to the end", "/proc/self/status", 1 << 20, "Name:\t", nil},
		{"over the cap", regular, 9, `root certificate file "` + regular + `" is larger than 9 bytes, the most fraise reads for such a file; check sslrootcert`, pgconf.ErrTooLarge},
		{"over the cap, size unknown", "/proc/self/status", 1024, `root certificate file "/proc/self/status" is larger than 1 KiB, the most fraise reads for such a file; check sslrootcert`, pgconf.ErrTooLarge},
		{"/dev/zero", "/dev/zero", 0, `root certificate file "/dev/zero" is not a regular file (it is a character device), and fraise reads only regular files; check sslrootcert`, pgconf.ErrNotRegular},
		{"FIFO", fifo, 0, `root certificate file "` + fifo + `" is not a regular file (it is a FIFO), and fraise reads only regular files; check sslrootcert`, pgconf.ErrNotRegular},
		{"directory", dir, 0, `root certificate file "` + dir + `" is not a regular file (it is a directory), and fraise reads only regular files; check sslrootcert`, pgconf.ErrNotRegular},
		{"socket", sock, 0, `root certificate file "` + sock + `" is not a regular file (it is a socket), and fraise reads only regular files; check sslrootcert`, pgconf.ErrNotRegular},
		{"missing", filepath.Join(dir, "nope"), 0, `could not read root certificate file "` + filepath.Join(dir, "nope") + `": no such file or directory; check sslrootcert`, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); err != nil && tc.is != fs.ErrNotExist {
				t.Skipf("no %s here: %v", tc.path, err)
			}
			u := use
			if tc.limit != 0 {
				u.Limit = tc.limit
			}
			data, fi, err := pgconf.ReadFile(tc.path, u)
			if tc.is == nil {
				if err != nil || !strings.HasPrefix(string(data), tc.want) || fi == nil || !fi.Mode().IsRegular() {
					t.Fatalf("ReadFile = %q, %v, %v; want %q… and the file's information", data, fi, err, tc.want)
				}
				return
			}
			var fe *pgconf.FileError
			if !errors.As(err, &fe) || !errors.Is(err, tc.is) || err.Error() != tc.want {
				t.Fatalf("ReadFile error = %v; want a *FileError (%v) saying %q", err, tc.is, tc.want)
			}
			if data != nil || fi != nil {
				t.Errorf("ReadFile returned %d bytes and %v with its error", len(data), fi)
			}
		})
	}
}

// TestReadFileCapText: the cap is given in the unit it was chosen in.
func TestReadFileCapText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 2<<20+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := pgconf.ReadFile(path, pgconf.FileUse{What: "config file", Setting: "--config", Limit: pgconf.MaxSettingsFileSize})
	if want := "is larger than 1 MiB"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v; want it to say %q", err, want)
	}
}
