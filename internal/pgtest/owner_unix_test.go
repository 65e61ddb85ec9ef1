//go:build unix

package pgtest_test

import (
	"os"
	"syscall"
	"testing"
)

// owner returns the uid owning path.
func owner(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}
