package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxTarball bounds a download: the largest build is about 60 MB.
const maxTarball = 512 << 20

// stampName is the file, in a major's directory, that records which pin
// was installed there: a directory whose stamp matches is not touched.
const stampName = ".installed"

// installer puts pinned builds under dir, one directory per major.
type installer struct {
	dir      string
	registry string
	client   *http.Client
	log      io.Writer
}

// install makes p's build ready in dir/<major> and returns its bin
// directory. An install already matching p is kept; anything else there is
// replaced, whole, only once the new build is extracted and verified.
func (in installer) install(ctx context.Context, p pin) (string, error) {
	dest := filepath.Join(in.dir, fmt.Sprint(p.Major))
	bin := filepath.Join(dest, "bin")
	if stamp, err := os.ReadFile(filepath.Join(dest, stampName)); err == nil && string(stamp) == stampOf(p) {
		return bin, nil
	}
	fmt.Fprintf(in.log, "pgservers: PostgreSQL %s (%s %s) into %s\n", p.Release(), p.Package(), p.Version, dest)
	data, err := in.download(ctx, p)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(in.dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(in.dir, ".new-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// Readable by all: the test harness runs the server as an unprivileged
	// user when it runs as root.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := extract(bytes.NewReader(data), tmp); err != nil {
		return "", fmt.Errorf("%s %s: %w", p.Package(), p.Version, err)
	}
	if err := hydrateSymlinks(tmp); err != nil {
		return "", fmt.Errorf("%s %s: %w", p.Package(), p.Version, err)
	}
	for _, name := range []string{"initdb", "postgres", "pg_ctl"} {
		if st, err := os.Stat(filepath.Join(tmp, "bin", name)); err != nil || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s %s holds no executable bin/%s", p.Package(), p.Version, name)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, stampName), []byte(stampOf(p)), 0o644); err != nil {
		return "", err
	}
	if err := os.RemoveAll(dest); err != nil {
		return "", err
	}
	return bin, os.Rename(tmp, dest)
}

func stampOf(p pin) string { return p.Package() + "@" + p.Version + " " + p.Integrity + "\n" }

// download fetches p's tarball and checks it against its integrity.
func (in installer) download(ctx context.Context, p pin) ([]byte, error) {
	url := p.TarballURL(in.registry)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w (the npm registry must be reachable; set -registry for a mirror)", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTarball+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", url, err)
	}
	if len(data) > maxTarball {
		return nil, fmt.Errorf("download %s: larger than %d MiB", url, maxTarball>>20)
	}
	want, _ := decodeIntegrity(p.Integrity)
	if got := sha512.Sum512(data); !bytes.Equal(got[:], want) {
		return nil, fmt.Errorf("download %s: sha512 %s does not match the pinned %s: not installed",
			url, base64.StdEncoding.EncodeToString(got[:]), p.Integrity)
	}
	return data, nil
}

// decodeIntegrity returns the digest of an npm "sha512-<base64>" integrity.
func decodeIntegrity(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, "sha512-")
	if !ok {
		return nil, fmt.Errorf("integrity %q: want sha512-<base64>", s)
	}
	d, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(d) != sha512.Size {
		return nil, fmt.Errorf("integrity %q is not a base64 sha512 digest", s)
	}
	return d, nil
}

// extract writes the package's native/ tree (bin, lib, share) into dest.
// Only regular files and directories are taken; a name that would leave
// dest is an error.
func extract(r io.Reader, dest string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, ok := strings.CutPrefix(h.Name, "package/native/")
		if !ok || rel == "" {
			continue
		}
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("tarball entry %q leaves the install directory", h.Name)
		}
		if err := writeEntry(tr, h, filepath.Join(dest, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
}

func writeEntry(tr *tar.Reader, h *tar.Header, target string) error {
	switch h.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(target, 0o755)
	case tar.TypeReg:
	default:
		return nil // links are made from pg-symlinks.json
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, os.FileMode(h.Mode)&0o755|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, tr); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hydrateSymlinks makes the library links the package lists in
// pg-symlinks.json (npm cannot ship links; the package's postinstall
// script makes them): each a relative link beside its file.
func hydrateSymlinks(dest string) error {
	data, err := os.ReadFile(filepath.Join(dest, "pg-symlinks.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var links []struct{ Source, Target string }
	if err := json.Unmarshal(data, &links); err != nil {
		return fmt.Errorf("pg-symlinks.json: %w", err)
	}
	for _, l := range links {
		src, ok1 := strings.CutPrefix(l.Source, "native/")
		dst, ok2 := strings.CutPrefix(l.Target, "native/")
		if !ok1 || !ok2 || !filepath.IsLocal(src) || !filepath.IsLocal(dst) || path.Dir(src) != path.Dir(dst) {
			return fmt.Errorf("pg-symlinks.json: link %q → %q is not within one directory of the install", l.Target, l.Source)
		}
		link := filepath.Join(dest, filepath.FromSlash(dst))
		if err := os.Symlink(path.Base(src), link); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return nil
}
