package wire

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Conn is an open session with one server. It is not safe for concurrent
// use, except Cancel.
type Conn struct {
	nc     net.Conn
	fe     *pgproto3.Frontend
	rd     *msgReader
	cfg    *Config
	host   Host
	addr   string // dialled address, for cancel requests
	netw   string // "tcp" or "unix"
	pid    uint32
	secret []byte
	params map[string]string
	method string // authentication method used
	tls    bool   // the session is encrypted
	bound  bool   // SCRAM was bound to the TLS channel (-PLUS)
	// tlsFiles are the TLS settings' files, read once by Connect.
	tlsFiles *tlsFiles
	authOK   bool // AuthenticationOk arrived
	// credentialsSent is set once a password or a SCRAM exchange has
	// been sent: an error before AuthenticationOk may then be the
	// refusal of those credentials.
	credentialsSent bool

	passwordFromFile    bool
	passwordFromCommand bool
	closed              bool
	// txStatus is the transaction status of the last ReadyForQuery: 'I'
	// idle, 'T' in a transaction, 'E' in a failed one; 0 before the first.
	txStatus byte
	// noClientCheck is set once the server refused
	// client_connection_check_interval.
	noClientCheck bool
	// passfileIgnored says why the password file was passed over, for
	// the advice when no password is found.
	passfileIgnored *pgconf.PassfileWarning
}

// newFrontend returns the message encoder for nc; it only sends, since
// msgReader does the reading.
func newFrontend(nc net.Conn) *pgproto3.Frontend { return pgproto3.NewFrontend(nil, nc) }

// ServerParam returns a parameter the server reported with ParameterStatus,
// such as "server_version".
func (c *Conn) ServerParam(name string) string { return c.params[name] }

// AuthMethod returns the authentication method the server asked for:
// "trust", "password", "md5" or "scram-sha-256".
func (c *Conn) AuthMethod() string { return c.method }

// TLS reports whether the session is encrypted, and with what.
func (c *Conn) TLS() (tls.ConnectionState, bool) {
	if tc, ok := c.nc.(*tls.Conn); ok {
		return tc.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// Host returns the host the session is connected to.
func (c *Conn) Host() Host { return c.host }

// Close ends the session politely and closes the socket. A transaction
// still open (a stream that failed or was stopped in step with the server)
// is rolled back first, in the same write as the Terminate: fraise never
// commits, and a pooler gets its server session back idle. It is safe to
// call more than once.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if s := c.txStatus; s == 'T' || s == 'E' {
		c.fe.SendQuery(&pgproto3.Query{String: "ROLLBACK"})
		c.cfg.logger().Info("rolled back", "transaction_status", string(s))
	}
	c.cfg.logger().Info("session closed")
	c.fe.Send(&pgproto3.Terminate{})
	_ = c.fe.Flush()
	return c.nc.Close()
}

// abort closes the socket without a goodbye, after the stream is out of
// sync or the server is unreachable.
func (c *Conn) abort() {
	if !c.closed {
		c.closed = true
		_ = c.nc.Close()
	}
}
