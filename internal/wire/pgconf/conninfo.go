// Key/value connection strings ("keyword = value ..."), per the libpq
// documentation, "Connection Strings" (§34.1.1, Keyword/Value Connection
// Strings), and fe-connect.c's conninfo_parse, which this follows byte for
// byte.

package pgconf

import (
	"strings"
)

// Settings is a parsed connection string: libpq keyword → value. Only
// keywords present in the string are set; there are no defaults. Every key is
// [Known]. Lists stay as written ("host=a,b" keeps "a,b"). An empty value
// (written as two single quotes) is present with value "". Secrets are values like any other
// here; [Settings.String] masks them.
type Settings map[string]string

// span locates a secret value in the original string, for Redact.
type span struct {
	start, end int
	quoted     bool // key/value form: the span includes the single quotes
}

// Parse parses a libpq connection string. A string that starts with
// "postgresql://" or "postgres://" is a URI; anything else is key/value
// conninfo. An empty or whitespace-only string yields empty Settings.
//
// Key/value form, as libpq's conninfo_parse: pairs "keyword = value"
// separated by whitespace (ASCII space, \t, \n, \v, \f, \r), spaces allowed
// around "="; a value is either single-quoted or runs to the next whitespace;
// a backslash makes the next byte literal both inside and outside quotes
// (so `\'`, `\\` and `\ ` work in both), and a backslash at the very end of
// an unquoted value is dropped; nothing is needed between a closing quote
// and the next keyword. As in libpq, the whitespace after "=" is skipped
// before the value is read, so "host= port=1" sets host to "port=1".
//
// URI form, as libpq's conninfo_uri_parse_options and conninfo_uri_decode
// (PostgreSQL 17/18):
//
//   - userinfo is recognised only if an "@" comes before the first "/": the
//     user runs to the first ":" or "@", the password from that ":" to the
//     first "@" (so a "/" in a password must be percent-encoded, while ":",
//     "?" and "&" need not be); an empty user or password is not set;
//   - stricter than libpq, that "@" must be the URI's only unencoded one:
//     any other (in a password, where libpq would split it, or in the
//     database name or a parameter value) is a syntax error that quotes
//     nothing before the URI's last "@";
//   - a netloc is a host name or IPv4 address up to ":", "/", "?" or ",", or
//     an IPv6 address in brackets (stored without them); the hosts and ports
//     are joined with "," positionally, a missing port leaving an empty
//     element ("h1:1,h2" gives port "1,", "h1,h2" gives port ","); an empty
//     list is not set;
//   - the dbname runs from the "/" to "?"; an empty one is not set;
//   - every component (the host and port lists as joined) is
//     percent-decoded: %XY in either case, a bad escape or %00 is an error,
//     leading and trailing spaces are dropped and any other unencoded space
//     is an error (new in PostgreSQL 17); "+" stays "+";
//   - query parameters keyword=value, separated by "&", override what the
//     URI part set; ssl=true means sslmode=require, and any other ssl value
//     is an unknown parameter.
//
// In both forms a keyword given twice keeps the last value, the obsolete
// requiressl is stored as sslmode ("require" when its value starts with "1",
// "prefer" otherwise), and an unknown keyword is an error. A NUL byte
// anywhere is an error (libpq could never have seen past it).
//
// Errors are *[ParseError] with libpq's messages. None contains a secret
// value. In the key/value form, a word without "=" (or with an unknown
// keyword) right after an unquoted secret value is most likely the rest of
// a password that needed quoting, so the message names the secret's keyword
// instead of quoting the word.
func Parse(s string) (Settings, error) {
	st, _, err := parse(s)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// parse parses s and also returns where its secret values are.
func parse(s string) (Settings, []span, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, nil, errNUL()
	}
	if uriPrefixLen(s) > 0 {
		return parseURI(s)
	}
	return parseConninfo(s)
}

// isSpace is C isspace in the "C" locale, as conninfo_parse uses it.
func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// parseConninfo is conninfo_parse.
func parseConninfo(s string) (Settings, []span, error) {
	st := Settings{}
	var spans []span
	// afterSecret is the keyword of the previous pair when its value was an
	// unquoted secret: the next word may be the rest of that secret.
	afterSecret := ""
	sc := conninfoScanner{s: s}
	for sc.skipSpace(); sc.i < len(s); sc.skipSpace() {
		name := sc.keyword()
		if !sc.equals() {
			if afterSecret != "" {
				return nil, nil, syntaxError("missing \"=\" after the word following the value of \"%s\" in connection info string", afterSecret)
			}
			return nil, nil, syntaxError("missing \"=\" after \"%s\" in connection info string", name)
		}
		valStart := sc.i
		val, quoted, err := sc.value()
		if err != nil {
			return nil, nil, err
		}
		if !st.store(name, val) {
			if afterSecret != "" {
				return nil, nil, &ParseError{
					Kind: KindUnknownKeyword,
					Msg:  "invalid connection option following the value of \"" + afterSecret + "\"",
				}
			}
			return nil, nil, unknownKeywordError(name, "invalid connection option \"%s\"")
		}
		afterSecret = ""
		if isSecret(name) {
			spans = append(spans, span{start: valStart, end: sc.i, quoted: quoted})
			if !quoted {
				afterSecret = name
			}
		}
	}
	return st, spans, nil
}

// conninfoScanner reads a key/value connection string, at s[i].
type conninfoScanner struct {
	s string
	i int
}

// skipSpace moves past whitespace.
func (sc *conninfoScanner) skipSpace() {
	for sc.i < len(sc.s) && isSpace(sc.s[sc.i]) {
		sc.i++
	}
}

// keyword reads a keyword: it runs to "=" or whitespace.
func (sc *conninfoScanner) keyword() string {
	start := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] != '=' && !isSpace(sc.s[sc.i]) {
		sc.i++
	}
	return sc.s[start:sc.i]
}

// equals reads the "=" after a keyword, with the whitespace around it, and
// reports whether it was there.
func (sc *conninfoScanner) equals() bool {
	sc.skipSpace()
	if sc.i >= len(sc.s) || sc.s[sc.i] != '=' {
		return false
	}
	sc.i++
	sc.skipSpace()
	return true
}

// value reads a value, quoted or up to the next whitespace, and reports
// whether it was quoted. A backslash makes the next byte literal in both.
func (sc *conninfoScanner) value() (string, bool, error) {
	if sc.i < len(sc.s) && sc.s[sc.i] == '\'' {
		sc.i++
		v, err := sc.quoted()
		return v, true, err
	}
	var val []byte
	for sc.i < len(sc.s) && !isSpace(sc.s[sc.i]) {
		val = sc.take(val)
	}
	return string(val), false, nil
}

// quoted reads the rest of a quoted value, up to its closing quote.
func (sc *conninfoScanner) quoted() (string, error) {
	var val []byte
	for {
		if sc.i >= len(sc.s) {
			return "", syntaxError("unterminated quoted string in connection info string")
		}
		if sc.s[sc.i] == '\'' {
			sc.i++
			return string(val), nil
		}
		val = sc.take(val)
	}
}

// take appends the byte at s[i] to val or, when it is a backslash, the
// byte after it (none at the end of the string).
func (sc *conninfoScanner) take(val []byte) []byte {
	if sc.s[sc.i] == '\\' {
		sc.i++
		if sc.i < len(sc.s) {
			val = append(val, sc.s[sc.i])
			sc.i++
		}
		return val
	}
	val = append(val, sc.s[sc.i])
	sc.i++
	return val
}
