//go:build unix

package output

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// lockHeldOpen: the lock lasts while its file is open.
const lockHeldOpen = true

// lockFile takes f's exclusive lock without waiting: held, false. A file
// system without flock (some network ones) locks nothing: held.
func lockFile(f *os.File) (bool, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	switch {
	case errors.Is(err, unix.EWOULDBLOCK):
		return false, nil
	case errors.Is(err, unix.ENOLCK), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return true, nil
	}
	return err == nil, err
}
