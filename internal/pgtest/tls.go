package pgtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// TLSFiles are the client-side files of a cluster started with
// Options.TLS, all in the directory "tls" inside Server.Dir. Start
// generates every certificate and key afresh, so they are only valid for
// one run. The server's certificate names only the host "localhost" (no IP
// address), so sslmode=verify-full succeeds with host=localhost and fails
// with host=127.0.0.1.
type TLSFiles struct {
	// CACert is the PEM certificate of the CA ("fraise pgtest CA") that
	// signed the server's and the client's certificates; the server trusts
	// it for client certificates too. Use it as sslrootcert.
	CACert string
	// WrongCACert is the PEM certificate of an unrelated CA ("fraise pgtest
	// wrong CA") that signed nothing the server uses, for tests that
	// expect certificate verification to fail.
	WrongCACert string
	// ClientCert is a client certificate (PEM) for RoleCert, signed by the
	// CA; use it as sslcert, with ClientKey as sslkey.
	ClientCert string
	// ClientKey is the PKCS#8 PEM private key of ClientCert, mode 0600 and
	// owned by the current process's user, as libpq requires.
	ClientKey string
	// WrongClientCert is a client certificate for RoleCert signed by the
	// wrong CA, which the server rejects.
	WrongClientCert string
	// WrongClientKey is the private key of WrongClientCert, mode 0600.
	WrongClientKey string
	// CAPEM is the content of CACert, for building an x509.CertPool.
	CAPEM []byte
}

// TLSServerName is the only host name in the server's certificate of a
// cluster started with Options.TLS.
const TLSServerName = "localhost"

// tlsDirName is the directory, inside Dir, of the client-side TLS files.
const tlsDirName = "tls"

// certValidity is how long generated certificates are valid from now;
// they become valid an hour ago, to allow for clock skew.
const certValidity = 24 * time.Hour

// issuer is a certificate together with its private key.
type issuer struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// writeTLS generates a fresh set of certificates and keys: the server's
// into DataDir, owned by the cluster's owner, and the client-side ones
// into Dir/tls, owned by the current user. It sets s.TLS.
func (s *Server) writeTLS() error {
	ca, err := newCert("fraise pgtest CA", nil, nil, 0)
	if err != nil {
		return err
	}
	wrongCA, err := newCert("fraise pgtest wrong CA", nil, nil, 0)
	if err != nil {
		return err
	}
	srv, err := newCert(TLSServerName, []string{TLSServerName}, ca, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return err
	}
	client, err := newCert(RoleCert, nil, ca, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return err
	}
	wrongClient, err := newCert(RoleCert, nil, wrongCA, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return err
	}

	dir := filepath.Join(s.Dir, tlsDirName)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		return fmt.Errorf("pgtest: %w", err)
	}
	files := &TLSFiles{
		CACert:          filepath.Join(dir, "ca.crt"),
		WrongCACert:     filepath.Join(dir, "wrong-ca.crt"),
		ClientCert:      filepath.Join(dir, "client.crt"),
		ClientKey:       filepath.Join(dir, "client.key"),
		WrongClientCert: filepath.Join(dir, "wrong-client.crt"),
		WrongClientKey:  filepath.Join(dir, "wrong-client.key"),
		CAPEM:           certPEM(ca),
	}
	srvKey, err := keyPEM(srv)
	if err != nil {
		return err
	}
	clientKey, err := keyPEM(client)
	if err != nil {
		return err
	}
	wrongClientKey, err := keyPEM(wrongClient)
	if err != nil {
		return err
	}
	writes := []struct {
		path string
		data []byte
		perm os.FileMode
		cred *credential
	}{
		{filepath.Join(s.DataDir, "server.crt"), certPEM(srv), 0o644, s.cred},
		{filepath.Join(s.DataDir, "server.key"), srvKey, 0o600, s.cred},
		{files.CACert, files.CAPEM, 0o644, nil},
		{files.WrongCACert, certPEM(wrongCA), 0o644, nil},
		{files.ClientCert, certPEM(client), 0o644, nil},
		{files.ClientKey, clientKey, 0o600, nil},
		{files.WrongClientCert, certPEM(wrongClient), 0o644, nil},
		{files.WrongClientKey, wrongClientKey, 0o600, nil},
	}
	for _, w := range writes {
		if err := writeFileAs(w.path, w.data, w.perm, w.cred); err != nil {
			return err
		}
	}
	s.TLS = files
	return nil
}

// tlsSettings returns the postgresql.conf settings that switch TLS on, or
// none when the cluster does not use it.
func (s *Server) tlsSettings() [][2]string {
	if s.TLS == nil {
		return nil
	}
	return [][2]string{
		{"ssl", "on"},
		{"ssl_cert_file", filepath.Join(s.DataDir, "server.crt")},
		{"ssl_key_file", filepath.Join(s.DataDir, "server.key")},
		{"ssl_ca_file", s.TLS.CACert},
	}
}

// newCert creates a P-256 key and a certificate for it, valid from an hour
// ago for certValidity. With a nil parent it is a self-signed CA;
// otherwise parent signs it for usage, naming dnsNames (if any) as its
// subject alternative names.
func newCert(cn string, dnsNames []string, parent *issuer, usage x509.ExtKeyUsage) (*issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pgtest: generating a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("pgtest: generating a serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
		BasicConstraintsValid: true,
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA = true
		tmpl.MaxPathLenZero = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
		tmpl.DNSNames = dnsNames
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, fmt.Errorf("pgtest: creating certificate %q: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pgtest: parsing certificate %q: %w", cn, err)
	}
	return &issuer{cert: cert, der: der, key: key}, nil
}

// certPEM returns the PEM encoding of c's certificate.
func certPEM(c *issuer) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.der})
}

// keyPEM returns the PKCS#8 PEM encoding of c's private key.
func keyPEM(c *issuer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.key)
	if err != nil {
		return nil, fmt.Errorf("pgtest: encoding a key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// writeFileAs replaces path with a new file holding data, with exactly
// perm and owned by cred's user (nil: the current user). Removing first
// makes perm and owner apply even when an earlier run left the file.
func writeFileAs(path string, data []byte, perm os.FileMode, cred *credential) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pgtest: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(path, perm)
	}
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return chownTo(path, cred)
}
