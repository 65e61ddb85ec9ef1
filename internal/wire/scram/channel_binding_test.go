package scram_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire/scram"
)

func TestChoose(t *testing.T) {
	data := []byte("0123456789abcdef0123456789abcdef")
	both := []string{scram.MechanismPlus, scram.Mechanism}
	plain := []string{scram.Mechanism}
	plusOnly := []string{scram.MechanismPlus}
	tests := []struct {
		name     string
		binding  scram.ChannelBinding
		offered  []string
		wantMech string
		wantGS2  string
		wantData []byte
		wantErr  string
	}{
		{"no tls", scram.ChannelBinding{}, plain, scram.Mechanism, "n,,", nil, ""},
		{"no tls, plus offered", scram.ChannelBinding{}, both, scram.Mechanism, "n,,", nil, ""},
		{"tls, no plus offered", scram.ChannelBinding{TLS: true, Data: data}, plain, scram.Mechanism, "y,,", nil, ""},
		{"tls without data, no plus offered", scram.ChannelBinding{TLS: true}, plain, scram.Mechanism, "y,,", nil, ""},
		{"tls, plus offered, data", scram.ChannelBinding{TLS: true, Data: data}, both, scram.MechanismPlus, "p=tls-server-end-point,,", data, ""},
		{"tls, only plus offered, data", scram.ChannelBinding{TLS: true, Data: data}, plusOnly, scram.MechanismPlus, "p=tls-server-end-point,,", data, ""},
		{"tls, plus offered, no data", scram.ChannelBinding{TLS: true}, both, scram.Mechanism, "n,,", nil, ""},
		{"tls, plus offered, empty data", scram.ChannelBinding{TLS: true, Data: []byte{}}, both, scram.Mechanism, "n,,", nil, ""},
		{"disabled, plus offered", scram.ChannelBinding{TLS: true, Data: data, Disable: true}, both, scram.Mechanism, "n,,", nil, ""},
		{"disabled, no plus offered", scram.ChannelBinding{TLS: true, Data: data, Disable: true}, plain, scram.Mechanism, "n,,", nil, ""},
		{"unknown mechanisms", scram.ChannelBinding{TLS: true, Data: data}, []string{"OAUTHBEARER", "SCRAM-SHA-1"}, "", "", nil, "offered"},
		{"nothing offered", scram.ChannelBinding{}, nil, "", "", nil, "offered"},
		{"only plus, no tls", scram.ChannelBinding{}, plusOnly, "", "", nil, "without tls"},
		{"only plus, no data", scram.ChannelBinding{TLS: true}, plusOnly, "", "", nil, "no binding data"},
		{"only plus, disabled", scram.ChannelBinding{TLS: true, Data: data, Disable: true}, plusOnly, "", "", nil, "disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := scram.NewClientWithRandom(secret, tt.binding, &counting{})
			if err != nil {
				t.Fatal(err)
			}
			mech, err := c.Choose(tt.offered)
			if tt.wantErr != "" {
				if !errors.Is(err, scram.ErrNoMechanism) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Choose = %q, %v; want ErrNoMechanism mentioning %q", mech, err, tt.wantErr)
				}
				return
			}
			if err != nil || mech != tt.wantMech {
				t.Fatalf("Choose = %q, %v; want %q", mech, err, tt.wantMech)
			}
			if want := tt.wantGS2 + "n=,r=" + countingNonce; string(c.ClientFirst()) != want {
				t.Fatalf("client-first = %q, want %q", c.ClientFirst(), want)
			}
			// The c= attribute carries the header and the binding data,
			// and the exchange completes against an independent server.
			exchange(t, c, &fakeServer{
				prepared: secret, salt: []byte("salt"), iter: 8,
				suffix: "srv", wantGS2: tt.wantGS2, wantData: tt.wantData,
			})
		})
	}
}

func TestChooseEncodesBindingData(t *testing.T) {
	data := []byte{0xde, 0xad, 0xbe, 0xef}
	c := newTestClient(t, secret, scram.ChannelBinding{TLS: true, Data: data}, scram.MechanismPlus)
	c.ClientFirst()
	final, err := c.ClientFinal([]byte("r=" + countingNonce + "srv,s=c2FsdA==,i=1"))
	if err != nil {
		t.Fatal(err)
	}
	want := "c=" + base64.StdEncoding.EncodeToString([]byte("p=tls-server-end-point,,\xde\xad\xbe\xef")) + ","
	if !strings.HasPrefix(string(final), want) {
		t.Fatalf("client-final = %q, want prefix %q", final, want)
	}
}

// selfSigned returns a parsed self-signed certificate.
func selfSigned(t *testing.T, key crypto.Signer, alg x509.SignatureAlgorithm) *x509.Certificate {
	t.Helper()
	tpl := &x509.Certificate{
		SerialNumber:       big.NewInt(1),
		Subject:            pkix.Name{CommonName: "db.example"},
		NotBefore:          time.Unix(1700000000, 0),
		NotAfter:           time.Unix(1800000000, 0),
		SignatureAlgorithm: alg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatalf("CreateCertificate(%v): %v", alg, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if cert.SignatureAlgorithm != alg {
		t.Fatalf("certificate signed with %v, want %v", cert.SignatureAlgorithm, alg)
	}
	return cert
}

func TestEndPointHash(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	sum256 := func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
	sum384 := func(b []byte) []byte { s := sha512.Sum384(b); return s[:] }
	sum512 := func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }

	// Go still creates SHA1WithRSA certificates; an MD5 one it refuses,
	// so that case relabels a parsed certificate.
	md5 := *selfSigned(t, rsaKey, x509.SHA256WithRSA)
	md5.SignatureAlgorithm = x509.MD5WithRSA

	tests := []struct {
		name string
		cert *x509.Certificate
		sum  func([]byte) []byte
	}{
		{"ecdsa sha256", selfSigned(t, p256, x509.ECDSAWithSHA256), sum256},
		{"ecdsa sha384", selfSigned(t, p384, x509.ECDSAWithSHA384), sum384},
		{"ecdsa sha512", selfSigned(t, p384, x509.ECDSAWithSHA512), sum512},
		{"rsa sha512", selfSigned(t, rsaKey, x509.SHA512WithRSA), sum512},
		{"rsa-pss sha384", selfSigned(t, rsaKey, x509.SHA384WithRSAPSS), sum384},
		{"rsa sha1 uses sha256", selfSigned(t, rsaKey, x509.SHA1WithRSA), sum256},
		{"ecdsa sha1 uses sha256", selfSigned(t, p256, x509.ECDSAWithSHA1), sum256},
		{"rsa md5 uses sha256", &md5, sum256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scram.EndPointHash(tt.cert)
			if err != nil {
				t.Fatalf("EndPointHash: %v", err)
			}
			if want := tt.sum(tt.cert.Raw); string(got) != string(want) {
				t.Fatalf("EndPointHash = %x, want %x", got, want)
			}
		})
	}
}

func TestEndPointHashErrors(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed := selfSigned(t, edKey, x509.PureEd25519)
	if _, err := scram.EndPointHash(ed); !errors.Is(err, scram.ErrUnsupportedSignature) {
		t.Errorf("Ed25519: err = %v, want ErrUnsupportedSignature", err)
	}
	unknown := *ed
	unknown.SignatureAlgorithm = x509.UnknownSignatureAlgorithm
	if _, err := scram.EndPointHash(&unknown); !errors.Is(err, scram.ErrUnsupportedSignature) {
		t.Errorf("unknown algorithm: err = %v, want ErrUnsupportedSignature", err)
	}
	md2 := *ed
	md2.SignatureAlgorithm = x509.MD2WithRSA
	if _, err := scram.EndPointHash(&md2); !errors.Is(err, scram.ErrUnsupportedSignature) {
		t.Errorf("MD2: err = %v, want ErrUnsupportedSignature", err)
	}
	if _, err := scram.EndPointHash(nil); err == nil {
		t.Error("nil certificate: no error")
	}
	if _, err := scram.EndPointHash(&x509.Certificate{SignatureAlgorithm: x509.SHA256WithRSA}); err == nil {
		t.Error("certificate without DER: no error")
	}
}
