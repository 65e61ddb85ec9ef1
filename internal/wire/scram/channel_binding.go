// Channel binding for SCRAM-SHA-256-PLUS.
//
// References:
//   - RFC 5802, Salted Challenge Response Authentication Mechanism (SCRAM),
//     §5.1 (gs2-cbind-flag), §6 (channel binding) and §7 (grammar).
//   - RFC 5929, Channel Bindings for TLS, §4 (tls-server-end-point).
//   - RFC 7677, SCRAM-SHA-256 and SCRAM-SHA-256-PLUS.
//   - PostgreSQL documentation, "SASL Authentication", §"SCRAM-SHA-256
//     Authentication" (https://www.postgresql.org/docs/current/sasl-authentication.html):
//     PostgreSQL implements only the tls-server-end-point binding type.

package scram

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
)

// ChannelBindingType is the only channel binding type PostgreSQL supports.
const ChannelBindingType = "tls-server-end-point"

// Headers of the GS2 prefix of the client-first message (RFC 5802 §7), with
// an empty authzid: PostgreSQL rejects an authorization identity.
const (
	gs2NoBinding     = "n,,"                            // client does not bind
	gs2ClientCanBind = "y,,"                            // client could, server cannot
	gs2Binding       = "p=" + ChannelBindingType + ",," // client binds
)

// ErrUnsupportedSignature is returned by EndPointHash when the certificate's
// signature algorithm does not determine a hash function (for example
// Ed25519) or uses one that cannot be computed here (MD2). The connection
// layer should then leave ChannelBinding.Data nil.
var ErrUnsupportedSignature = errors.New("scram: certificate signature algorithm has no usable hash")

// ChannelBinding describes what the connection can offer for channel
// binding. Its zero value means a connection without TLS.
type ChannelBinding struct {
	// TLS reports whether the connection is encrypted with TLS.
	TLS bool
	// Data is the tls-server-end-point channel binding data, the result of
	// EndPointHash on the server's leaf certificate. It is nil when it
	// cannot be computed, and must be nil when TLS is false.
	Data []byte
	// Disable turns channel binding off even on TLS (libpq's
	// channel_binding=disable): the client then sends "n,,".
	Disable bool
}

// choice is the outcome of mechanism negotiation.
type choice struct {
	mechanism string
	gs2       string // GS2 header, e.g. "n,,"
	cbData    []byte // channel binding data appended after the header in c=
}

// choose implements the negotiation documented on Client.Choose.
func (b ChannelBinding) choose(offered []string) (choice, error) {
	var plain, plus bool
	for _, m := range offered {
		switch m {
		case Mechanism:
			plain = true
		case MechanismPlus:
			plus = true
		}
	}
	wantsBinding := b.TLS && !b.Disable
	switch {
	case plus && wantsBinding && len(b.Data) > 0:
		return choice{mechanism: MechanismPlus, gs2: gs2Binding, cbData: b.Data}, nil
	case plain && wantsBinding && !plus:
		// We could bind but the server cannot: say so, so that a server
		// that does support binding detects the downgrade.
		return choice{mechanism: Mechanism, gs2: gs2ClientCanBind}, nil
	case plain:
		// No TLS, binding disabled, or binding data unavailable while the
		// server offered -PLUS: "y,," would make such a server reject us
		// as a downgrade, so we state that we do not bind at all.
		return choice{mechanism: Mechanism, gs2: gs2NoBinding}, nil
	case plus && !b.TLS:
		return choice{}, fmt.Errorf("%w: server offered only %s on a connection without tls", ErrNoMechanism, MechanismPlus)
	case plus && b.Disable:
		return choice{}, fmt.Errorf("%w: server requires channel binding but it is disabled", ErrNoMechanism)
	case plus:
		return choice{}, fmt.Errorf("%w: server requires channel binding but no binding data is available", ErrNoMechanism)
	default:
		return choice{}, fmt.Errorf("%w: server offered %q", ErrNoMechanism, offered)
	}
}

// EndPointHash returns the tls-server-end-point channel binding data for a
// server's leaf certificate (RFC 5929 §4.1): a hash of the certificate's
// DER encoding. The hash function is the one used by the certificate's
// signature algorithm, except that MD5 and SHA-1 are replaced by SHA-256.
// Signatures over SHA-256, SHA-384 and SHA-512 (RSA PKCS #1 v1.5, RSA-PSS,
// ECDSA, DSA) are supported; any other algorithm, notably Ed25519 which
// has no separate hash, yields an error wrapping ErrUnsupportedSignature.
func EndPointHash(cert *x509.Certificate) ([]byte, error) {
	if cert == nil {
		return nil, errors.New("scram: nil certificate")
	}
	if len(cert.Raw) == 0 {
		return nil, errors.New("scram: certificate has no der encoding")
	}
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.DSAWithSHA256, x509.ECDSAWithSHA256:
		sum := sha256.Sum256(cert.Raw)
		return sum[:], nil
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		sum := sha512.Sum384(cert.Raw)
		return sum[:], nil
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		sum := sha512.Sum512(cert.Raw)
		return sum[:], nil
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedSignature, cert.SignatureAlgorithm)
	}
}
