package scram_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire/scram"
)

// RFC 7677 §3 test vector.
const (
	rfcPassword    = "pencil"
	rfcClientNonce = "rOprNGfwEbeRWgbNEkqO"
	rfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

	// corruptServerFinal agrees with rfcServerFinal in its first 16
	// characters only; it circulates as a mistyped copy of the vector.
	corruptServerFinal = "v=6rriTRBi23WpRR/wcyzPlzvcbXRY2gfJuuSwcA5nlbs="
)

// secret is a password that must never show up in an error message.
const secret = "sw0rdfish-Ünïcode"

// counting yields the bytes 0, 1, 2, ... forever.
type counting struct{ next byte }

func (r *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

// countingNonce is the client nonce drawn from a fresh counting reader.
var countingNonce = base64.StdEncoding.EncodeToString([]byte{
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
})

// newTestClient returns a client with the counting nonce that has already
// chosen a mechanism from offered.
func newTestClient(t *testing.T, password string, b scram.ChannelBinding, offered ...string) *scram.Client {
	t.Helper()
	c, err := scram.NewClientWithRandom(password, b, &counting{})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if len(offered) == 0 {
		offered = []string{scram.Mechanism}
	}
	if _, err := c.Choose(offered); err != nil {
		t.Fatalf("Choose: %v", err)
	}
	return c
}

func TestRFC7677Vector(t *testing.T) {
	c, err := scram.NewClientWithRandom(rfcPassword, scram.ChannelBinding{}, &counting{})
	if err != nil {
		t.Fatal(err)
	}
	scram.SetIdentity(c, "user", rfcClientNonce)
	mech, err := c.Choose([]string{scram.Mechanism})
	if err != nil || mech != scram.Mechanism {
		t.Fatalf("Choose = %q, %v", mech, err)
	}
	if got := string(c.ClientFirst()); got != rfcClientFirst {
		t.Fatalf("client-first = %q, want %q", got, rfcClientFirst)
	}
	final, err := c.ClientFinal([]byte(rfcServerFirst))
	if err != nil {
		t.Fatalf("ClientFinal: %v", err)
	}
	if string(final) != rfcClientFinal {
		t.Fatalf("client-final = %q, want %q", final, rfcClientFinal)
	}
	if c.Verified() {
		t.Fatal("Verified before Verify")
	}
	if err := c.Verify([]byte(rfcServerFinal)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !c.Verified() {
		t.Fatal("not Verified after a good server-final")
	}
}

// fakeServer is an independent implementation of the server side of
// SCRAM-SHA-256, used to check the client's messages.
type fakeServer struct {
	prepared string // the password as the server's verifier was built from it
	salt     []byte
	iter     int
	suffix   string // server part of the nonce
	wantGS2  string
	wantData []byte

	clientFirstBare, serverFirst, nonce string
	storedKey, serverKey                []byte
}

func (s *fakeServer) first(clientFirst []byte) (string, error) {
	msg := string(clientFirst)
	if !strings.HasPrefix(msg, s.wantGS2) {
		return "", fmt.Errorf("gs2 header of %q is not %q", msg, s.wantGS2)
	}
	s.clientFirstBare = strings.TrimPrefix(msg, s.wantGS2)
	cnonce, ok := strings.CutPrefix(s.clientFirstBare, "n=,r=")
	if !ok {
		return "", fmt.Errorf("client-first-bare %q lacks n=,r=", s.clientFirstBare)
	}
	s.nonce = cnonce + s.suffix
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce, base64.StdEncoding.EncodeToString(s.salt), s.iter)
	sp, err := pbkdf2.Key(sha256.New, s.prepared, s.salt, s.iter, 32)
	if err != nil {
		return "", err
	}
	ck := mac(sp, "Client Key")
	sk := sha256.Sum256(ck)
	s.storedKey = sk[:]
	s.serverKey = mac(sp, "Server Key")
	return s.serverFirst, nil
}

func (s *fakeServer) final(clientFinal []byte) (string, error) {
	msg := string(clientFinal)
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return "", fmt.Errorf("client-final %q has no proof", msg)
	}
	withoutProof := msg[:i]
	wantCB := base64.StdEncoding.EncodeToString(append([]byte(s.wantGS2), s.wantData...))
	if want := "c=" + wantCB + ",r=" + s.nonce; withoutProof != want {
		return "", fmt.Errorf("client-final-without-proof = %q, want %q", withoutProof, want)
	}
	proof, err := base64.StdEncoding.DecodeString(msg[i+3:])
	if err != nil || len(proof) != 32 {
		return "", fmt.Errorf("bad proof %q", msg[i+3:])
	}
	auth := s.clientFirstBare + "," + s.serverFirst + "," + withoutProof
	sig := mac(s.storedKey, auth)
	for j := range proof {
		proof[j] ^= sig[j]
	}
	if got := sha256.Sum256(proof); !bytes.Equal(got[:], s.storedKey) {
		return "", errors.New("invalid proof")
	}
	return "v=" + base64.StdEncoding.EncodeToString(mac(s.serverKey, auth)), nil
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// exchange runs a whole exchange between c and s.
func exchange(t *testing.T, c *scram.Client, s *fakeServer) {
	t.Helper()
	sf, err := s.first(c.ClientFirst())
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	final, err := c.ClientFinal([]byte(sf))
	if err != nil {
		t.Fatalf("ClientFinal: %v", err)
	}
	sfinal, err := s.final(final)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	if err := c.Verify([]byte(sfinal)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !c.Verified() {
		t.Fatal("not Verified after a good exchange")
	}
}

func TestPostgreSQLForm(t *testing.T) {
	c := newTestClient(t, "pencil", scram.ChannelBinding{})
	want := "n,,n=,r=" + countingNonce
	if got := string(c.ClientFirst()); got != want {
		t.Fatalf("client-first = %q, want %q", got, want)
	}
	if got := string(c.ClientFirst()); got != want {
		t.Fatalf("second ClientFirst = %q, want %q", got, want)
	}
	exchange(t, c, &fakeServer{
		prepared: "pencil", salt: []byte("0123456789abcdef"), iter: 4096,
		suffix: "3rfcNHYJY1ZVvWVs7j", wantGS2: "n,,",
	})
}

func TestExchangeAppliesSASLprep(t *testing.T) {
	tests := []struct{ password, prepared string }{
		{"pass\u00A0word", "pass word"},
		{"I\u00ADX", "IX"},
		{"\u2168", "IX"},
		{"\xffraw", "\xffraw"}, // not UTF-8: used as is
	}
	for _, tt := range tests {
		t.Run(tt.prepared, func(t *testing.T) {
			c := newTestClient(t, tt.password, scram.ChannelBinding{})
			exchange(t, c, &fakeServer{
				prepared: tt.prepared, salt: []byte("salt"), iter: 16,
				suffix: "xyz", wantGS2: "n,,",
			})
		})
	}
}

func TestNonceIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 8 {
		c, err := scram.NewClient(secret, scram.ChannelBinding{})
		if err != nil {
			t.Fatal(err)
		}
		n := scram.ClientNonce(c)
		raw, err := base64.StdEncoding.DecodeString(n)
		if err != nil || len(raw) != 18 {
			t.Fatalf("nonce %q is not base64 of 18 bytes", n)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestNewClientErrors(t *testing.T) {
	if _, err := scram.NewClient("", scram.ChannelBinding{}); !errors.Is(err, scram.ErrNoPassword) {
		t.Errorf("empty password: err = %v, want ErrNoPassword", err)
	}
	if _, err := scram.NewClient(secret, scram.ChannelBinding{Data: []byte{1}}); err == nil {
		t.Error("binding data without tls: no error")
	}
	if _, err := scram.NewClientWithRandom(secret, scram.ChannelBinding{}, failingReader{}); err == nil {
		t.Error("failing random source: no error")
	}
}

func TestServerFirstErrors(t *testing.T) {
	const salt = "c2FsdHNhbHQ="
	n := countingNonce
	tests := []struct {
		name, msg, want string
	}{
		{"empty", "", "empty"},
		{"foreign nonce", "r=AAAAAAAAAAAAAAAAAAAAAAAAxyz,s=" + salt + ",i=4096", "does not start with the client nonce"},
		{"truncated nonce", "r=" + n[:10] + ",s=" + salt + ",i=4096", "does not start with the client nonce"},
		{"equal nonce", "r=" + n + ",s=" + salt + ",i=4096", "adds nothing"},
		{"empty nonce", "r=,s=" + salt + ",i=4096", "does not start with the client nonce"},
		{"non-printable nonce", "r=" + n + "x\x01,s=" + salt + ",i=4096", "non-printable"},
		{"non-ascii nonce", "r=" + n + "é,s=" + salt + ",i=4096", "non-printable"},
		{"iteration zero", "r=" + n + "x,s=" + salt + ",i=0", "iteration count is zero"},
		{"iteration huge", "r=" + n + "x,s=" + salt + ",i=10000001", "exceeds 10000000"},
		{"iteration overflow", "r=" + n + "x,s=" + salt + ",i=99999999999999999999999", "exceeds"},
		{"iteration negative", "r=" + n + "x,s=" + salt + ",i=-1", "not a decimal number"},
		{"iteration signed", "r=" + n + "x,s=" + salt + ",i=+4096", "not a decimal number"},
		{"iteration garbage", "r=" + n + "x,s=" + salt + ",i=4096x", "not a decimal number"},
		{"iteration empty", "r=" + n + "x,s=" + salt + ",i=", "iteration count is empty"},
		{"salt bad base64", "r=" + n + "x,s=!!!!,i=4096", "salt is not valid base64"},
		{"salt bad padding", "r=" + n + "x,s=c2FsdA,i=4096", "salt is not valid base64"},
		{"salt newline", "r=" + n + "x,s=c2Fs\ndA==,i=4096", "salt is not valid base64"},
		{"salt empty", "r=" + n + "x,s=,i=4096", "salt is empty"},
		{"only nonce", "r=" + n + "x", "lacks attribute s"},
		{"no iteration", "r=" + n + "x,s=" + salt, "lacks attribute i"},
		{"missing nonce", "s=" + salt + ",i=4096", "attribute 1 is not r"},
		{"wrong order", "r=" + n + "x,i=4096,s=" + salt, "attribute 2 is not s"},
		{"attribute without value sign", "r" + n + "x,s=" + salt + ",i=4096", "attribute 1 is not r"},
		{"mandatory extension", "m=ext,r=" + n + "x,s=" + salt + ",i=4096", "mandatory extension"},
		{"empty extension", "r=" + n + "x,s=" + salt + ",i=4096,", "invalid extension"},
		{"bad extension name", "r=" + n + "x,s=" + salt + ",i=4096,1=x", "invalid extension"},
		{"extension without value", "r=" + n + "x,s=" + salt + ",i=4096,x=", "invalid extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, secret, scram.ChannelBinding{})
			c.ClientFirst()
			final, err := c.ClientFinal([]byte(tt.msg))
			if err == nil {
				t.Fatalf("ClientFinal(%q) = %q, want an error", tt.msg, final)
			}
			if !errors.Is(err, scram.ErrMalformed) {
				t.Errorf("error %q does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the password", err)
			}
			if _, err := c.ClientFinal([]byte(tt.msg)); !errors.Is(err, scram.ErrState) {
				t.Errorf("ClientFinal after failure: err = %v, want ErrState", err)
			}
		})
	}
}

func TestServerFirstExtensionsTolerated(t *testing.T) {
	c := newTestClient(t, secret, scram.ChannelBinding{})
	c.ClientFirst()
	msg := "r=" + countingNonce + "srv,s=c2FsdA==,i=1,x=ext,Y=another"
	if _, err := c.ClientFinal([]byte(msg)); err != nil {
		t.Fatalf("ClientFinal(%q): %v", msg, err)
	}
}

// finishedClient returns a client that has sent its final message.
func finishedClient(t *testing.T) *scram.Client {
	t.Helper()
	c, err := scram.NewClientWithRandom(rfcPassword, scram.ChannelBinding{}, &counting{})
	if err != nil {
		t.Fatal(err)
	}
	scram.SetIdentity(c, "user", rfcClientNonce)
	if _, err := c.Choose([]string{scram.Mechanism}); err != nil {
		t.Fatal(err)
	}
	c.ClientFirst()
	if _, err := c.ClientFinal([]byte(rfcServerFirst)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestServerFinal(t *testing.T) {
	wrongSig := "v=" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name, msg string
		target    error
		want      string
	}{
		{"good", rfcServerFinal, nil, ""},
		{"good with extension", rfcServerFinal + ",x=1", nil, ""},
		{"wrong signature", wrongSig, scram.ErrServerSignature, "signature mismatch"},
		{"nearly right signature", corruptServerFinal, scram.ErrServerSignature, "signature mismatch"},
		{"server error", "e=invalid-proof", scram.ErrServerRejected, "invalid-proof"},
		{"server error with extension", "e=other-error,x=1", scram.ErrServerRejected, "other-error"},
		{"empty", "", scram.ErrMalformed, "empty"},
		{"unknown attribute", "x=abc", scram.ErrMalformed, "neither v nor e"},
		{"bad base64", "v=!!!", scram.ErrMalformed, "not valid base64"},
		{"short signature", "v=AAAA", scram.ErrMalformed, "has 3 bytes"},
		{"bad extension", rfcServerFinal + ",", scram.ErrMalformed, "invalid extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := finishedClient(t)
			err := c.Verify([]byte(tt.msg))
			if tt.target == nil {
				if err != nil || !c.Verified() {
					t.Fatalf("Verify(%q) = %v, Verified = %v", tt.msg, err, c.Verified())
				}
				return
			}
			if !errors.Is(err, tt.target) {
				t.Fatalf("Verify(%q) = %v, want %v", tt.msg, err, tt.target)
			}
			if !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if c.Verified() {
				t.Error("Verified after a failed Verify")
			}
			if err := c.Verify([]byte(rfcServerFinal)); !errors.Is(err, scram.ErrState) {
				t.Errorf("Verify after failure = %v, want ErrState", err)
			}
			if c.Verified() {
				t.Error("Verified after a retried Verify")
			}
		})
	}
}

func TestServerErrorValue(t *testing.T) {
	err := finishedClient(t).Verify([]byte("e=invalid-proof"))
	var se *scram.ServerError
	if !errors.As(err, &se) || se.Value != "invalid-proof" {
		t.Fatalf("err = %#v, want *ServerError with value invalid-proof", err)
	}
	if got, want := err.Error(), "scram: server rejected authentication: invalid-proof"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	odd := &scram.ServerError{Value: "bad\x1b[0m"}
	if strings.Contains(odd.Error(), "\x1b") {
		t.Errorf("message %q contains a raw control character", odd.Error())
	}
}

func TestStateOrder(t *testing.T) {
	c, err := scram.NewClient(secret, scram.ChannelBinding{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ClientFirst(); got != nil {
		t.Errorf("ClientFirst before Choose = %q, want nil", got)
	}
	if _, err := c.ClientFinal([]byte(rfcServerFirst)); !errors.Is(err, scram.ErrState) {
		t.Errorf("ClientFinal before ClientFirst: err = %v, want ErrState", err)
	}
	if err := c.Verify([]byte(rfcServerFinal)); !errors.Is(err, scram.ErrState) {
		t.Errorf("Verify before ClientFinal: err = %v, want ErrState", err)
	}
	if _, err := c.Choose([]string{"OAUTHBEARER"}); !errors.Is(err, scram.ErrNoMechanism) {
		t.Errorf("Choose(unknown): err = %v, want ErrNoMechanism", err)
	}
	if _, err := c.Choose([]string{scram.Mechanism}); err != nil {
		t.Fatalf("Choose: %v", err)
	}
	if _, err := c.Choose([]string{scram.Mechanism}); err != nil {
		t.Fatalf("second Choose before ClientFirst: %v", err)
	}
	c.ClientFirst()
	if _, err := c.Choose([]string{scram.Mechanism}); !errors.Is(err, scram.ErrState) {
		t.Errorf("Choose after ClientFirst: err = %v, want ErrState", err)
	}
	if err := c.Verify([]byte(rfcServerFinal)); !errors.Is(err, scram.ErrState) {
		t.Errorf("Verify before ClientFinal: err = %v, want ErrState", err)
	}

	v := finishedClient(t)
	if _, err := v.ClientFinal([]byte(rfcServerFirst)); !errors.Is(err, scram.ErrState) {
		t.Errorf("second ClientFinal: err = %v, want ErrState", err)
	}
	if err := v.Verify([]byte(rfcServerFinal)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := v.Verify([]byte(rfcServerFinal)); !errors.Is(err, scram.ErrState) {
		t.Errorf("second Verify: err = %v, want ErrState", err)
	}
	if !v.Verified() {
		t.Error("a second Verify call revoked Verified")
	}
}
