package scram

import "io"

// Test hooks, visible only to this package's tests.

// NewClientWithRandom is NewClient with the nonce drawn from random.
func NewClientWithRandom(password string, binding ChannelBinding, random io.Reader) (*Client, error) {
	return newClient(password, binding, random)
}

// SetIdentity overrides the user name sent in n= (always empty for
// PostgreSQL) and the client nonce, to replay the RFC 7677 test vector.
// It must be called before ClientFirst.
func SetIdentity(c *Client, username, cnonce string) {
	c.username = username
	c.cnonce = cnonce
}

// ParseServerFirst exposes the server-first parser to the fuzz tests.
func ParseServerFirst(msg []byte, cnonce string) (nonce string, salt []byte, iterations int, err error) {
	sf, err := parseServerFirst(string(msg), cnonce)
	return sf.nonce, sf.salt, sf.iterations, err
}

// ClientNonce returns the client nonce.
func ClientNonce(c *Client) string { return c.cnonce }
