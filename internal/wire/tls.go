// TLS client set-up with libpq's rules (fe-secure-openssl.c and
// fe-secure-common.c): which roots are trusted, when the chain is verified,
// how the host name is matched, and which client keys are acceptable.

package wire

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// CertError reports a server certificate that failed verification.
type CertError struct {
	// Reason says what is wrong with the certificate.
	Reason string
	// Err is the underlying verification error, if any.
	Err error
}

func (e *CertError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the underlying error.
func (e *CertError) Unwrap() error { return e.Err }

// tlsProbe records what happened during one handshake, for the checks
// made after it (sslcertmode=require).
type tlsProbe struct {
	certRequested bool // the server asked for a client certificate
	certSent      bool // and we had one to send
	keyLog        io.Closer
}

func (p *tlsProbe) close() {
	if p != nil && p.keyLog != nil {
		_ = p.keyLog.Close()
		p.keyLog = nil
	}
}

// tlsFiles is what the TLS settings' files hold, read once per Connect:
// the trusted roots (nil: no verification), the revocation lists and the
// client certificate (nil: none).
type tlsFiles struct {
	roots    *x509.CertPool
	crls     []*x509.RevocationList
	crlCheck bool // revocation is checked (see loadCRLs)
	cert     *tls.Certificate
}

// loadTLSFiles reads the files the TLS settings name. Its errors are
// *ConfigError: the same for every host, found before any network
// activity.
func loadTLSFiles(t TLSConfig) (*tlsFiles, error) {
	f := &tlsFiles{}
	var err error
	if f.roots, err = loadRoots(t); err != nil {
		return nil, err
	}
	if f.roots != nil && t.RootCert != RootCertSystem { // libpq loads no lists with the system roots
		if f.crls, f.crlCheck, err = loadCRLs(t.CRL, t.CRLDir); err != nil {
			return nil, err
		}
	}
	if t.Mode != SSLDisable && t.CertMode != "disable" {
		if f.cert, err = loadClientCert(t); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// tlsClientConfig builds the crypto/tls configuration for connecting to h.
// Verification is ours (VerifyConnection), so that verify-ca can skip the
// host name and the name check can follow libpq.
func tlsClientConfig(t TLSConfig, files *tlsFiles, h Host) (*tls.Config, *tlsProbe, error) {
	probe := &tlsProbe{}
	tc := &tls.Config{
		MinVersion:         t.MinVersion,
		MaxVersion:         t.MaxVersion,
		InsecureSkipVerify: true, // verified in VerifyConnection below
		NextProtos:         []string{"postgresql"},
	}
	if t.SNI && h.Name != "" && net.ParseIP(h.Name) == nil && !strings.HasPrefix(h.Name, "/") {
		tc.ServerName = h.Name
	}
	if t.Mode == SSLVerifyFull && h.Name == "" {
		return nil, nil, &ConfigError{Keyword: "host", Err: errors.New("host name must be specified for a verified SSL connection (sslmode=verify-full checks the server certificate against host, not hostaddr)")}
	}
	roots, fullCheck := files.roots, t.Mode == SSLVerifyFull
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if roots == nil {
			return nil // nothing to verify against: sslmode require or weaker without a root file
		}
		if err := verifyChain(cs.PeerCertificates, roots, files); err != nil {
			return err
		}
		if fullCheck {
			return verifyHostName(cs.PeerCertificates[0], h.Name)
		}
		return nil
	}
	if t.CertMode != "disable" {
		cert := files.cert
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			probe.certRequested = true
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			probe.certSent = true
			return cert, nil
		}
	}
	if t.KeyLogFile != "" {
		f, err := os.OpenFile(t.KeyLogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, &ConfigError{Keyword: "sslkeylogfile", Err: fmt.Errorf("could not open SSL key log file %q: %w", t.KeyLogFile, err)}
		}
		tc.KeyLogWriter, probe.keyLog = f, f
	}
	return tc, probe, nil
}

// loadRoots returns the trusted roots, or nil when the chain is not to be
// verified: libpq verifies whenever the root file exists, and demands it
// for verify-ca and verify-full.
func loadRoots(t TLSConfig) (*x509.CertPool, error) {
	if t.Mode == SSLDisable {
		return nil, nil
	}
	if t.RootCert == RootCertSystem {
		pool, err := x509.SystemCertPool()
		if err != nil {
			return nil, &ConfigError{Keyword: "sslrootcert", Err: fmt.Errorf("could not load the system's trusted root certificates (sslrootcert=system): %w", err)}
		}
		return pool, nil
	}
	if t.RootCert == "" {
		if t.Verifies() {
			return nil, &ConfigError{Keyword: "sslrootcert", Err: fmt.Errorf("could not get home directory to locate root certificate file; set sslrootcert, or change sslmode (%s, from %s) to disable server certificate verification", t.Mode, t.origin("sslmode"))}
		}
		return nil, nil
	}
	data, err := readTLSFile(t.RootCert, "root certificate file", "sslrootcert", pgconf.MaxCertificateFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		if t.Verifies() {
			return nil, &ConfigError{Keyword: "sslrootcert", Err: fmt.Errorf("root certificate file %q does not exist (sslmode=%s from %s); provide the file, use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification",
				t.RootCert, t.Mode, t.origin("sslmode"))}
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, &ConfigError{Keyword: "sslrootcert", Err: fmt.Errorf("could not read root certificate file %q: no PEM certificate in it", t.RootCert)}
	}
	return pool, nil
}

// verifyChain checks the server's chain against roots, and against the
// revocation lists when there are any.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, files *tlsFiles) error {
	if len(certs) == 0 {
		return &CertError{Reason: "server sent no certificate"}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	if err != nil {
		return &CertError{Reason: "server certificate verification failed", Err: err}
	}
	if files.crlCheck {
		return checkRevocation(chains[0], files.crls)
	}
	return nil
}

// verifyHostName matches the leaf certificate against host as libpq does:
// subjectAltName dNSName entries (a leading "*." matches one label) and
// iPAddress entries; the Common Name only when there is no SAN of the
// host's kind (dNSName for a name, iPAddress for an address literal).
func verifyHostName(leaf *x509.Certificate, host string) error {
	ip := net.ParseIP(host)
	var names []string
	checkCN := true
	for _, n := range leaf.DNSNames {
		if strings.IndexByte(n, 0) >= 0 {
			return &CertError{Reason: "SSL certificate's name contains embedded null"}
		}
		names = append(names, n)
		if nameMatches(n, host) {
			return nil
		}
		if ip == nil {
			checkCN = false
		}
	}
	for _, a := range leaf.IPAddresses {
		names = append(names, a.String())
		if ip != nil && a.Equal(ip) {
			return nil
		}
		if ip != nil {
			checkCN = false
		}
	}
	if cn := leaf.Subject.CommonName; checkCN && cn != "" {
		names = append(names, cn)
		if nameMatches(cn, host) {
			return nil
		}
	}
	switch len(names) {
	case 0:
		return &CertError{Reason: "could not get server's host name from server certificate"}
	case 1:
		return &CertError{Reason: fmt.Sprintf("server certificate for %q does not match host name %q", names[0], host)}
	case 2:
		return &CertError{Reason: fmt.Sprintf("server certificate for %q (and 1 other name) does not match host name %q", names[0], host)}
	default:
		return &CertError{Reason: fmt.Sprintf("server certificate for %q (and %d other names) does not match host name %q", names[0], len(names)-1, host)}
	}
}

// nameMatches is libpq's comparison of a certificate name with the host:
// case-insensitive, and "*.rest" matches exactly one leading label.
func nameMatches(pattern, host string) bool {
	if strings.EqualFold(pattern, host) {
		return true
	}
	if len(pattern) < 3 || !strings.HasPrefix(pattern, "*.") || len(pattern) > len(host) {
		return false
	}
	suffix := host[len(host)-len(pattern)+1:]
	if !strings.EqualFold(pattern[1:], suffix) {
		return false
	}
	return !strings.Contains(host[:len(host)-len(pattern)+1], ".")
}

// loadClientCert loads sslcert and sslkey. A missing certificate file means
// no client certificate, as in libpq; a certificate without its key, or a
// key that others can read, is an error.
func loadClientCert(t TLSConfig) (*tls.Certificate, error) {
	if t.Cert == "" {
		return nil, nil
	}
	certPEM, err := readTLSFile(t.Cert, "certificate file", "sslcert", pgconf.MaxCertificateFileSize)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	keyPEM, err := readPrivateKey(t.Key)
	if err != nil {
		return nil, err
	}
	if block, _ := pem.Decode(keyPEM); block != nil && (block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] == "4,ENCRYPTED") {
		return nil, &ConfigError{Keyword: "sslkey", Err: fmt.Errorf("private key file %q is encrypted, which fraise does not support (sslpassword); decrypt a copy with \"openssl pkey -in %s -out <file>\" and set sslkey to it, mode 0600", t.Key, t.Key)}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &ConfigError{Keyword: "sslkey", Err: fmt.Errorf("could not load client certificate %q with private key %q: %w", t.Cert, t.Key, err)}
	}
	return &cert, nil
}
