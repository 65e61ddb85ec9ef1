//go:build !unix

package pgconf

// openNonBlock is not needed here: this system has no FIFOs in its file
// system.
const openNonBlock = 0
