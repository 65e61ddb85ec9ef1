//go:build unix

package output

import (
	"os"

	"golang.org/x/sys/unix"
)

// newFileMode is the mode a shell redirection gives a new file: 0666 less
// the umask. The umask can only be read by setting it: it is set to 0077
// for that instant, so that a file another goroutine creates meanwhile is
// more private than meant, never less.
func newFileMode() os.FileMode {
	mask := unix.Umask(0o077)
	unix.Umask(mask)
	return 0o666 &^ os.FileMode(mask)
}

// writable reports whether this user may write the file at path, as
// access(2) with W_OK decides: root may write any file (on a file system
// mounted read-write), as with a shell redirection.
func writable(path string) error {
	return unix.Access(path, unix.W_OK)
}
