// Canceling requests in progress: protocol documentation 55.2.8.

package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
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

// sendCancel is Cancel for a client about to go away, which cannot use
// the confirmation: once the request is written, the server's hang-up is
// still waited for, within ctx, but a wait cut short is no error. Closing
// the connection before the server has hung up would do for PostgreSQL,
// which reads the request whether or not the client is still there; it
// is not for PgBouncer 1.18 (Debian's and Ubuntu's), which exits with a
// fatal error ("bad client state: 0", pgbouncer/pgbouncer#801) when a
// client closes its cancel connection while the request is being passed
// on, ending every session through it. libpq always waits.
func (c *Conn) sendCancel(ctx context.Context) error { return c.cancel(ctx, false) }

// cancel sends the cancel request and waits for the server to hang up;
// when confirm is false, a wait that ctx cuts short is not an error.
func (c *Conn) cancel(ctx context.Context, confirm bool) error {
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
	if _, err := nc.Write(buf); err != nil {
		return err
	}
	// Wait for the server to hang up, so the cancel has been delivered.
	if _, err = io.Copy(io.Discard, nc); !confirm && errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return err
}
