//go:build !unix

package wire

import "net"

// unsolicited reports false on this system, which has no peek that does
// not wait on the net package's (overlapped) sockets. Nothing is lost but
// the early, clear error: startTLS reads the one-byte answer itself and
// buffers nothing, so bytes injected after 'S' go to the TLS handshake,
// which rejects them as it rejects any record it did not negotiate
// (CVE-2021-23222 was libpq keeping such bytes as decrypted data).
func unsolicited(net.Conn) bool { return false }
