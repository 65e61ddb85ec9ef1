// Opening the byte stream to a server: the TCP or Unix-socket connection
// with its socket options, and TLS negotiation (protocol documentation
// 55.2.10 "SSL Session Encryption", with the direct negotiation of
// PostgreSQL 17).

package wire

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// errServerNoTLS is the server's 'N' answer to SSLRequest.
var errServerNoTLS = errors.New("server does not support SSL")

// TLSError reports a failed TLS negotiation or handshake.
type TLSError struct {
	// Msg says what failed.
	Msg string
	// Err is the cause, if any.
	Err error

	handshake bool // the handshake itself failed (errHandshake)
}

// errHandshake matches a TLSError from a failed handshake, after which
// sslmode=prefer retries without TLS.
var errHandshake = errors.New("TLS handshake failed")

// Is makes errors.Is(err, errHandshake) true for handshake failures.
func (e *TLSError) Is(target error) bool { return target == errHandshake && e.handshake }

func (e *TLSError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *TLSError) Unwrap() error { return e.Err }

// dial opens the connection to t with the configured socket options.
func dial(ctx context.Context, cfg *Config, t target) (net.Conn, error) {
	d := net.Dialer{KeepAlive: -1}
	if t.network == "tcp" {
		if cfg.Keepalives {
			d.KeepAliveConfig = net.KeepAliveConfig{
				Enable:   true,
				Idle:     orSystem(cfg.KeepalivesIdle),
				Interval: orSystem(cfg.KeepalivesInterval),
				Count:    cfg.KeepalivesCount,
			}
			if cfg.KeepalivesCount == 0 {
				d.KeepAliveConfig.Count = -1
			}
		}
		if cfg.TCPUserTimeout > 0 {
			d.Control = func(_, _ string, rc syscall.RawConn) error {
				return setTCPUserTimeout(rc, cfg.TCPUserTimeout)
			}
		}
	}
	nc, err := d.DialContext(ctx, t.network, t.addr)
	if err != nil {
		return nil, err
	}
	if t.network == "unix" && cfg.RequirePeer != "" {
		if err := checkPeer(nc, cfg.RequirePeer); err != nil {
			_ = nc.Close()
			return nil, err
		}
	}
	return nc, nil
}

// orSystem maps an unset duration to "leave the system default".
func orSystem(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// checkPeer implements requirepeer: the server process on the socket must
// run as the named operating-system user.
func checkPeer(nc net.Conn, want string) error {
	uid, err := peerUID(nc)
	if err != nil {
		return fmt.Errorf("could not get peer credentials for requirepeer: %w", err)
	}
	name := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	if name != want {
		return &AuthError{Msg: fmt.Sprintf("requirepeer specifies %q, but actual peer user name is %q", want, name),
			Hint: "the socket is served by another user's process: check the host (socket directory) and port, or correct requirepeer"}
	}
	return nil
}

// startTLS negotiates TLS on nc for host h. With traditional negotiation it
// sends SSLRequest and reads the one-byte answer straight from the socket:
// 'S' starts the handshake, 'N' returns errServerNoTLS (nc is still usable
// in plain text). With direct negotiation the handshake starts at once and
// the server must select the ALPN protocol "postgresql".
func startTLS(ctx context.Context, nc net.Conn, t TLSConfig, files *tlsFiles, h Host) (_ *tls.Conn, _ *tlsProbe, err error) {
	tc, probe, err := tlsClientConfig(t, files, h)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			probe.close()
		}
	}()
	if !t.Direct {
		req, _ := (&pgproto3.SSLRequest{}).Encode(nil)
		if _, err := nc.Write(req); err != nil {
			return nil, nil, &TLSError{Msg: "could not send SSL negotiation packet", Err: err}
		}
		var b [1]byte
		if _, err := io.ReadFull(nc, b[:]); err != nil {
			return nil, nil, &TLSError{Msg: "could not read the answer to the SSL negotiation packet", Err: err}
		}
		switch b[0] {
		case 'S':
			if unsolicited(nc) {
				return nil, nil, &ProtocolError{Msg: "received unencrypted data after SSL response (a man-in-the-middle may be injecting data)"}
			}
		case 'N':
			return nil, nil, errServerNoTLS
		case 'E':
			// The text is not shown: the server is not authenticated yet
			// (CVE-2024-10977).
			return nil, nil, &TLSError{Msg: "server sent an error response during SSL exchange"}
		default:
			return nil, nil, &ProtocolError{Msg: fmt.Sprintf("received invalid response to SSL negotiation: %q", b[0])}
		}
	}
	conn := tls.Client(newTLSFeed(nc), tc)
	if err := conn.HandshakeContext(ctx); err != nil {
		return nil, nil, &TLSError{Msg: "SSL handshake failed", Err: err, handshake: true}
	}
	if t.Direct && conn.ConnectionState().NegotiatedProtocol != "postgresql" {
		return nil, nil, &TLSError{Msg: `direct SSL connection was established without ALPN protocol negotiation extension ("postgresql"); the server is not PostgreSQL 17 or later, or a proxy is in between: use sslnegotiation=postgres`}
	}
	return conn, probe, nil
}
