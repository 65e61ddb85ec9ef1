package cli

import (
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"

	"github.com/fraiseql/fraise/internal/wire"
)

// leaveCores makes room for the backends of a parallel run whose server
// is on this machine (a Unix socket, a loopback address): fraise's Go
// runtime keeps to the cores the conns backends do not need, so that its
// idle threads do not preempt them (measured: docs/performance.md,
// "Parallel"). GOMAXPROCS set in the environment is left alone. It
// returns what puts the runtime back.
func leaveCores(c *wire.Conn, conns int, log *slog.Logger) (restore func()) {
	if _, set := os.LookupEnv("GOMAXPROCS"); set || !sameMachine(c) {
		return func() {}
	}
	old := runtime.GOMAXPROCS(0)
	n := max(1, min(old, runtime.NumCPU()-conns))
	if n == old {
		return func() {}
	}
	runtime.GOMAXPROCS(n)
	log.Info("server on this machine: leaving cores to its backends", "gomaxprocs", n, "was", old)
	return func() { runtime.GOMAXPROCS(old) }
}

// sameMachine reports whether c's server is on this machine.
func sameMachine(c *wire.Conn) bool {
	network, addr := c.RemoteAddr()
	if network == "unix" {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
