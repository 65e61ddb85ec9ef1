//go:build unix

package wire

import (
	"io"
	"syscall"
)

// nowaitConn returns the descriptor of r for reads that must not wait, or
// nil when r has none (a TLS connection, a test's pipe).
func nowaitConn(r io.Reader) syscall.RawConn {
	sc, ok := r.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// readNow is read(2) on a descriptor the net package keeps non-blocking:
// EAGAIN when the socket is empty, instead of waiting.
func readNow(fd uintptr, p []byte) (int, error) {
	return syscall.Read(int(fd), p)
}
