// Canceling requests in progress: protocol documentation 55.2.8.

package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// ErrNoCancelKey means the server sent no BackendKeyData, so the query can
// only be stopped by closing the connection.
var ErrNoCancelKey = errors.New("server gave no cancel key")

// Cancel asks the server to cancel the statement in progress, over a new
// connection to the same address, encrypted when the session is. The
// server never answers; Cancel returns
// once the server has closed that connection or ctx is done. It is safe to
// call from another goroutine while the session is streaming.
func (c *Conn) Cancel(ctx context.Context) error { return c.cancel(ctx, true) }

// sendCancel writes the cancel request and closes its connection without
// waiting for the server to hang up: the request is in the server's socket
// buffer, which the server reads whether or not the client is still there.
// It is for a client about to go away, which cannot use the confirmation.
func (c *Conn) sendCancel(ctx context.Context) error { return c.cancel(ctx, false) }

func (c *Conn) cancel(ctx context.Context, wait bool) error {
	if c.secret == nil {
		return ErrNoCancelKey
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, c.netw, c.addr)
	if err != nil {
		return err
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	nc := raw
	if c.tls {
		// The same encryption as the session: the key must not travel in
		// plain text when the session did not.
		tc, probe, err := startTLS(ctx, raw, c.cfg.TLS, c.tlsFiles, c.host)
		if err != nil {
			return err
		}
		probe.close()
		defer tc.Close()
		nc = tc
	}
	buf, err := (&pgproto3.CancelRequest{ProcessID: c.pid, SecretKey: c.secret}).Encode(nil)
	if err != nil {
		return err
	}
	if _, err := nc.Write(buf); err != nil || !wait {
		return err
	}
	// Wait for the server to hang up, so the cancel has been delivered.
	_, err = io.Copy(io.Discard, nc)
	return err
}
