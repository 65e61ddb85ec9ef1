//go:build unix

package wire

import (
	"net"
	"syscall"
)

// unsolicited reports whether bytes are already waiting on nc, before we
// have said anything after the server's 'S': they cannot be part of a TLS
// handshake the server has not seen yet.
func unsolicited(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var n int
	var buf [1]byte
	_ = raw.Read(func(fd uintptr) bool {
		n, _, _ = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	})
	return n > 0
}
