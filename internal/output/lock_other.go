//go:build !unix

package output

import "os"

// lockHeldOpen: there is no lock here; the file is not kept open (it
// could not be removed with the directory on Windows).
const lockHeldOpen = false

// lockFile does not lock where there is no flock: two runs of one
// resumable output at once are not refused there.
func lockFile(*os.File) (bool, error) { return true, nil }
