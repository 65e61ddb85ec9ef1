package wire_test

// A TCP fake server for TLS negotiation edge cases that a real PostgreSQL
// 15 cannot produce (direct TLS, a missing ALPN, bytes injected after 'S',
// an error answer to SSLRequest), and an in-test certificate authority
// that can also revoke.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	File   string // the CA certificate, PEM
	serial int64
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, File: filepath.Join(t.TempDir(), "ca.crt"), serial: 1}
	writePEM(t, ca.File, "CERTIFICATE", der, 0o644)
	return ca
}

// leaf issues a server certificate.
func (ca *testCA) leaf(t *testing.T, cn string, dns []string, ips []net.IP) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dns,
		IPAddresses:  ips,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, cert
}

// crl writes a revocation list revoking serials, valid until nextUpdate.
func (ca *testCA) crl(t *testing.T, nextUpdate time.Time, revoked ...*big.Int) string {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: time.Now().Add(-2 * time.Hour), NextUpdate: nextUpdate,
		RevokedCertificateEntries: entries,
	}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "root.crl")
	writePEM(t, path, "X509 CRL", der, 0o644)
	return path
}

func writePEM(t *testing.T, path, typ string, der []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), perm); err != nil {
		t.Fatal(err)
	}
}

// tcpFake serves one TCP connection on loopback: negotiate handles what
// precedes the StartupMessage and returns the connection to speak on, then
// script plays the session.
type tcpFake struct {
	Port     int
	Accepted atomic.Int32
	done     chan error
}

func startTCPFake(t *testing.T, negotiate func(net.Conn) (net.Conn, error), script fakeScript) *tcpFake {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &tcpFake{Port: ln.Addr().(*net.TCPAddr).Port, done: make(chan error, 1)}
	go func() {
		conn, err := ln.Accept()
		_ = ln.Close()
		if err != nil {
			f.done <- err
			return
		}
		f.Accepted.Add(1)
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(fakeTimeout))
		c, err := negotiate(conn)
		if err != nil || c == nil || script == nil {
			f.done <- err
			return
		}
		b := pgproto3.NewBackend(c, c)
		if _, err := b.ReceiveStartupMessage(); err != nil {
			f.done <- fmt.Errorf("receiving the startup message: %w", err)
			return
		}
		f.done <- script(b, c)
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return f
}

// result waits for the fake's session to end.
func (f *tcpFake) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-f.done:
		return err
	case <-time.After(fakeTimeout):
		return fmt.Errorf("the fake server's session did not end within %s", fakeTimeout)
	}
}

// expectSSLRequest reads the 8-byte SSLRequest.
func expectSSLRequest(conn net.Conn) error {
	var b [8]byte
	if _, err := readFull(conn, b[:]); err != nil {
		return fmt.Errorf("reading SSLRequest: %w", err)
	}
	if b != [8]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f} {
		return fmt.Errorf("first packet % x is not SSLRequest", b)
	}
	return nil
}

func readFull(conn net.Conn, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := conn.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// tlsAfterS answers SSLRequest with 'S' and runs the TLS handshake as
// server; alpn lists the protocols it accepts (nil: no ALPN).
func tlsAfterS(cert tls.Certificate, alpn []string, sawALPN *atomic.Value) func(net.Conn) (net.Conn, error) {
	return func(conn net.Conn) (net.Conn, error) {
		if err := expectSSLRequest(conn); err != nil {
			return nil, err
		}
		if _, err := conn.Write([]byte{'S'}); err != nil {
			return nil, err
		}
		return serverHandshake(conn, cert, alpn, sawALPN)
	}
}

func serverHandshake(conn net.Conn, cert tls.Certificate, alpn []string, sawALPN *atomic.Value) (net.Conn, error) {
	tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: alpn, MinVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		return nil, nil // the client gave up: its error is what the test checks
	}
	if sawALPN != nil {
		sawALPN.Store(tc.ConnectionState().NegotiatedProtocol)
	}
	return tc, nil
}

// expect checks a Connect against the fake: with want "" the session must
// have opened, and the fake's script must end cleanly once it is closed;
// otherwise Connect must have failed with an error containing want.
func (f *tcpFake) expect(t *testing.T, c *wire.Conn, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
		_ = c.Close()
		if err := f.result(t); err != nil {
			t.Errorf("fake server: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Connect succeeded, want an error containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}
