//go:build !unix

package wire

import "io/fs"

// fileOwner reports no owner on this system, so the private key's
// permission rule is not applied: Windows has no Unix mode bits (Go
// reports 0666 or 0444 for every file) and access is governed by ACLs,
// which libpq does not check either (it skips the test under WIN32).
func fileOwner(fs.FileInfo) (uint32, bool) { return 0, false }
