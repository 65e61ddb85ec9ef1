// Reading TLS files: the private key's permission rule and certificate
// revocation lists, as libpq applies them.

package wire

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// readTLSFile reads a file a TLS setting names (see pgconf.ReadFile): its
// errors are *ConfigError for keyword.
func readTLSFile(path, what, keyword string, limit int64) ([]byte, error) {
	data, _, err := readTLSFileInfo(path, what, keyword, limit)
	return data, err
}

// readTLSFileInfo is readTLSFile that also returns what fstat(2) says of
// the file read.
func readTLSFileInfo(path, what, keyword string, limit int64) ([]byte, fs.FileInfo, error) {
	data, fi, err := pgconf.ReadFile(path, pgconf.FileUse{What: what, Setting: keyword, Limit: limit})
	if err != nil {
		return nil, nil, &ConfigError{Keyword: keyword, Err: err}
	}
	return data, fi, nil
}

// readPrivateKey reads sslkey after libpq's checks: a regular file that
// neither group nor others can read when the current user owns it (0600 or
// less), or at most group-readable (0640) when root owns it.
func readPrivateKey(path string) ([]byte, error) {
	if path == "" {
		return nil, &ConfigError{Keyword: "sslkey", Err: errors.New("certificate present, but no private key file is configured; set sslkey")}
	}
	data, fi, err := readTLSFileInfo(path, "private key file", "sslkey", pgconf.MaxCertificateFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &ConfigError{Keyword: "sslkey", Err: fmt.Errorf("certificate present, but not private key file %q; set sslkey to the key of sslcert", path)}
	}
	if err != nil {
		return nil, err
	}
	if uid, ok := fileOwner(fi); ok {
		// A root-owned key may be group-readable (a system-managed
		// key); any other may not be readable by group or others.
		perm := uint32(fi.Mode().Perm())
		bad := perm&0o077 != 0
		if uid == 0 {
			bad = perm&0o037 != 0
		}
		if bad {
			return nil, &ConfigError{Keyword: "sslkey", Err: fmt.Errorf("private key file %q has group or world access (mode %04o); file must have permissions u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) or less if owned by root; fix it with: chmod 600 %s",
				path, perm, path)}
		}
	}
	return data, nil
}

// loadCRLs reads the revocation lists of sslcrl (a file of PEM or DER
// lists) and sslcrldir (every file in the directory). A missing sslcrl file
// is ignored, as in libpq; unreadable or malformed ones are errors. The
// result says whether revocation is to be checked: when a list was loaded,
// or whenever sslcrldir is set, as OpenSSL's directory lookup then demands
// a list for every certificate (it fails closed).
func loadCRLs(file, dir string) ([]*x509.RevocationList, bool, error) {
	var out []*x509.RevocationList
	add := func(path, keyword string) error {
		data, err := readTLSFile(path, "certificate revocation list", keyword, pgconf.MaxCRLFileSize)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		lists, err := parseCRLs(data)
		if err != nil {
			return &ConfigError{Keyword: keyword, Err: fmt.Errorf("could not parse certificate revocation list %q: %w", path, err)}
		}
		out = append(out, lists...)
		return nil
	}
	if file != "" {
		if err := add(file, "sslcrl"); err != nil {
			return nil, false, err
		}
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false, &ConfigError{Keyword: "sslcrldir", Err: fmt.Errorf("could not read certificate revocation list directory %q: %w", dir, err)}
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			// Stat follows symbolic links: openssl rehash and mounted
			// secrets are made of them.
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				if err := add(path, "sslcrldir"); err != nil {
					return nil, false, err
				}
			}
		}
	}
	return out, len(out) > 0 || dir != "", nil
}

func parseCRLs(data []byte) ([]*x509.RevocationList, error) {
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		l, err := x509.ParseRevocationList(data)
		if err != nil {
			return nil, err
		}
		return []*x509.RevocationList{l}, nil
	}
	var out []*x509.RevocationList
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return out, nil
		}
		if block.Type != "X509 CRL" {
			continue
		}
		l, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
}

// checkRevocation applies the lists to every certificate of the verified
// chain but its root, as OpenSSL does with X509_V_FLAG_CRL_CHECK_ALL (which
// libpq sets): each needs a current list from its issuer, and no list from
// its issuer may revoke it.
func checkRevocation(chain []*x509.Certificate, crls []*x509.RevocationList) error {
	now := time.Now()
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		var current, expired bool
		var due time.Time
		for _, l := range crls {
			if !bytes.Equal(l.RawIssuer, cert.RawIssuer) || l.CheckSignatureFrom(issuer) != nil {
				continue
			}
			for _, r := range l.RevokedCertificateEntries {
				if r.SerialNumber != nil && r.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return &CertError{Reason: fmt.Sprintf("server certificate verification failed: certificate revoked (%q, serial %s)", cert.Subject, cert.SerialNumber)}
				}
			}
			if l.NextUpdate.IsZero() || !now.After(l.NextUpdate) {
				current = true
			} else {
				expired, due = true, l.NextUpdate
			}
		}
		switch {
		case current:
		case expired:
			return &CertError{Reason: fmt.Sprintf("server certificate verification failed: CRL has expired (issuer %q, next update was due %s)", cert.Issuer, due.Format(time.RFC3339))}
		default:
			return &CertError{Reason: fmt.Sprintf("server certificate verification failed: unable to get certificate CRL for %q (issuer %q); add the issuer's list to sslcrl or sslcrldir", cert.Subject, cert.Issuer)}
		}
	}
	return nil
}
