package wire_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// tcpConfig builds a Config for a fake on 127.0.0.1 or localhost.
func tcpConfig(t *testing.T, host string, port int, extra string) *wire.Config {
	t.Helper()
	env, _ := fakeEnv(t, nil)
	conninfo := fmt.Sprintf("host=%s port=%d user=u dbname=d %s", host, port, extra)
	cfg, err := wire.ParseConfig(conninfo, env)
	if err != nil {
		t.Fatalf("ParseConfig(%q): %v", conninfo, err)
	}
	return cfg
}

func connectTCP(t *testing.T, cfg *wire.Config) (*wire.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fakeTimeout)
	defer cancel()
	c, err := wire.Connect(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

func TestTLSNegotiationEdges(t *testing.T) {
	ca := newTestCA(t, "edge CA")
	cert, _ := ca.leaf(t, "localhost", []string{"localhost"}, nil)
	raw := func(reply []byte) func(net.Conn) (net.Conn, error) {
		return func(conn net.Conn) (net.Conn, error) {
			if err := expectSSLRequest(conn); err != nil {
				return nil, err
			}
			_, err := conn.Write(reply)
			// Keep the socket open until the client hangs up, so that what
			// the test sees is the client's own decision.
			var b [1]byte
			_, _ = conn.Read(b[:])
			return nil, err
		}
	}
	errReply := append([]byte{'E'}, mustEncode(t, fakeError("FATAL", "XX000", "SECRET-TEXT-FROM-AN-IMPOSTOR"))[1:]...)
	tests := []struct {
		name      string
		negotiate func(net.Conn) (net.Conn, error)
		script    fakeScript
		extra     string
		want      string // error text; "" means the session opens
		notWant   string
		wantALPN  bool
	}{
		{name: "bytes injected after S", negotiate: raw([]byte("SXXXXXXXXXXXXXXXX")), extra: "sslmode=require",
			want: "received unencrypted data after SSL response"},
		{name: "error answer is not shown", negotiate: raw(errReply), extra: "sslmode=require",
			want: "server sent an error response during SSL exchange", notWant: "SECRET-TEXT"},
		{name: "invalid answer", negotiate: raw([]byte{'X'}), extra: "sslmode=prefer",
			want: "received invalid response to SSL negotiation"},
		{name: "N under require", negotiate: raw([]byte{'N'}), extra: "sslmode=require",
			want: "server does not support SSL, but SSL was required (sslmode=require from the connection string)"},
		{name: "N under prefer continues in plain text", extra: "sslmode=prefer",
			negotiate: func(conn net.Conn) (net.Conn, error) {
				if err := expectSSLRequest(conn); err != nil {
					return nil, err
				}
				_, err := conn.Write([]byte{'N'})
				return conn, err
			}, script: fakeSeq(fakeTrust(nil), fakeExpectClose)},
		{name: "direct TLS with ALPN", extra: "sslmode=verify-full sslnegotiation=direct sslrootcert=" + ca.File,
			negotiate: func(conn net.Conn) (net.Conn, error) { return serverHandshake(conn, cert, []string{"postgresql"}, nil) },
			script:    fakeSeq(fakeTrust(nil), fakeExpectClose), wantALPN: true},
		{name: "direct TLS without ALPN", extra: "sslmode=require sslnegotiation=direct",
			negotiate: func(conn net.Conn) (net.Conn, error) { return serverHandshake(conn, cert, nil, nil) },
			want:      "without ALPN protocol negotiation extension"},
		{name: "traditional TLS offers ALPN too", extra: "sslmode=verify-full sslrootcert=" + ca.File,
			negotiate: tlsAfterS(cert, []string{"postgresql"}, nil), script: fakeSeq(fakeTrust(nil), fakeExpectClose), wantALPN: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var alpn atomic.Value
			negotiate := tt.negotiate
			if tt.wantALPN {
				inner := negotiate
				negotiate = func(conn net.Conn) (net.Conn, error) {
					c, err := inner(conn)
					if tc, ok := c.(*tls.Conn); ok {
						alpn.Store(tc.ConnectionState().NegotiatedProtocol)
					}
					return c, err
				}
			}
			f := startTCPFake(t, negotiate, tt.script)
			c, err := connectTCP(t, tcpConfig(t, "localhost", f.Port, tt.extra))
			f.expect(t, c, err, tt.want)
			if tt.want == "" {
				if tt.wantALPN && alpn.Load() != "postgresql" {
					t.Errorf("negotiated ALPN %q, want postgresql", alpn.Load())
				}
				if n := f.Accepted.Load(); n != 1 {
					t.Errorf("%d connections, want 1", n)
				}
				return
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error %q shows %q", err, tt.notWant)
			}
		})
	}
}

func mustEncode(t *testing.T, m pgproto3.BackendMessage) []byte {
	t.Helper()
	b, err := m.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTLSVerification covers the client-side checks a real server cannot
// vary per test: host names against SANs and the CN, revocation lists.
func TestTLSVerification(t *testing.T) {
	ca := newTestCA(t, "verify CA")
	other := newTestCA(t, "other CA")
	ipCert, _ := ca.leaf(t, "db.example", nil, []net.IP{net.ParseIP("127.0.0.1")})
	cnOnly, _ := ca.leaf(t, "localhost", nil, nil)
	wildcard, _ := ca.leaf(t, "x", []string{"*.localhost", "other.example"}, nil)
	named, namedX509 := ca.leaf(t, "localhost", []string{"localhost"}, nil)
	fresh := time.Now().Add(time.Hour)
	tests := []struct {
		name  string
		cert  tls.Certificate
		host  string
		extra string
		want  string
	}{
		{"IP SAN matches an IP host", ipCert, "127.0.0.1", "sslmode=verify-full", ""},
		{"IP SAN does not match a name", ipCert, "localhost", "sslmode=verify-full",
			`server certificate for "127.0.0.1" (and 1 other name) does not match host name "localhost"`},
		{"CN used without SANs", cnOnly, "localhost", "sslmode=verify-full", ""},
		{"wildcard does not match the bare domain", wildcard, "localhost", "sslmode=verify-full",
			`server certificate for "*.localhost" (and 1 other name) does not match host name "localhost"`},
		{"verify-ca ignores the name", ipCert, "localhost", "sslmode=verify-ca", ""},
		{"wrong CA", named, "localhost", "sslmode=verify-ca sslrootcert=" + other.File, "certificate signed by unknown authority"},
		{"require verifies when a root file is given", named, "localhost", "sslmode=require sslrootcert=" + other.File, "certificate signed by unknown authority"},
		{"revoked", named, "localhost", "sslmode=verify-full sslcrl=" + ca.crl(t, fresh, namedX509.SerialNumber), "certificate revoked"},
		{"CRL revoking others", named, "localhost", "sslmode=verify-full sslcrl=" + ca.crl(t, fresh, big.NewInt(999)), ""},
		{"expired CRL", named, "localhost", "sslmode=verify-full sslcrl=" + ca.crl(t, time.Now().Add(-time.Minute)), "CRL has expired"},
		{"CRL of another issuer", named, "localhost", "sslmode=verify-full sslcrl=" + other.crl(t, fresh), "unable to get certificate CRL"},
		{"missing CRL file is ignored", named, "localhost", "sslmode=verify-full sslcrl=/nonexistent/root.crl", ""},
		{"no root file for verify-ca", named, "localhost", "sslmode=verify-ca sslrootcert=/nonexistent/root.crt", `root certificate file "/nonexistent/root.crt" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := tt.extra
			if !strings.Contains(extra, "sslrootcert=") {
				extra += " sslrootcert=" + ca.File
			}
			f := startTCPFake(t, tlsAfterS(tt.cert, nil, nil), fakeSeq(fakeTrust(nil), fakeExpectClose))
			c, err := connectTCP(t, tcpConfig(t, tt.host, f.Port, extra))
			f.expect(t, c, err, tt.want)
			var ce *wire.ConnectError
			if errors.As(err, &ce) && strings.Contains(tt.want, "does not") && ce.Step != wire.StepVerify && !strings.Contains(tt.want, "root certificate") {
				t.Errorf("step %q, want %q", ce.Step, wire.StepVerify)
			}
		})
	}
}

// TestAuthChecksAgainstFakes covers requests a real server makes only with
// setups we cannot build here: plain SCRAM over TLS, -PLUS without TLS,
// GSSAPI, no client certificate request.
func TestAuthChecksAgainstFakes(t *testing.T) {
	ca := newTestCA(t, "auth CA")
	cert, _ := ca.leaf(t, "localhost", []string{"localhost"}, nil)
	sasl := func(mechs ...string) fakeScript {
		return fakeSend(&pgproto3.AuthenticationSASL{AuthMechanisms: mechs})
	}
	tests := []struct {
		name   string
		tls    bool
		script fakeScript
		extra  string
		want   string
	}{
		{"require binding, server offers plain SCRAM over TLS", true, sasl("SCRAM-SHA-256"), "channel_binding=require sslmode=require password=pw",
			"channel binding is required, but server did not offer an authentication method that supports channel binding"},
		{"-PLUS offered without TLS", false, sasl("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"), "sslmode=prefer password=pw",
			"server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection"},
		{"require_auth against GSSAPI", false, fakeSend(&pgproto3.AuthenticationGSS{}), "sslmode=prefer require_auth=scram-sha-256",
			`authentication method requirement "scram-sha-256" failed: server requested GSSAPI authentication`},
		{"GSSAPI when allowed", false, fakeSend(&pgproto3.AuthenticationGSS{}), "sslmode=prefer require_auth=!password",
			"server requested GSSAPI authentication, which fraise does not support"},
		{"channel binding required against GSSAPI", true, fakeSend(&pgproto3.AuthenticationGSS{}), "sslmode=require channel_binding=require",
			"channel binding required but not supported by server's authentication request"},
		{"sslcertmode=require, server asks for none", true, fakeTrust(nil), "sslmode=require sslcertmode=require",
			"server did not request an SSL certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			negotiate := func(conn net.Conn) (net.Conn, error) {
				if err := expectSSLRequest(conn); err != nil {
					return nil, err
				}
				_, err := conn.Write([]byte{'N'})
				return conn, err
			}
			if tt.tls {
				negotiate = tlsAfterS(cert, nil, nil)
			}
			f := startTCPFake(t, negotiate, tt.script)
			_, err := connectTCP(t, tcpConfig(t, "localhost", f.Port, tt.extra))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			var ce *wire.ConnectError
			if !errors.As(err, &ce) || ce.Step != wire.StepAuth {
				t.Errorf("error %q is not at step %q", err, wire.StepAuth)
			}
		})
	}
}
