// Package scram implements the client side of SCRAM-SHA-256 and
// SCRAM-SHA-256-PLUS authentication as PostgreSQL speaks it, together with
// SASLprep exactly as PostgreSQL applies it to passwords.
//
// The package is pure computation: it knows nothing of sockets or of the
// PostgreSQL message framing. The connection layer receives
// AuthenticationSASL with the server's mechanism list and drives a Client:
//
//	c, err := scram.NewClient(password, binding)
//	mech, err := c.Choose(serverMechanisms)   // name for SASLInitialResponse
//	first := c.ClientFirst()                  // data for SASLInitialResponse
//	final, err := c.ClientFinal(serverFirst)  // AuthenticationSASLContinue -> SASLResponse
//	err = c.Verify(serverFinal)               // AuthenticationSASLFinal
//
// and must not accept AuthenticationOk unless c.Verified() is true. The
// channel binding data for SCRAM-SHA-256-PLUS comes from EndPointHash applied
// to the server's leaf certificate.
//
// Errors distinguish a server that fails to prove knowledge of the password
// (ErrServerSignature), a server that reports an error (*ServerError,
// ErrServerRejected), a message that breaks the protocol (ErrMalformed) and
// negotiation failures (ErrNoMechanism).
//
// References: RFC 5802 (SCRAM), RFC 7677 (SCRAM-SHA-256), RFC 5929
// (tls-server-end-point), RFC 4013 (SASLprep), RFC 3454 (stringprep), and
// the PostgreSQL documentation chapter "SASL Authentication"
// (https://www.postgresql.org/docs/current/sasl-authentication.html).
package scram
