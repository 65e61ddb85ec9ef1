//go:build unix

package wire

import (
	"io/fs"
	"syscall"
)

// fileOwner returns the uid owning the file fi describes, for the private
// key's permission rule.
func fileOwner(fi fs.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
