// Errors returned by the connection-string parsers.
//
// The messages are libpq's (fe-connect.c), lowercase and unprefixed, so a
// caller can wrap them; see the libpq documentation, "Connection Strings"
// (§34.1.1) and "Parameter Key Words" (§34.1.2). Where libpq would quote a
// secret value back, the message names the keyword instead.

package pgconf

import "fmt"

// ErrorKind classifies a [ParseError].
type ErrorKind int

const (
	// KindSyntax is a malformed string: a missing "=", an unterminated
	// quote, a NUL byte, a bad IPv6 bracket, a URI query parameter without
	// or with two "=".
	KindSyntax ErrorKind = iota + 1
	// KindUnknownKeyword is a keyword (or URI query parameter) that is not
	// one of libpq's; see [Known].
	KindUnknownKeyword
	// KindEncoding is an invalid percent-encoded token, a %00, or unencoded
	// spaces inside a URI component.
	KindEncoding
)

// String returns a short lowercase name for the kind.
func (k ErrorKind) String() string {
	switch k {
	case KindSyntax:
		return "syntax"
	case KindUnknownKeyword:
		return "unknown keyword"
	case KindEncoding:
		return "encoding"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// ParseError reports why a connection string was rejected. Its Error method
// returns the libpq-like message alone, e.g.
// `missing "=" after "foo" in connection info string`.
type ParseError struct {
	// Kind classifies the error.
	Kind ErrorKind
	// Keyword is the offending keyword for KindUnknownKeyword, exactly as
	// written (after percent-decoding, for a URI query parameter). It is
	// empty for other kinds, and when the word would likely be a piece of
	// an unquoted secret value (see [Parse]).
	Keyword string
	// Msg is the message, never containing a secret value.
	Msg string
}

// Error returns the message.
func (e *ParseError) Error() string { return e.Msg }

func syntaxError(format string, args ...any) *ParseError {
	return &ParseError{Kind: KindSyntax, Msg: fmt.Sprintf(format, args...)}
}

func encodingError(format string, args ...any) *ParseError {
	return &ParseError{Kind: KindEncoding, Msg: fmt.Sprintf(format, args...)}
}

func unknownKeywordError(keyword, format string) *ParseError {
	return &ParseError{Kind: KindUnknownKeyword, Keyword: keyword, Msg: fmt.Sprintf(format, keyword)}
}

// errNUL rejects a string libpq could never have seen whole: a C string ends
// at its first NUL, and a NUL cannot travel in a startup packet either.
func errNUL() *ParseError {
	return syntaxError("unexpected NUL byte in connection info string")
}
