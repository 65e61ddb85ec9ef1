package output_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/klauspost/compress/zstd"
)

// leftovers returns the names in dir other than want.
func leftovers(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, e := range ents {
		found := false
		for _, w := range want {
			found = found || e.Name() == w
		}
		if !found {
			extra = append(extra, e.Name())
		}
	}
	return extra
}

// TestFileCommitAndAbort: the name holds the new data only after Commit; an
// aborted file leaves the previous one untouched; neither leaves a
// temporary file behind.
func TestFileCommitAndAbort(t *testing.T) {
	for _, tc := range []struct {
		name     string
		previous string // "" for no previous file
		commit   bool
		want     string // the file's content at the end; "" for absent
	}{
		{"new file committed", "", true, "new\n"},
		{"new file aborted", "", false, ""},
		{"replacing, committed", "old\n", true, "new\n"},
		{"replacing, aborted", "old\n", false, "old\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "out.ndjson")
			if tc.previous != "" {
				if err := os.WriteFile(name, []byte(tc.previous), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			f, err := output.CreateFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if f.Temp() == "" || filepath.Dir(f.Temp()) != dir || !strings.HasSuffix(f.Temp(), ".fraise-tmp") {
				t.Fatalf("temporary file %q: want one beside the output, ending .fraise-tmp", f.Temp())
			}
			if _, err := f.Write([]byte("new\n")); err != nil {
				t.Fatal(err)
			}
			// Before the end, the name holds what it held.
			got, err := os.ReadFile(name)
			if tc.previous == "" && !errors.Is(err, os.ErrNotExist) || tc.previous != "" && string(got) != tc.previous {
				t.Fatalf("before the end: %q, %v; want the previous state", got, err)
			}
			if tc.commit {
				if err := f.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			f.Abort() // after Commit: nothing
			got, err = os.ReadFile(name)
			switch {
			case tc.want == "" && !errors.Is(err, os.ErrNotExist):
				t.Errorf("output %q, %v; want none", got, err)
			case tc.want != "" && string(got) != tc.want:
				t.Errorf("output %q, %v; want %q", got, err, tc.want)
			}
			if tc.previous != "" && tc.commit {
				fi, err := os.Stat(name)
				if err != nil || fi.Mode().Perm() != 0o640 {
					t.Errorf("replaced file's mode %v, %v; want the previous file's 0640", fi.Mode(), err)
				}
			}
			want := []string{}
			if tc.want != "" {
				want = append(want, "out.ndjson")
			}
			if extra := leftovers(t, dir, want...); len(extra) > 0 {
				t.Errorf("left in the directory: %v", extra)
			}
		})
	}
}

// TestFileErrors: a destination that cannot be written fails before any
// data, with a *WriteError that says what to do.
func TestFileErrors(t *testing.T) {
	// (A directory without write permission is tested through the CLI,
	// as an unprivileged user: root writes anywhere.)
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope", "out.ndjson")
	for _, tc := range []struct{ name, path, want string }{
		{"missing directory", missing, "cannot create a file in the directory of " + missing + ": no such file or directory; the directory must exist"},
		{"a directory", dir, "it is a directory"},
		// The directory exists (on Linux) but takes no new file.
		{"a directory without new files", "/proc/self/status", "cannot create the temporary file beside /proc/self/status: no such file or directory; -o writes a new file in the same directory and renames it onto the name, and this directory does not allow new files: write elsewhere (--output)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Dir(tc.path)); err != nil && tc.path != missing {
				t.Skipf("no %s here: %v", filepath.Dir(tc.path), err)
			}
			_, err := output.CreateFile(tc.path)
			var we *output.WriteError
			if !errors.As(err, &we) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CreateFile(%s) = %v; want a WriteError saying %q", tc.path, err, tc.want)
			}
		})
	}
}

// TestFileThroughSymlinkAndDevice: a symbolic link keeps pointing at the
// new file; a device is written in place, never renamed over.
func TestFileThroughSymlinkAndDevice(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.ndjson")
	link := filepath.Join(dir, "link.ndjson")
	if err := os.WriteFile(target, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.ndjson", link); err != nil {
		t.Fatal(err)
	}
	f, err := output.CreateFile(link)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v, %v", fi, err)
	}
	if got, _ := os.ReadFile(target); string(got) != "new\n" {
		t.Errorf("link target holds %q, want the new data", got)
	}

	f, err = output.CreateFile(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	if f.Temp() != "" {
		t.Errorf("writing %s through a temporary file %s", os.DevNull, f.Temp())
	}
	if _, err := f.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v, %v", os.DevNull, fi, err)
	}
}

// TestFileDiskFull: a write the file system refuses (ENOSPC, from
// /dev/full) is a WriteError that names the file and what to do.
func TestFileDiskFull(t *testing.T) {
	f, err := output.CreateFile("/dev/full")
	if err != nil {
		t.Fatalf("no /dev/full: %v", err)
	}
	defer f.Abort()
	_, err = f.Write([]byte("x\n"))
	var we *output.WriteError
	if !errors.As(err, &we) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "free some space") {
		t.Fatalf("write to /dev/full: %v; want a WriteError for ENOSPC with advice", err)
	}
}

// TestDestCompressionRoundTrip: .gz and .zst outputs decompress to exactly
// the lines written, through the asynchronous writer, with the compressed
// size counted.
func TestDestCompressionRoundTrip(t *testing.T) {
	var lines bytes.Buffer
	for i := range 20000 {
		lines.WriteString(`{"id": `)
		lines.WriteString(strings.Repeat("7", i%13+1))
		lines.WriteString(`, "name": "row ü \"q\" \\ x"}` + "\n")
	}
	for _, tc := range []struct {
		file   string
		c      output.Compression
		decode func(io.Reader) (io.Reader, error)
	}{
		{"out.ndjson.gz", output.Gzip, func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"out.ndjson.zst", output.Zstd, func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r) }},
		{"out.ndjson", output.None, func(r io.Reader) (io.Reader, error) { return r, nil }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if got := output.CompressionFor(tc.file); got != tc.c {
				t.Fatalf("CompressionFor(%s) = %v, want %v", tc.file, got, tc.c)
			}
			name := filepath.Join(t.TempDir(), tc.file)
			d, err := output.OpenDest(name, nil, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			w := output.NewAsyncNDJSON(context.Background(), d.Writer(), output.Options{})
			for _, l := range bytes.SplitAfter(lines.Bytes(), []byte("\n")) {
				if len(l) > 0 {
					if err := w.WriteValue(l[:len(l)-1]); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := d.Commit(); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(raw)) != d.Written() {
				t.Errorf("Written() = %d, the file has %d bytes", d.Written(), len(raw))
			}
			r, err := tc.decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, lines.Bytes()) {
				t.Fatalf("decompressed %d bytes, want the %d written", len(got), lines.Len())
			}
			if tc.c != output.None && len(raw) >= lines.Len()/3 {
				t.Errorf("compressed to %d of %d bytes: not compressed?", len(raw), lines.Len())
			}
		})
	}
}

// TestParseCompression: names and aliases, and a clear error.
func TestParseCompression(t *testing.T) {
	for in, want := range map[string]output.Compression{"gzip": output.Gzip, "GZ": output.Gzip, "zstd": output.Zstd, "zst": output.Zstd, "none": output.None} {
		if got, err := output.ParseCompression(in); err != nil || got != want {
			t.Errorf("ParseCompression(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := output.ParseCompression("bzip2"); err == nil || !strings.Contains(err.Error(), "gzip, zstd or none") {
		t.Errorf("ParseCompression(bzip2) = %v; want an error listing the choices", err)
	}
}

// TestCompressionNames: each format, as --compress lists it, reads back
// as itself; "" is none; a file name's suffix chooses in any case.
func TestCompressionNames(t *testing.T) {
	for _, c := range output.Compressions {
		if got, err := output.ParseCompression(c.String()); err != nil || got != c {
			t.Errorf("ParseCompression(%q) = %v, %v; want %v", c.String(), got, err, c)
		}
	}
	if got, err := output.ParseCompression(""); err != nil || got != output.None {
		t.Errorf(`ParseCompression("") = %v, %v; want none`, got, err)
	}
	for name, want := range map[string]output.Compression{
		"a.GZ": output.Gzip, "a.json.zst": output.Zstd, "a.gz.bak": output.None, "gz": output.None, "a.": output.None, "": output.None,
	} {
		if got := output.CompressionFor(name); got != want {
			t.Errorf("CompressionFor(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestFileThroughProcFd: /dev/stdout and /dev/fd/N name a pipe through
// links into /proc: written in place, never resolved into a directory of
// its own.
func TestFileThroughProcFd(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	name := "/dev/fd/" + strconv.Itoa(int(w.Fd()))
	f, err := output.CreateFile(name)
	if err != nil {
		t.Fatalf("CreateFile(%s): %v", name, err)
	}
	if f.Temp() != "" {
		t.Errorf("a pipe written through a temporary file %s", f.Temp())
	}
	go func() {
		_, _ = f.Write([]byte("{}\n"))
		_ = f.Commit()
		_ = w.Close()
	}()
	got, err := io.ReadAll(r)
	if err != nil || string(got) != "{}\n" {
		t.Errorf("read %q, %v; want the line", got, err)
	}
}

// partialWriter takes n bytes of a write, then fails with err.
type partialWriter struct {
	n   int
	err error
}

func (w partialWriter) Write(p []byte) (int, error) { return min(w.n, len(p)), w.err }

// TestDestStdoutErrors: a failed write to standard output says what
// failed and what to do, and whether the destination took part of the
// write (then its last line may be cut); EPIPE stays a normal end.
func TestDestStdoutErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    partialWriter
		want string
	}{
		{"size limit, part taken", partialWriter{3, syscall.EFBIG}, "cannot write to standard output: file too large; the file is larger than this system or file size limit (ulimit -f) allows: write elsewhere or compress it (.gz, .zst); the destination took only part of a write, so the output may end with a cut line (-o FILE never leaves one)"},
		{"disk full, nothing taken", partialWriter{0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.ENOSPC}}, "cannot write to standard output: no space left on device; free some space or write elsewhere (--output)"},
		{"other error", partialWriter{0, syscall.EIO}, "cannot write to standard output: input/output error; check where standard output goes"},
		{"reader gone", partialWriter{3, syscall.EPIPE}, "broken pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := output.OpenDest("", tc.w, output.None)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Writer().Write([]byte("{}\n{}\n"))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("write error %v; want %q", err, tc.want)
			}
			if tc.w.err == syscall.EPIPE && !output.IsBrokenPipe(err) {
				t.Errorf("IsBrokenPipe(%v) = %v", err, output.IsBrokenPipe(err))
			}
			if d.Written() != int64(tc.w.n) {
				t.Errorf("Written() = %d, want %d", d.Written(), tc.w.n)
			}
		})
	}
}
