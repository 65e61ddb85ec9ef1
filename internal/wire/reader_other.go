//go:build !unix

package wire

import (
	"errors"
	"io"
	"syscall"
)

// nowaitConn returns nil on this system: every read is one that may wait.
//
// On Windows the net package's sockets are overlapped handles serviced by
// an I/O completion port, and a plain ReadFile on them is not a read that
// returns at once when nothing is there. So fillNow only reports what is
// already buffered, as it does for TLS connections everywhere: rows are
// written out in smaller batches, nothing else changes.
func nowaitConn(io.Reader) syscall.RawConn { return nil }

// readNow is never called, as nowaitConn gives no descriptor.
func readNow(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }
