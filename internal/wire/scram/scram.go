// SCRAM-SHA-256 client exchange.
//
// References:
//   - RFC 5802, Salted Challenge Response Authentication Mechanism (SCRAM):
//     §3 (algorithm), §5 (messages), §7 (grammar).
//   - RFC 7677, SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (§3 test vector).
//   - PostgreSQL documentation, "SASL Authentication"
//     (https://www.postgresql.org/docs/current/sasl-authentication.html):
//     the username attribute is sent empty and ignored, the authzid must be
//     empty, and only tls-server-end-point channel binding exists.

package scram

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mechanism names as PostgreSQL lists them in AuthenticationSASL.
const (
	// Mechanism is SCRAM-SHA-256 without channel binding.
	Mechanism = "SCRAM-SHA-256"
	// MechanismPlus is SCRAM-SHA-256 with tls-server-end-point channel
	// binding.
	MechanismPlus = "SCRAM-SHA-256-PLUS"
)

// MaxIterations is the largest PBKDF2 iteration count accepted from a
// server. PostgreSQL's default is 4096 (scram_iterations); ten million
// already costs several seconds of CPU, and the cap stops a hostile server
// from making the client spin almost indefinitely.
const MaxIterations = 10_000_000

// nonceBytes is the number of random bytes in the client nonce, as libpq.
const nonceBytes = 18

// Errors returned by the exchange. Errors about a server message wrap
// ErrMalformed, ErrServerSignature or ErrServerRejected (through
// *ServerError), so callers can tell a broken or hostile peer apart with
// errors.Is. No error ever contains the password.
var (
	// ErrNoPassword is returned by NewClient for an empty password, which
	// libpq also refuses to use for SCRAM.
	ErrNoPassword = errors.New("scram: no password supplied")
	// ErrNoMechanism means the server offered no mechanism this client
	// can use with the given ChannelBinding.
	ErrNoMechanism = errors.New("scram: no usable sasl mechanism")
	// ErrMalformed means a server message violates RFC 5802 or does not
	// match the exchange (for example a nonce that does not extend ours).
	ErrMalformed = errors.New("scram: malformed server message")
	// ErrServerSignature means the server-final signature is well formed
	// but wrong: the server does not know the password's verifier, so it
	// may be an impostor.
	ErrServerSignature = errors.New("scram: server signature mismatch")
	// ErrServerRejected is wrapped by *ServerError, for a server-final
	// message carrying "e=".
	ErrServerRejected = errors.New("scram: server rejected authentication")
	// ErrState means a method was called out of order, or after an
	// earlier step failed.
	ErrState = errors.New("scram: exchange step out of order")
)

// ServerError is the error for a server-final message of the form
// "e=server-error-value" (RFC 5802 §7). It unwraps to ErrServerRejected.
type ServerError struct {
	// Value is the server-error-value, e.g. "invalid-proof".
	Value string
}

// Error returns the message, quoting Value unless it is printable ASCII.
func (e *ServerError) Error() string {
	v := e.Value
	if v == "" {
		return ErrServerRejected.Error()
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7E {
			v = strconv.QuoteToASCII(v)
			break
		}
	}
	return ErrServerRejected.Error() + ": " + v
}

// Unwrap returns ErrServerRejected.
func (e *ServerError) Unwrap() error { return ErrServerRejected }

// state is the position of a Client in the exchange.
type state int

const (
	stateNew       state = iota // NewClient done
	stateChosen                 // Choose succeeded
	stateFirstSent              // ClientFirst returned the message
	stateFinalSent              // ClientFinal returned the message
	stateVerified               // Verify succeeded
	stateFailed                 // a step failed; the exchange is over
)

// Client is the client side of one SCRAM-SHA-256(-PLUS) exchange, as
// PostgreSQL runs it. It knows nothing of sockets: the caller carries the
// messages in SASLInitialResponse / SASLResponse and AuthenticationSASL* and
// calls, in order, Choose, ClientFirst, ClientFinal and Verify. A Client is
// used once and is not safe for concurrent use.
type Client struct {
	password string
	binding  ChannelBinding
	username string // sent in n=; always empty except in the RFC test vector
	cnonce   string
	state    state
	choice   choice

	clientFirst     []byte
	clientFirstBare string
	serverSignature []byte
}

// NewClient returns a Client that will authenticate with password, offering
// channel binding as described by binding. It draws the client nonce from
// crypto/rand. It fails if password is empty or if binding carries Data
// without TLS.
func NewClient(password string, binding ChannelBinding) (*Client, error) {
	return newClient(password, binding, rand.Reader)
}

// newClient is NewClient with an injectable source of randomness.
func newClient(password string, binding ChannelBinding, random io.Reader) (*Client, error) {
	if password == "" {
		return nil, ErrNoPassword
	}
	if binding.Data != nil && !binding.TLS {
		return nil, errors.New("scram: channel binding data given without tls")
	}
	binding.Data = bytes.Clone(binding.Data)
	raw := make([]byte, nonceBytes)
	if _, err := io.ReadFull(random, raw); err != nil {
		return nil, fmt.Errorf("scram: generate client nonce: %w", err)
	}
	return &Client{
		password: password,
		binding:  binding,
		cnonce:   base64.StdEncoding.EncodeToString(raw),
	}, nil
}

// Choose selects the mechanism from those the server listed in
// AuthenticationSASL and returns its name, to be sent in
// SASLInitialResponse. It must be called before ClientFirst, and may be
// called again until ClientFirst has been called.
//
// MechanismPlus is chosen when the connection uses TLS, binding is not
// disabled, the server offers it and binding data is available; the GS2
// header is then "p=tls-server-end-point,,". Otherwise Mechanism is chosen
// with the header "y,," when the client could bind but the server offered
// no -PLUS variant, and "n,," in every other case (no TLS, binding
// disabled, or -PLUS offered but no binding data; "y,," there would be
// rejected as a downgrade). The error wraps ErrNoMechanism when none of
// this is possible. A caller that requires channel binding checks that
// the result is MechanismPlus. (libpq additionally refuses a server that
// offers MechanismPlus on a connection without TLS, a sign that a proxy
// stripped TLS; a caller wanting that check looks at serverMechanisms
// itself.)
func (c *Client) Choose(serverMechanisms []string) (string, error) {
	if c.state != stateNew && c.state != stateChosen {
		return "", fmt.Errorf("%w: Choose after ClientFirst", ErrState)
	}
	ch, err := c.binding.choose(serverMechanisms)
	if err != nil {
		return "", err
	}
	c.choice = ch
	c.state = stateChosen
	return ch.mechanism, nil
}

// ClientFirst returns the client-first message for SASLInitialResponse:
// the GS2 header chosen by Choose followed by "n=,r=" and the client
// nonce, the base64 encoding of 18 random bytes. The user name is sent
// empty because PostgreSQL ignores it in favour of the startup message. It
// returns nil if Choose has not succeeded; later calls return the same
// message again.
func (c *Client) ClientFirst() []byte {
	switch c.state {
	case stateNew:
		return nil
	case stateChosen:
		c.clientFirstBare = "n=" + c.username + ",r=" + c.cnonce
		c.clientFirst = []byte(c.choice.gs2 + c.clientFirstBare)
		c.state = stateFirstSent
	}
	return append([]byte(nil), c.clientFirst...)
}

// ClientFinal parses and validates the server-first message (the data of
// AuthenticationSASLContinue) and returns the client-final message,
// carrying the channel binding and the client proof, for SASLResponse.
//
// The server-first message must be "r=nonce,s=salt,i=count" optionally
// followed by extensions; the nonce must extend the client nonce, the salt
// must be non-empty base64 and the count must lie in 1..MaxIterations. A
// leading mandatory extension ("m=") is rejected. Validation errors wrap
// ErrMalformed. Any error ends the exchange.
func (c *Client) ClientFinal(serverFirst []byte) ([]byte, error) {
	if c.state != stateFirstSent {
		return nil, c.stateError("ClientFinal")
	}
	sf, err := parseServerFirst(string(serverFirst), c.cnonce)
	if err != nil {
		c.fail()
		return nil, err
	}

	cbind := base64.StdEncoding.EncodeToString(append([]byte(c.choice.gs2), c.choice.cbData...))
	withoutProof := "c=" + cbind + ",r=" + sf.nonce
	authMessage := []byte(c.clientFirstBare + "," + string(serverFirst) + "," + withoutProof)

	salted, err := pbkdf2.Key(sha256.New, SASLprep(c.password), sf.salt, sf.iterations, sha256.Size)
	if err != nil {
		c.fail()
		return nil, fmt.Errorf("scram: derive salted password: %w", err)
	}
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	storedKey := sha256.Sum256(clientKey)
	proof := hmacSHA256(storedKey[:], authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	serverKey := hmacSHA256(salted, []byte("Server Key"))
	c.serverSignature = hmacSHA256(serverKey, authMessage)
	clear(salted)
	clear(clientKey)
	clear(serverKey)
	c.password = ""
	c.state = stateFinalSent

	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// Verify checks the server-final message (the data of
// AuthenticationSASLFinal). It returns nil only if the message is
// "v=signature" with the signature this password and exchange imply,
// compared in constant time; then Verified reports true. A wrong signature
// yields ErrServerSignature, "e=value" yields a *ServerError, anything else
// an error wrapping ErrMalformed. Trailing extensions are ignored. Any
// error ends the exchange.
func (c *Client) Verify(serverFinal []byte) error {
	if c.state != stateFinalSent {
		return c.stateError("Verify")
	}
	sig, err := parseServerFinal(string(serverFinal))
	if err != nil {
		c.fail()
		return err
	}
	if !hmac.Equal(sig, c.serverSignature) {
		c.fail()
		return ErrServerSignature
	}
	c.state = stateVerified
	return nil
}

// Verified reports whether Verify has accepted the server's signature. The
// connection layer must treat AuthenticationOk as a failure while this is
// false: a server that skips the final message has not proven that it
// knows the password's verifier.
func (c *Client) Verified() bool { return c.state == stateVerified }

// fail ends the exchange after an error.
func (c *Client) fail() {
	c.state = stateFailed
	c.password = ""
	clear(c.serverSignature)
}

// stateError describes a call to method in the wrong state.
func (c *Client) stateError(method string) error {
	if c.state == stateFailed {
		return fmt.Errorf("%w: %s after a failed step", ErrState, method)
	}
	return fmt.Errorf("%w: unexpected %s", ErrState, method)
}

// serverFirst holds the parsed server-first message.
type serverFirst struct {
	nonce      string
	salt       []byte
	iterations int
}

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// parseServerFirst parses RFC 5802's
//
//	server-first-message = [reserved-mext ","] nonce "," salt ","
//	                       iteration-count ["," extensions]
//
// and checks it against the client nonce.
func parseServerFirst(msg, cnonce string) (serverFirst, error) {
	if msg == "" {
		return serverFirst{}, malformed("empty server-first message")
	}
	attrs := strings.Split(msg, ",")
	if strings.HasPrefix(attrs[0], "m=") {
		return serverFirst{}, malformed("server-first message has an unsupported mandatory extension")
	}
	var values [3]string
	for i, name := range []byte{'r', 's', 'i'} {
		if i >= len(attrs) {
			return serverFirst{}, malformed("server-first message lacks attribute %c", name)
		}
		v, ok := attrValue(attrs[i], name)
		if !ok {
			return serverFirst{}, malformed("server-first message attribute %d is not %c", i+1, name)
		}
		values[i] = v
	}
	if err := checkExtensions(attrs[3:]); err != nil {
		return serverFirst{}, malformed("server-first message: %v", err)
	}

	nonce := values[0]
	if !isPrintable(nonce) {
		return serverFirst{}, malformed("server nonce has non-printable characters")
	}
	if !strings.HasPrefix(nonce, cnonce) {
		return serverFirst{}, malformed("server nonce does not start with the client nonce")
	}
	if len(nonce) == len(cnonce) {
		return serverFirst{}, malformed("server nonce adds nothing to the client nonce")
	}

	salt, err := decodeBase64(values[1])
	if err != nil {
		return serverFirst{}, malformed("salt is not valid base64")
	}
	if len(salt) == 0 {
		return serverFirst{}, malformed("salt is empty")
	}

	iter, err := parseIterations(values[2])
	if err != nil {
		return serverFirst{}, malformed("%v", err)
	}
	return serverFirst{nonce: nonce, salt: salt, iterations: iter}, nil
}

// parseIterations parses a decimal iteration count in 1..MaxIterations.
func parseIterations(s string) (int, error) {
	if s == "" {
		return 0, errors.New("iteration count is empty")
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("iteration count is not a decimal number")
		}
		n = n*10 + int(s[i]-'0')
		if n > MaxIterations {
			return 0, fmt.Errorf("iteration count exceeds %d", MaxIterations)
		}
	}
	if n < 1 {
		return 0, errors.New("iteration count is zero")
	}
	return n, nil
}

// parseServerFinal parses RFC 5802's
//
//	server-final-message = (server-error / verifier) ["," extensions]
//
// returning the decoded signature, or a *ServerError for "e=".
func parseServerFinal(msg string) ([]byte, error) {
	if msg == "" {
		return nil, malformed("empty server-final message")
	}
	attrs := strings.Split(msg, ",")
	if v, ok := attrValue(attrs[0], 'e'); ok {
		return nil, &ServerError{Value: v}
	}
	if err := checkExtensions(attrs[1:]); err != nil {
		return nil, malformed("server-final message: %v", err)
	}
	v, ok := attrValue(attrs[0], 'v')
	if !ok {
		return nil, malformed("server-final message has neither v nor e attribute")
	}
	sig, err := decodeBase64(v)
	if err != nil {
		return nil, malformed("server signature is not valid base64")
	}
	if len(sig) != sha256.Size {
		return nil, malformed("server signature has %d bytes, want %d", len(sig), sha256.Size)
	}
	return sig, nil
}

// attrValue returns the value of an attribute "name=value".
func attrValue(attr string, name byte) (string, bool) {
	if len(attr) < 2 || attr[0] != name || attr[1] != '=' {
		return "", false
	}
	return attr[2:], true
}

// checkExtensions checks that optional trailing attributes have the form
// ALPHA "=" value (RFC 5802 §7); their content is ignored.
func checkExtensions(attrs []string) error {
	for _, a := range attrs {
		if len(a) < 3 || !isAlpha(a[0]) || a[1] != '=' {
			return errors.New("invalid extension attribute")
		}
	}
	return nil
}

// decodeBase64 decodes standard padded base64, refusing the line breaks
// that encoding/base64 would otherwise skip.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, base64.CorruptInputError(strings.IndexAny(s, "\r\n"))
	}
	return base64.StdEncoding.DecodeString(s)
}

// hmacSHA256 returns HMAC-SHA-256(key, msg).
func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// isPrintable reports whether s consists of RFC 5802 "printable"
// characters: ASCII 0x21..0x7E except ','.
func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7E || s[i] == ',' {
			return false
		}
	}
	return true
}

// isAlpha reports whether b is an ASCII letter.
func isAlpha(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }
