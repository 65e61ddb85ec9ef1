// TLS settings with libpq's semantics: PostgreSQL documentation 34.19 "SSL
// Support" and the sslmode, sslnegotiation, sslrootcert, sslcert, sslkey,
// sslcertmode, sslcrl, sslcrldir, sslsni, sslkeylogfile and
// ssl_{min,max}_protocol_version keywords of 34.1.2.

package wire

import (
	"crypto/tls"
	"fmt"
	"path/filepath"
	"strings"
)

// The sslmode values, weakest first.
const (
	SSLDisable    = "disable"
	SSLAllow      = "allow"
	SSLPrefer     = "prefer"
	SSLRequire    = "require"
	SSLVerifyCA   = "verify-ca"
	SSLVerifyFull = "verify-full"
)

// RootCertSystem is the sslrootcert value that selects the operating
// system's trusted roots.
const RootCertSystem = "system"

// TLSConfig is the TLS part of the connection settings.
type TLSConfig struct {
	// Mode is the sslmode: disable, allow, prefer (the default), require,
	// verify-ca or verify-full.
	Mode string
	// Direct starts the TLS handshake at once, without an SSLRequest
	// (sslnegotiation=direct, PostgreSQL 17 servers and later).
	Direct bool
	// RootCert is the file of trusted certificate authorities, or
	// RootCertSystem. When the file exists, the server's certificate chain
	// is verified whatever the Mode, as libpq does.
	RootCert string
	// Cert and Key are the client certificate and its private key, sent
	// when the server asks for one and Cert exists.
	Cert, Key string
	// CertMode is sslcertmode: allow (the default), disable or require.
	CertMode string
	// CRL and CRLDir are certificate revocation lists consulted when the
	// chain is verified; missing files are ignored, as in libpq.
	CRL, CRLDir string
	// SNI sends the host name in the handshake (sslsni, default on).
	SNI bool
	// MinVersion and MaxVersion bound the TLS version (crypto/tls
	// constants); MaxVersion 0 means the newest.
	MinVersion, MaxVersion uint16
	// KeyLogFile, when set, receives the session keys in NSS key log
	// format (sslkeylogfile), for debugging with a packet capture.
	KeyLogFile string

	// from names where each setting came from, for messages.
	from map[string]string
}

// Verifies reports whether the mode demands a verified server certificate.
func (t TLSConfig) Verifies() bool { return t.Mode == SSLVerifyCA || t.Mode == SSLVerifyFull }

// Requires reports whether the mode refuses an unencrypted connection.
func (t TLSConfig) Requires() bool { return t.Mode == SSLRequire || t.Verifies() }

// origin names where keyword k was set.
func (t TLSConfig) origin(k string) string {
	if f := t.from[k]; f != "" {
		return f
	}
	return "the default"
}

var tlsVersions = map[string]uint16{
	"tlsv1": tls.VersionTLS10, "tlsv1.1": tls.VersionTLS11,
	"tlsv1.2": tls.VersionTLS12, "tlsv1.3": tls.VersionTLS13,
}

// parseTLS reads the TLS keywords: sslmode and its rules, the files with
// libpq's defaults under ~/.postgresql, sslnegotiation, sslcertmode,
// sslsni and the protocol versions.
func parseTLS(st settings, home string) (TLSConfig, error) {
	t := TLSConfig{from: map[string]string{}}
	for _, k := range []string{"sslmode", "sslnegotiation", "sslrootcert", "sslcert", "sslkey", "sslcertmode",
		"sslcrl", "sslcrldir", "sslsni", "ssl_min_protocol_version", "ssl_max_protocol_version", "sslkeylogfile"} {
		if st.has(k) {
			t.from[k] = st.from(k)
		}
	}
	var err error
	if t.Mode, err = oneOf(st, "sslmode", SSLPrefer, SSLDisable, SSLAllow, SSLPrefer, SSLRequire, SSLVerifyCA, SSLVerifyFull); err != nil {
		return t, err
	}
	t.setFiles(st, home)
	if t.RootCert == RootCertSystem {
		// libpq: sslrootcert=system implies verify-full and refuses anything weaker.
		if st.get("sslmode") == "" {
			t.Mode = SSLVerifyFull
		} else if t.Mode != SSLVerifyFull {
			return t, &ConfigError{Keyword: "sslmode", Err: fmt.Errorf(`weak sslmode %q (from %s) may not be used with sslrootcert=system (use "verify-full")`, t.Mode, t.origin("sslmode"))}
		}
	}
	neg, err := oneOf(st, "sslnegotiation", "postgres", "postgres", "direct")
	if err != nil {
		return t, err
	}
	if neg == "direct" {
		if !t.Requires() {
			return t, &ConfigError{Keyword: "sslnegotiation", Err: fmt.Errorf(`weak sslmode %q (from %s) may not be used with sslnegotiation=direct (use "require", "verify-ca", or "verify-full")`, t.Mode, t.origin("sslmode"))}
		}
		t.Direct = true
	}
	if t.CertMode, err = oneOf(st, "sslcertmode", "allow", "allow", "disable", "require"); err != nil {
		return t, err
	}
	if t.CertMode == "require" && t.Mode == SSLDisable {
		return t, &ConfigError{Keyword: "sslcertmode", Err: fmt.Errorf(`sslcertmode=require needs TLS, but sslmode is "disable" (from %s)`, t.origin("sslmode"))}
	}
	t.SNI = !st.has("sslsni") || strings.HasPrefix(st.get("sslsni"), "1")
	err = t.setVersions(st)
	return t, err
}

// setFiles sets the certificate, key, CRL and key log files, with libpq's
// defaults in ~/.postgresql for those not set.
func (t *TLSConfig) setFiles(st settings, home string) {
	dir := ""
	if home != "" {
		dir = filepath.Join(home, ".postgresql")
	}
	def := func(k, name string) string {
		if v := st.get(k); v != "" {
			return v
		}
		if dir == "" {
			return ""
		}
		return filepath.Join(dir, name)
	}
	t.RootCert = def("sslrootcert", "root.crt")
	t.Cert = def("sslcert", "postgresql.crt")
	t.Key = def("sslkey", "postgresql.key")
	t.CRLDir = st.get("sslcrldir")
	if t.CRL = st.get("sslcrl"); t.CRL == "" && t.CRLDir == "" && dir != "" {
		t.CRL = filepath.Join(dir, "root.crl") // libpq's default, only when neither is set
	}
	t.KeyLogFile = st.get("sslkeylogfile")
}

// setVersions sets the range of TLS protocol versions, TLS 1.2 and up by
// default.
func (t *TLSConfig) setVersions(st settings) error {
	t.MinVersion = tls.VersionTLS12
	for _, v := range []struct {
		k   string
		dst *uint16
	}{{"ssl_min_protocol_version", &t.MinVersion}, {"ssl_max_protocol_version", &t.MaxVersion}} {
		s := st.get(v.k)
		if s == "" {
			continue
		}
		n, ok := tlsVersions[strings.ToLower(s)]
		if !ok {
			return &ConfigError{Keyword: v.k, Err: fmt.Errorf("invalid %s value: %q (from %s); valid values: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3", v.k, s, t.origin(v.k))}
		}
		*v.dst = n
	}
	if t.MaxVersion != 0 && t.MaxVersion < t.MinVersion {
		return &ConfigError{Keyword: "ssl_max_protocol_version", Err: fmt.Errorf("invalid SSL protocol version range: ssl_min_protocol_version %s is above ssl_max_protocol_version %s",
			firstNonEmpty(st.get("ssl_min_protocol_version"), "TLSv1.2"), st.get("ssl_max_protocol_version"))}
	}
	return nil
}
