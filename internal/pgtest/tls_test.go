package pgtest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// whoSSL is the query of the login tests: who logged in, and whether the
// connection uses TLS.
const whoSSL = "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

// loginCase is one connection attempt through psql: host "" means the
// socket. Either want (the output of whoSSL) or wantErr (part of psql's
// standard error) is set.
type loginCase struct {
	name    string
	host    string
	role    string
	env     []string // PGSSLMODE and the like; PGPASSWORD is added for the role
	want    string
	wantErr string
}

// run makes the connection attempt of c against s and checks its outcome.
func (c loginCase) run(t *testing.T, s *pgtest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host := c.host
	if host == "" {
		host = s.SocketDir
	}
	cmd := s.PsqlCommand(ctx, "-h", host, "-U", c.role, "-c", whoSSL)
	cmd.Env = append(cmd.Env, c.env...)
	if pw := pgtest.Password(c.role); pw != "" && !slices.ContainsFunc(c.env, func(kv string) bool {
		return strings.HasPrefix(kv, "PGPASSWORD=")
	}) {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+pw)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out, errOut := strings.TrimSpace(stdout.String()), strings.TrimSpace(stderr.String())
	switch {
	case c.wantErr == "" && err != nil:
		t.Errorf("%s %v: %v: %s", c.role, c.env, err, errOut)
	case c.wantErr == "" && out != c.want:
		t.Errorf("%s %v: got %q, want %q", c.role, c.env, out, c.want)
	case c.wantErr != "" && err == nil:
		t.Errorf("%s %v: connected (%q), want an error containing %q", c.role, c.env, out, c.wantErr)
	case c.wantErr != "" && !strings.Contains(errOut, c.wantErr):
		t.Errorf("%s %v: error %q does not contain %q", c.role, c.env, errOut, c.wantErr)
	}
}

// hbaEncryption returns how a server of major version major ends its
// "pg_hba.conf rejects connection" message for a connection without and
// with TLS. PostgreSQL 14 changed "SSL off" / "SSL on" to "no encryption"
// / "SSL encryption" (as it also names GSSAPI encryption there).
func hbaEncryption(major int) (none, ssl string) {
	if major < 14 {
		return "SSL off", "SSL on"
	}
	return "no encryption", "SSL encryption"
}

func TestTLSLogin(t *testing.T) {
	s := pgtest.RequireTLS(t)
	f := s.TLS
	if f == nil {
		t.Fatal("TLS server has nil TLS")
	}
	const (
		local = "localhost"
		ip    = "127.0.0.1"
	)
	var (
		fullCA      = []string{"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + f.CACert}
		client      = []string{"PGSSLCERT=" + f.ClientCert, "PGSSLKEY=" + f.ClientKey}
		wrongClient = []string{"PGSSLCERT=" + f.WrongClientCert, "PGSSLKEY=" + f.WrongClientKey}
		mode        = func(m string, more ...string) []string { return append([]string{"PGSSLMODE=" + m}, more...) }
	)
	noEncryption, sslEncryption := hbaEncryption(s.Major)
	reject := func(encryption, role string) string {
		return `rejects connection for host "127.0.0.1", user "` + role + `", database "fraise_test", ` + encryption
	}
	tests := []loginCase{
		// Server certificate verification.
		{"verify-full localhost", local, pgtest.Superuser, fullCA, "fraise_super|t", ""},
		{"verify-full ip", ip, pgtest.Superuser, fullCA, "", `does not match host name "127.0.0.1"`},
		{"verify-ca ip", ip, pgtest.Superuser, mode("verify-ca", "PGSSLROOTCERT="+f.CACert), "fraise_super|t", ""},
		{"verify-ca wrong CA", local, pgtest.Superuser, mode("verify-ca", "PGSSLROOTCERT="+f.WrongCACert), "", "certificate verify failed"},
		{"verify-full wrong CA", local, pgtest.Superuser, mode("verify-full", "PGSSLROOTCERT="+f.WrongCACert), "", "certificate verify failed"},
		{"require", ip, pgtest.Superuser, mode("require"), "fraise_super|t", ""},
		{"disable", ip, pgtest.Superuser, mode("disable"), "fraise_super|f", ""},

		// RoleTLSOnly: hostssl scram-sha-256, hostnossl reject.
		{"tls-only disable", ip, pgtest.RoleTLSOnly, mode("disable"), "", reject(noEncryption, pgtest.RoleTLSOnly)},
		{"tls-only allow", ip, pgtest.RoleTLSOnly, mode("allow"), "fraise_tls_only|t", ""},
		{"tls-only prefer", ip, pgtest.RoleTLSOnly, mode("prefer"), "fraise_tls_only|t", ""},
		{"tls-only require", ip, pgtest.RoleTLSOnly, mode("require"), "fraise_tls_only|t", ""},
		{"tls-only verify-full", local, pgtest.RoleTLSOnly, fullCA, "fraise_tls_only|t", ""},
		{"tls-only wrong password", ip, pgtest.RoleTLSOnly, mode("require", "PGPASSWORD=nope"), "", `password authentication failed for user "fraise_tls_only"`},
		{"tls-only socket", "", pgtest.RoleTLSOnly, nil, "", "pg_hba.conf rejects connection"},

		// RoleNoTLS: hostssl reject, hostnossl scram-sha-256.
		{"no-tls require", ip, pgtest.RoleNoTLS, mode("require"), "", reject(sslEncryption, pgtest.RoleNoTLS)},
		{"no-tls verify-full", local, pgtest.RoleNoTLS, fullCA, "", sslEncryption},
		{"no-tls disable", ip, pgtest.RoleNoTLS, mode("disable"), "fraise_no_tls|f", ""},
		{"no-tls prefer falls back", ip, pgtest.RoleNoTLS, mode("prefer"), "fraise_no_tls|f", ""},
		{"no-tls allow", ip, pgtest.RoleNoTLS, mode("allow"), "fraise_no_tls|f", ""},
		{"no-tls wrong password", ip, pgtest.RoleNoTLS, mode("disable", "PGPASSWORD=nope"), "", `password authentication failed for user "fraise_no_tls"`},
		{"no-tls socket", "", pgtest.RoleNoTLS, nil, "fraise_no_tls|f", ""},

		// RoleCert: hostssl cert, hostnossl reject.
		{"cert verify-full", local, pgtest.RoleCert, append(slices.Clone(fullCA), client...), "fraise_cert|t", ""},
		{"cert require", ip, pgtest.RoleCert, mode("require", client...), "fraise_cert|t", ""},
		{"cert signed by wrong CA", ip, pgtest.RoleCert, mode("require", wrongClient...), "", "alert unknown ca"},
		{"cert missing", ip, pgtest.RoleCert, mode("require"), "", `connection requires a valid client certificate`},
		{"cert disable", ip, pgtest.RoleCert, mode("disable", client...), "", reject(noEncryption, pgtest.RoleCert)},
		{"cert socket", "", pgtest.RoleCert, nil, "", "pg_hba.conf rejects connection"},
		// A certificate for RoleCert does not log in another role.
		{"cert for another role", ip, pgtest.RoleSCRAM, mode("require", append(client, "PGPASSWORD=nope")...), "", "password authentication failed"},
	}
	// The per-method roles log in over TCP with and without TLS.
	for _, role := range []string{pgtest.RoleTrust, pgtest.RolePassword, pgtest.RoleMD5, pgtest.RoleSCRAM} {
		tests = append(tests,
			loginCase{role + " require", ip, role, mode("require"), role + "|t", ""},
			loginCase{role + " disable", ip, role, mode("disable"), role + "|f", ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, s)
		})
	}
}

// TestNoTLSLogin checks the TLS-dependent roles on a cluster without TLS.
func TestNoTLSLogin(t *testing.T) {
	s := pgtest.Require(t)
	if s.TLS != nil {
		t.Errorf("TLS = %+v on the server without TLS", s.TLS)
	}
	mode := func(m string) []string { return []string{"PGSSLMODE=" + m} }
	noEncryption, _ := hbaEncryption(s.Major)
	tests := []loginCase{
		{"require", "127.0.0.1", pgtest.Superuser, mode("require"), "", "server does not support SSL"},
		{"prefer", "127.0.0.1", pgtest.Superuser, mode("prefer"), "fraise_super|f", ""},
		{"tls-only prefer", "127.0.0.1", pgtest.RoleTLSOnly, mode("prefer"), "", noEncryption},
		{"no-tls prefer", "127.0.0.1", pgtest.RoleNoTLS, mode("prefer"), "fraise_no_tls|f", ""},
		{"no-tls socket", "", pgtest.RoleNoTLS, nil, "fraise_no_tls|f", ""},
		{"cert disable", "127.0.0.1", pgtest.RoleCert, mode("disable"), "", noEncryption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, s)
		})
	}
}

func TestSharedTLS(t *testing.T) {
	s := pgtest.RequireTLS(t)
	if s2 := pgtest.RequireTLS(t); s2 != s {
		t.Error("RequireTLS returned a different server the second time")
	}
	if s3, err := pgtest.SharedTLS(context.Background()); s3 != s || err != nil {
		t.Errorf("SharedTLS = %p, %v; want %p", s3, err, s)
	}
	if pgtest.Require(t) == s {
		t.Error("Require and RequireTLS returned the same server")
	}
	out, err := s.Psql(context.Background(), `SELECT current_setting('ssl'), current_setting('ssl_ca_file'), count(*) FROM v_user`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "on|" + s.TLS.CACert + "|20\n"; out != want {
		t.Errorf("ssl, ssl_ca_file and fixtures: %q, want %q", out, want)
	}
	// psql runs with HOME=Dir: no default certificates may lurk there.
	if _, err := os.Stat(filepath.Join(s.Dir, ".postgresql")); !os.IsNotExist(err) {
		t.Errorf("%s/.postgresql exists: %v", s.Dir, err)
	}
}

func TestTLSFiles(t *testing.T) {
	s := pgtest.RequireTLS(t)
	f := s.TLS
	tlsDir := filepath.Join(s.Dir, "tls")
	if fi, err := os.Stat(tlsDir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("%s: %v, %v; want a directory with mode 0755", tlsDir, fi.Mode(), err)
	}
	for _, p := range []string{f.CACert, f.WrongCACert, f.ClientCert, f.ClientKey, f.WrongClientCert, f.WrongClientKey} {
		if filepath.Dir(p) != tlsDir {
			t.Errorf("%s is not in %s", p, tlsDir)
		}
	}
	if b, err := os.ReadFile(f.CACert); err != nil || !bytes.Equal(b, f.CAPEM) {
		t.Errorf("CAPEM differs from %s (%v)", f.CACert, err)
	}
	dataOwner := owner(t, s.DataDir)
	for _, k := range []struct {
		path string
		uid  uint32
	}{
		{f.ClientKey, uint32(os.Geteuid())},
		{f.WrongClientKey, uint32(os.Geteuid())},
		{filepath.Join(s.DataDir, "server.key"), dataOwner},
		{filepath.Join(s.DataDir, "server.crt"), dataOwner},
	} {
		fi, err := os.Stat(k.path)
		if err != nil {
			t.Fatal(err)
		}
		if uid := owner(t, k.path); uid != k.uid {
			t.Errorf("%s is owned by uid %d, want %d", k.path, uid, k.uid)
		}
		if strings.HasSuffix(k.path, ".key") && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", k.path, fi.Mode())
		}
	}

	ca, wrongCA := readCert(t, f.CACert), readCert(t, f.WrongCACert)
	srv := readCert(t, filepath.Join(s.DataDir, "server.crt"))
	client, wrongClient := readCert(t, f.ClientCert), readCert(t, f.WrongClientCert)
	for _, c := range []struct {
		cert *x509.Certificate
		cn   string
		ca   bool
	}{
		{ca, "fraise pgtest CA", true},
		{wrongCA, "fraise pgtest wrong CA", true},
		{srv, "localhost", false},
		{client, pgtest.RoleCert, false},
		{wrongClient, pgtest.RoleCert, false},
	} {
		if c.cert.Subject.CommonName != c.cn || c.cert.IsCA != c.ca {
			t.Errorf("certificate %q (CA %v), want %q (CA %v)", c.cert.Subject.CommonName, c.cert.IsCA, c.cn, c.ca)
		}
		if c.cert.SignatureAlgorithm != x509.ECDSAWithSHA256 {
			t.Errorf("%s: signature algorithm %v", c.cn, c.cert.SignatureAlgorithm)
		}
		if pub, ok := c.cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s: public key %T, want ECDSA P-256", c.cn, c.cert.PublicKey)
		}
		if d := time.Until(c.cert.NotBefore) + time.Hour; d < -10*time.Minute || d > time.Minute {
			t.Errorf("%s: NotBefore %v, want about an hour ago", c.cn, c.cert.NotBefore)
		}
		if d := time.Until(c.cert.NotAfter) - 24*time.Hour; d < -10*time.Minute || d > time.Minute {
			t.Errorf("%s: NotAfter %v, want in about 24 hours", c.cn, c.cert.NotAfter)
		}
	}
	if !slices.Equal(srv.DNSNames, []string{"localhost"}) || len(srv.IPAddresses) != 0 {
		t.Errorf("server certificate names %v and %v, want DNS:localhost only", srv.DNSNames, srv.IPAddresses)
	}

	pool := func(c *x509.Certificate) *x509.CertPool {
		p := x509.NewCertPool()
		p.AddCert(c)
		return p
	}
	goodPool := x509.NewCertPool()
	if !goodPool.AppendCertsFromPEM(f.CAPEM) {
		t.Fatal("CAPEM holds no certificate")
	}
	verify := []struct {
		name   string
		cert   *x509.Certificate
		opts   x509.VerifyOptions
		wantOK bool
	}{
		{"server for localhost", srv, x509.VerifyOptions{Roots: goodPool, DNSName: "localhost"}, true},
		{"server for 127.0.0.1", srv, x509.VerifyOptions{Roots: goodPool, DNSName: "127.0.0.1"}, false},
		{"server as a client", srv, x509.VerifyOptions{Roots: goodPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, false},
		{"server by wrong CA", srv, x509.VerifyOptions{Roots: pool(wrongCA)}, false},
		{"client", client, x509.VerifyOptions{Roots: pool(ca), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, true},
		{"client as a server", client, x509.VerifyOptions{Roots: pool(ca)}, false},
		{"wrong client by CA", wrongClient, x509.VerifyOptions{Roots: pool(ca), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, false},
		{"wrong client by wrong CA", wrongClient, x509.VerifyOptions{Roots: pool(wrongCA), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, true},
	}
	for _, v := range verify {
		if _, err := v.cert.Verify(v.opts); (err == nil) != v.wantOK {
			t.Errorf("%s: Verify error %v, want success %v", v.name, err, v.wantOK)
		}
	}

	for _, k := range []struct {
		path string
		cert *x509.Certificate
	}{
		{f.ClientKey, client},
		{f.WrongClientKey, wrongClient},
		{filepath.Join(s.DataDir, "server.key"), srv},
	} {
		block := readPEM(t, k.path, "PRIVATE KEY")
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", k.path, err)
		}
		if ec, ok := key.(*ecdsa.PrivateKey); !ok || !ec.PublicKey.Equal(k.cert.PublicKey) {
			t.Errorf("%s does not hold the key of %s", k.path, k.cert.Subject.CommonName)
		}
	}
}

// TestKeptDirTLS checks that starting a kept cluster again generates new
// certificates, which the server then uses.
func TestKeptDirTLS(t *testing.T) {
	pgtest.Require(t) // skips or fails as the shared server would
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := keptTestDir(t)

	s, err := pgtest.Start(ctx, pgtest.Options{NoFixtures: true, Dir: dir, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	oldCA := filepath.Join(filepath.Dir(dir), "old-ca.crt")
	if err := os.WriteFile(oldCA, s.TLS.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := pgtest.Start(ctx, pgtest.Options{NoFixtures: true, Dir: dir, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if bytes.Equal(s2.TLS.CAPEM, s.TLS.CAPEM) {
		t.Error("the second start kept the CA of the first")
	}
	for _, c := range []loginCase{
		{"new CA", "localhost", pgtest.Superuser, []string{"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + s2.TLS.CACert}, "fraise_super|t", ""},
		{"old CA", "localhost", pgtest.Superuser, []string{"PGSSLMODE=verify-full", "PGSSLROOTCERT=" + oldCA}, "", "certificate verify failed"},
		{"new client certificate", "127.0.0.1", pgtest.RoleCert, []string{"PGSSLMODE=require", "PGSSLCERT=" + s2.TLS.ClientCert, "PGSSLKEY=" + s2.TLS.ClientKey}, "fraise_cert|t", ""},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, s2) })
	}
}

// readPEM returns the single PEM block of path, which must be of type typ.
func readPEM(t *testing.T, path, typ string) *pem.Block {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != typ || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("%s: want exactly one PEM block of type %q", path, typ)
	}
	return block
}

// readCert parses the PEM certificate in path.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(readPEM(t, path, "CERTIFICATE").Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}
