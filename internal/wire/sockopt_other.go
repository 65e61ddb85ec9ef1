//go:build !linux

package wire

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// setTCPUserTimeout is not available on this system.
func setTCPUserTimeout(syscall.RawConn, time.Duration) error {
	return errors.New("tcp_user_timeout is not supported on this operating system")
}

// peerUID is not available on this system.
func peerUID(net.Conn) (uint32, error) {
	return 0, errors.New("requirepeer is not supported on this operating system")
}
