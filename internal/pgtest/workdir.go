// The cluster's directory: made for the unprivileged user the server
// runs as when the tests run as root, or kept between runs (Options.Dir).

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// mkdirOwned creates dir with perm, owned by the cluster's owner.
func (s *Server) mkdirOwned(dir string, perm os.FileMode) error {
	if err := os.Mkdir(dir, perm); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return chownTo(dir, s.cred)
}

// serverCredential returns the unprivileged user to run the server as when
// the process is root, or nil otherwise.
func serverCredential() (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgtest: running as root, but neither user postgres nor nobody exists to run the server")
}

// makeWorkDir creates the cluster's directory, readable by the cluster's
// owner, in a place whose socket path PostgreSQL accepts.
func makeWorkDir(cred *credential) (string, error) {
	base := os.TempDir()
	longest := filepath.Join(base, "fraise-pgtest-4294967295", "sock", ".s.PGSQL.65535")
	if len(longest) > sockPathMax || (cred != nil && !traversable(base)) {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "fraise-pgtest-*")
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", errors.Join(fmt.Errorf("pgtest: %w", err), os.RemoveAll(dir))
	}
	if err := chownTo(dir, cred); err != nil {
		return "", errors.Join(err, os.RemoveAll(dir))
	}
	return dir, nil
}

// keptDir creates dir (and its parents) when missing, owned by the
// cluster's owner, and checks that its socket path is short enough.
func keptDir(dir string, cred *credential) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	if n := len(filepath.Join(dir, "sock", ".s.PGSQL.65535")); n > sockPathMax {
		return "", fmt.Errorf("pgtest: %s is too long a directory for the server's socket (%d bytes, at most %d); choose a shorter one", dir, n, sockPathMax)
	}
	if cred != nil && !traversable(filepath.Dir(dir)) {
		return "", fmt.Errorf("pgtest: the server's user cannot reach %s: every parent directory must be searchable by others", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return dir, chownTo(dir, cred)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// traversable reports whether every directory from / to dir may be
// searched by any user.
func traversable(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// chownTo gives path to cred's user; a nil cred leaves it alone.
func chownTo(path string, cred *credential) error {
	if cred == nil {
		return nil
	}
	if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}
