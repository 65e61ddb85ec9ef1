//go:build !unix

package pgtest_test

import "testing"

// owner ends the test: files have no owning uid on this system. (pgtest's
// clusters need Unix sockets, so no test gets this far here.)
func owner(t *testing.T, _ string) uint32 {
	t.Helper()
	t.Fatal("file owners are uids only on Unix systems")
	return 0
}
