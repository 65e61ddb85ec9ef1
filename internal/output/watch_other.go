//go:build !unix

package output

import "os"

// WatchReader does nothing on this system: a departed reader is noticed
// at the first write, by its error.
func WatchReader(*os.File, func()) (stop func()) { return func() {} }
