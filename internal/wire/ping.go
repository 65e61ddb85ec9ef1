// What a session can tell about itself and its server, for fraise ping:
// the address dialled, channel binding, standby status (in_hot_standby,
// protocol documentation 55.2.7, else pg_is_in_recovery()) and the time of
// a round trip.

package wire

import (
	"context"
	"fmt"
	"time"
)

// pingSQL is the statement Ping times: trivial to plan and to run.
const pingSQL = "SELECT 1"

// Ping times n round trips of SELECT 1 through the extended protocol, each
// its Parse, Bind, Execute and Sync sent together, inside one read-only
// transaction whose BEGIN and ROLLBACK are not timed. It returns the n
// durations in the order measured; errors are those of QueryText.
func (c *Conn) Ping(ctx context.Context, n int) ([]time.Duration, error) {
	if n < 1 {
		return nil, fmt.Errorf("ping: %d round trips asked for, want at least 1", n)
	}
	st := Statement{SQL: pingSQL}
	rtts := make([]time.Duration, 0, n)
	err := c.inTransaction(ctx, st, func(l *life) error {
		for range n {
			got := 0
			start := time.Now()
			err := c.extended(l, func(v [][]byte) error {
				if len(v) != 1 || string(v[0]) != "1" {
					return &ProtocolError{Msg: fmt.Sprintf("%s returned %q", pingSQL, v)}
				}
				got++
				return nil
			})
			elapsed := time.Since(start)
			if err != nil {
				return err
			}
			if got != 1 {
				c.abort()
				return &ProtocolError{Msg: fmt.Sprintf("%s returned %d rows", pingSQL, got)}
			}
			rtts = append(rtts, elapsed)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rtts, nil
}

// IsStandby reports whether the server is a standby in recovery: from the
// in_hot_standby parameter when the server reported it at startup
// (PostgreSQL 14 and later), else by asking pg_is_in_recovery() inside a
// read-only transaction. Errors are those of QueryText.
func (c *Conn) IsStandby(ctx context.Context) (bool, error) {
	if hs, ok := c.params["in_hot_standby"]; ok {
		return hs == "on", nil
	}
	const sql = "SELECT pg_catalog.pg_is_in_recovery()"
	var answer string
	rows := 0
	err := c.QueryText(ctx, sql, nil, func(v [][]byte) error {
		rows++
		if len(v) == 1 {
			answer = string(v[0])
		}
		return nil
	})
	switch {
	case err != nil:
		return false, err
	case rows != 1 || (answer != "t" && answer != "f"):
		c.abort()
		return false, &ProtocolError{Msg: fmt.Sprintf("%s returned %d rows, the first %q", sql, rows, answer)}
	}
	return answer == "t", nil
}

// RemoteAddr returns the network, "tcp" or "unix", and the address the
// session was dialled at: IP and port, or the socket file's path.
func (c *Conn) RemoteAddr() (network, addr string) { return c.netw, c.addr }

// ChannelBinding reports whether authentication bound the session to its
// TLS channel (SCRAM-SHA-256-PLUS with tls-server-end-point).
func (c *Conn) ChannelBinding() bool { return c.bound }
