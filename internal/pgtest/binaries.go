package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrNoPostgres is wrapped by the error Start returns when no PostgreSQL
// server binaries (initdb and postgres) can be found.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL server binaries (initdb, postgres) not found")

// installHint tells a developer how to make the server binaries available.
const installHint = "install the PostgreSQL server (Debian/Ubuntu: apt-get install postgresql; " +
	"or set PG_BINDIR to the directory holding initdb and postgres)"

// debianBinGlob matches the per-version binary directories of Debian's
// postgresql-common layout.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// finder locates the server binaries. Its fields are the outside world it
// consults, so tests can replace them.
type finder struct {
	getenv       func(string) string
	lookPath     func(string) (string, error)
	output       func(name string, args ...string) (string, error)
	glob         func(string) ([]string, error)
	evalSymlinks func(string) (string, error)
}

// systemFinder returns a finder that consults the real environment.
func systemFinder() finder {
	return finder{
		getenv:   os.Getenv,
		lookPath: exec.LookPath,
		output: func(name string, args ...string) (string, error) {
			out, err := exec.Command(name, args...).Output()
			return string(out), err
		},
		glob:         filepath.Glob,
		evalSymlinks: filepath.EvalSymlinks,
	}
}

// binDir returns the directory holding initdb and postgres. It tries, in
// order: $PG_BINDIR (authoritative when set), `pg_config --bindir`, the
// directory of initdb found on PATH (after resolving symlinks) and the
// highest-numbered /usr/lib/postgresql/*/bin.
func (f finder) binDir() (string, error) {
	if dir := f.getenv("PG_BINDIR"); dir != "" {
		if isServerDir(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("%w: PG_BINDIR=%q does not hold initdb and postgres; %s",
			ErrNoPostgres, dir, installHint)
	}
	if pgConfig, err := f.lookPath("pg_config"); err == nil {
		if out, err := f.output(pgConfig, "--bindir"); err == nil {
			if dir := strings.TrimSpace(out); dir != "" && isServerDir(dir) {
				return dir, nil
			}
		}
	}
	if initdb, err := f.lookPath("initdb"); err == nil {
		if resolved, err := f.evalSymlinks(initdb); err == nil {
			if dir := filepath.Dir(resolved); isServerDir(dir) {
				return dir, nil
			}
		}
	}
	for _, dir := range f.debianDirs() {
		if isServerDir(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w; %s", ErrNoPostgres, installHint)
}

// debianDirs returns the directories debianBinGlob matches, the highest
// version first.
func (f finder) debianDirs() []string {
	dirs, err := f.glob(debianBinGlob)
	if err != nil {
		return nil
	}
	slices.SortStableFunc(dirs, func(a, b string) int {
		return compareVersions(versionOf(b), versionOf(a)) // highest first
	})
	return dirs
}

// psqlPath returns psql from binDir, else from PATH. Debian's psql on
// PATH is pg_wrapper, which is no plain client: when its command line
// names no host (a conninfo with hostaddr only, say) it points PGHOST at
// a local cluster's socket directory, and it sets PGSYSCONFDIR. In its
// place psqlPath returns the newest client of Debian's layout
// (/usr/lib/postgresql/*/bin/psql), which a server directory without a
// psql of its own (PG_BINDIR at a build of the server alone) needs.
func (f finder) psqlPath(binDir string) (string, error) {
	if p := filepath.Join(binDir, "psql"); isExecutable(p) {
		return p, nil
	}
	p, err := f.lookPath("psql")
	if err != nil {
		return "", fmt.Errorf("%w: psql is neither in %s nor on PATH; %s", ErrNoPostgres, binDir, installHint)
	}
	if resolved, err := f.evalSymlinks(p); err == nil && filepath.Base(resolved) == "pg_wrapper" {
		for _, dir := range f.debianDirs() {
			if client := filepath.Join(dir, "psql"); isExecutable(client) {
				return client, nil
			}
		}
	}
	return p, nil
}

// isServerDir reports whether dir holds executable initdb and postgres.
func isServerDir(dir string) bool {
	return isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres"))
}

// isExecutable reports whether path is a regular file with an execute bit.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// versionOf extracts the numeric components of the version directory in a
// path such as /usr/lib/postgresql/9.6/bin; it returns nil when the name is
// not a version.
func versionOf(binDir string) []int {
	name := filepath.Base(filepath.Dir(binDir))
	var v []int
	for part := range strings.SplitSeq(name, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil
		}
		v = append(v, n)
	}
	return v
}

// compareVersions orders versions numerically, component by component; a
// missing component counts as lower.
func compareVersions(a, b []int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}
