package wire

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestDialSocketOptions checks that the keepalive and user-timeout
// settings reach the socket, and that unset ones leave the system's.
func TestDialSocketOptions(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sysIdle := func() int { // the system default, from a socket nobody configured
		c, err := (&net.Dialer{KeepAlive: -1}).Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return sockopt(t, c, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
	}()
	tests := []struct {
		name                              string
		cfg                               Config
		keepalive, idle, intvl, cnt, user int
	}{
		{"all set", Config{Keepalives: true, KeepalivesIdle: 31 * time.Second, KeepalivesInterval: 7 * time.Second, KeepalivesCount: 4, TCPUserTimeout: 2500 * time.Millisecond},
			1, 31, 7, 4, 2500},
		{"unset keeps the system's", Config{Keepalives: true}, 1, sysIdle, -1, -1, 0},
		{"keepalives off", Config{Keepalives: false, TCPUserTimeout: time.Second}, 0, -1, -1, -1, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := dial(context.Background(), &tt.cfg, target{"tcp", ln.Addr().String()})
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			check := func(what string, level, opt, want int) {
				if want < 0 {
					return
				}
				if got := sockopt(t, nc, level, opt); got != want {
					t.Errorf("%s = %d, want %d", what, got, want)
				}
			}
			check("SO_KEEPALIVE", syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, tt.keepalive)
			check("TCP_KEEPIDLE", syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, tt.idle)
			check("TCP_KEEPINTVL", syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, tt.intvl)
			check("TCP_KEEPCNT", syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT, tt.cnt)
			check("TCP_USER_TIMEOUT", syscall.IPPROTO_TCP, tcpUserTimeout, tt.user)
		})
	}
}

func sockopt(t *testing.T, c net.Conn, level, opt int) int {
	t.Helper()
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := raw.Control(func(fd uintptr) { v, serr = syscall.GetsockoptInt(int(fd), level, opt) }); err != nil || serr != nil {
		t.Fatalf("getsockopt: %v %v", err, serr)
	}
	return v
}
