package wire_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// helloRecorder negotiates TLS after 'S' and records the ClientHello.
func helloRecorder(cert tls.Certificate, maxVersion uint16, sni, alpn *atomic.Value) func(net.Conn) (net.Conn, error) {
	return func(conn net.Conn) (net.Conn, error) {
		if err := expectSSLRequest(conn); err != nil {
			return nil, err
		}
		if _, err := conn.Write([]byte{'S'}); err != nil {
			return nil, err
		}
		tc := tls.Server(conn, &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS10,
			MaxVersion:   maxVersion,
			GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				sni.Store(h.ServerName)
				alpn.Store(strings.Join(h.SupportedProtos, ","))
				return nil, nil
			},
		})
		if err := tc.Handshake(); err != nil {
			return nil, nil
		}
		return tc, nil
	}
}

func TestTLSClientHello(t *testing.T) {
	ca := newTestCA(t, "hello CA")
	cert, _ := ca.leaf(t, "localhost", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	tests := []struct {
		name, host, extra string
		serverMax         uint16
		wantSNI           string
		want              string // error; "" connects
	}{
		{"SNI for a host name", "localhost", "", tls.VersionTLS13, "localhost", ""},
		{"no SNI for an IP address", "127.0.0.1", "", tls.VersionTLS13, "", ""},
		{"sslsni=0", "localhost", "sslsni=0", tls.VersionTLS13, "", ""},
		{"TLS 1.2 server is accepted", "localhost", "", tls.VersionTLS12, "localhost", ""},
		{"TLS 1.1 server is refused by default", "localhost", "", tls.VersionTLS11, "", "SSL handshake failed"},
		{"ssl_min_protocol_version=TLSv1.1 accepts it", "localhost", "ssl_min_protocol_version=TLSv1.1", tls.VersionTLS11, "localhost", ""},
		{"ssl_min_protocol_version=TLSv1.3 refuses TLS 1.2", "localhost", "ssl_min_protocol_version=TLSv1.3", tls.VersionTLS12, "", "SSL handshake failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sni, alpn atomic.Value
			f := startTCPFake(t, helloRecorder(cert, tt.serverMax, &sni, &alpn), fakeSeq(fakeTrust(nil), fakeExpectClose))
			c, err := connectTCP(t, tcpConfig(t, tt.host, f.Port, "sslmode=verify-full sslrootcert="+ca.File+" "+tt.extra))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			state, ok := c.TLS()
			if !ok || state.Version != tt.serverMax {
				t.Errorf("TLS() = version %x, %v; want %x", state.Version, ok, tt.serverMax)
			}
			_ = c.Close()
			if err := f.result(t); err != nil {
				t.Errorf("fake server: %v", err)
			}
			if got, _ := sni.Load().(string); got != tt.wantSNI {
				t.Errorf("SNI %q, want %q", got, tt.wantSNI)
			}
			if got, _ := alpn.Load().(string); got != "postgresql" {
				t.Errorf("ALPN offered %q, want postgresql", got)
			}
		})
	}
}

// TestSSLKeyLogFile checks that sslkeylogfile receives the session secrets,
// in a file only its owner can read.
func TestSSLKeyLogFile(t *testing.T) {
	ca := newTestCA(t, "keylog CA")
	cert, _ := ca.leaf(t, "localhost", []string{"localhost"}, nil)
	f := startTCPFake(t, tlsAfterS(cert, nil, nil), fakeSeq(fakeTrust(nil), fakeExpectClose))
	logFile := filepath.Join(t.TempDir(), "keys.log")
	c, err := connectTCP(t, tcpConfig(t, "localhost", f.Port, "sslmode=verify-full sslrootcert="+ca.File+" sslkeylogfile="+logFile))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	data, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(data), "CLIENT_HANDSHAKE_TRAFFIC_SECRET") {
		t.Fatalf("key log %q (%v) lacks the handshake secret", data, err)
	}
	if fi, _ := os.Stat(logFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("key log mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestCRLDirectory checks sslcrldir: every list in the directory counts.
func TestCRLDirectory(t *testing.T) {
	ca := newTestCA(t, "crldir CA")
	cert, leaf := ca.leaf(t, "localhost", []string{"localhost"}, nil)
	for _, tc := range []struct {
		name    string
		revoked bool
	}{{"revoked", true}, {"not revoked", false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var crl string
			if tc.revoked {
				crl = ca.crl(t, time.Now().Add(time.Hour), leaf.SerialNumber)
			} else {
				crl = ca.crl(t, time.Now().Add(time.Hour))
			}
			data, _ := os.ReadFile(crl)
			if err := os.WriteFile(filepath.Join(dir, "a1b2c3d4.r0"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			f := startTCPFake(t, tlsAfterS(cert, nil, nil), fakeSeq(fakeTrust(nil), fakeExpectClose))
			c, err := connectTCP(t, tcpConfig(t, "localhost", f.Port, "sslmode=verify-full sslrootcert="+ca.File+" sslcrldir="+dir))
			want := ""
			if tc.revoked {
				want = "certificate revoked"
			}
			f.expect(t, c, err, want)
		})
	}
}

// TestConnectTimeoutPerAddress: a server that accepts the TCP connection
// and then says nothing costs connect_timeout, after which the next host
// is tried.
func TestConnectTimeoutPerAddress(t *testing.T) {
	// A listener that never accepts: the kernel completes the handshake
	// from its backlog, and the SSLRequest is never answered.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	f := startTCPFake(t, func(conn net.Conn) (net.Conn, error) {
		if err := expectSSLRequest(conn); err != nil {
			return nil, err
		}
		_, err := conn.Write([]byte{'N'})
		return conn, err
	}, fakeSeq(fakeTrust(nil), fakeExpectClose))
	port1 := silent.Addr().(*net.TCPAddr).Port
	env, _ := fakeEnv(t, nil)
	cfg, err := wire.ParseConfig(fmt.Sprintf("host=127.0.0.1,localhost port=%d,%d user=u dbname=d connect_timeout=2", port1, f.Port), env)
	if err != nil {
		t.Fatal(err)
	}
	c, err := connectTCP(t, cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if c.Host().Name != "localhost" {
		t.Errorf("connected to %q, want the second host", c.Host().Name)
	}
}

// TestCRLEveryListCounts: a list from the same issuer that revokes the
// certificate wins over an older one that does not, wherever it sits; an
// expired list does not matter when a current one exists; sslcrldir
// follows symbolic links, and an sslcrldir without the issuer's list fails
// closed, as OpenSSL's directory lookup does.
func TestCRLEveryListCounts(t *testing.T) {
	ca := newTestCA(t, "lists CA")
	cert, leaf := ca.leaf(t, "localhost", []string{"localhost"}, nil)
	fresh := time.Now().Add(time.Hour)
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bundle := func(paths ...string) string {
		var all []byte
		for _, p := range paths {
			all = append(all, read(p)...)
		}
		out := filepath.Join(t.TempDir(), "bundle.crl")
		if err := os.WriteFile(out, all, 0o644); err != nil {
			t.Fatal(err)
		}
		return out
	}
	clean := ca.crl(t, fresh)
	revoking := ca.crl(t, fresh, leaf.SerialNumber)
	expired := ca.crl(t, time.Now().Add(-time.Minute))
	linked := t.TempDir()
	if err := os.Symlink(revoking, filepath.Join(linked, "0a1b2c3d.r0")); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, extra, want string }{
		{"older clean list first", "sslcrl=" + bundle(clean, revoking), "certificate revoked"},
		{"expired list then a current one", "sslcrl=" + bundle(expired, clean), ""},
		{"symbolic link in sslcrldir", "sslcrldir=" + linked, "certificate revoked"},
		{"empty sslcrldir fails closed", "sslcrldir=" + t.TempDir(), "unable to get certificate CRL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startTCPFake(t, tlsAfterS(cert, nil, nil), fakeSeq(fakeTrust(nil), fakeExpectClose))
			c, err := connectTCP(t, tcpConfig(t, "localhost", f.Port, "sslmode=verify-full sslrootcert="+ca.File+" "+tt.extra))
			f.expect(t, c, err, tt.want)
		})
	}
}

// TestTargetCheckBoundedByConnectTimeout: a server that reports neither
// in_hot_standby nor default_transaction_read_only is asked, and one that
// never answers costs connect_timeout, not forever; the next host is tried.
func TestTargetCheckBoundedByConnectTimeout(t *testing.T) {
	mute := startFake(t, func(b *pgproto3.Backend, conn net.Conn) error {
		b.Send(&pgproto3.AuthenticationOk{})
		b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		if err := b.Flush(); err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, conn) // SHOW transaction_read_only, never answered
		return nil
	})
	good := startFake(t, fakeSeq(fakeSend(&pgproto3.AuthenticationOk{},
		&pgproto3.ParameterStatus{Name: "in_hot_standby", Value: "off"},
		&pgproto3.ParameterStatus{Name: "default_transaction_read_only", Value: "off"},
		&pgproto3.ReadyForQuery{TxStatus: 'I'}), fakeExpectClose))
	env, _ := fakeEnv(t, nil)
	c, err := fakeConnect(t, fakeConfig(t, env, "connect_timeout=2 target_session_attrs=read-write", mute.Dir, good.Dir))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if c.Host().Name != good.Dir {
		t.Errorf("connected to %q, want the second host", c.Host().Name)
	}
}

// TestPreferListsBothAttempts: under sslmode=prefer a refusal over TLS is
// retried in plain text, and the error shows both attempts.
func TestPreferListsBothAttempts(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	cfg := config(t, fmt.Sprintf("host=localhost port=%d user=%s dbname=%s sslmode=prefer password=wrong-pw-1",
		srv.ClientPort(), pgtest.RoleSCRAM, pgtest.Database))
	_, err := stream(t, cfg, "SELECT data FROM v_user LIMIT 1")
	if err == nil {
		t.Fatal("connected with a wrong password")
	}
	if n := strings.Count(err.Error(), "connection to server at"); n != 2 {
		t.Errorf("error lists %d attempts, want 2 (TLS, then plain):\n%v", n, err)
	}
	if strings.Contains(err.Error(), "wrong-pw-1") {
		t.Errorf("error shows the password: %v", err)
	}
}
