// Connection URIs (postgresql://...), per the libpq documentation,
// "Connection Strings" (§34.1.1, Connection URIs), and fe-connect.c's
// conninfo_uri_parse_options, conninfo_uri_parse_params and
// conninfo_uri_decode (PostgreSQL 17/18), which this follows step by step,
// errors in the same order.

package pgconf

import (
	"strings"
	"unicode/utf8"
)

const (
	uriDesignator      = "postgresql://"
	shortURIDesignator = "postgres://"
)

// uriPrefixLen is libpq's uri_prefix_length: the length of the URI
// designator s starts with, or 0.
func uriPrefixLen(s string) int {
	switch {
	case strings.HasPrefix(s, uriDesignator):
		return len(uriDesignator)
	case strings.HasPrefix(s, shortURIDesignator):
		return len(shortURIDesignator)
	}
	return 0
}

// byteAt returns s[i], or 0 past the end (C's terminating NUL).
func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// parseURI is conninfo_uri_parse_options (see Parse for the rules it
// implements):
//
//	postgres[ql]://[user[:password]@][netloc][:port][,netloc[:port]...][/dbname][?param=value&...]
func parseURI(uri string) (Settings, []span, error) {
	st := Settings{}
	p := uriPrefixLen(uri)
	if err := checkUserInfo(uri, p); err != nil {
		return nil, nil, err
	}
	p, spans, err := parseUserInfo(st, uri, p)
	if err != nil {
		return nil, nil, err
	}
	p, prev, err := parseNetlocs(st, uri, p)
	if err != nil {
		return nil, nil, err
	}
	// prev is now "/", "?" or end of string.
	if prev != 0 && prev != '?' {
		ds := p + 1
		p = skipTo(uri, ds, "?")
		prev = byteAt(uri, p)
		if err := storeDecoded(st, "dbname", uri[ds:p], ""); err != nil {
			return nil, nil, err
		}
	}
	if prev != 0 {
		if spans, err = parseParams(st, uri, p+1, spans); err != nil {
			return nil, nil, err
		}
	}
	return st, spans, nil
}

// parseUserInfo reads "user[:password]@" when an "@" comes before the
// first "/", and returns where the netlocs start and where the password
// is.
func parseUserInfo(st Settings, uri string, p int) (int, []span, error) {
	at := strings.IndexAny(uri[p:], "@/")
	if at < 0 || uri[p+at] != '@' {
		return p, nil, nil
	}
	at += p
	u := p
	for uri[u] != ':' && uri[u] != '@' {
		u++
	}
	if err := storeDecoded(st, "user", uri[p:u], "user"); err != nil {
		return 0, nil, err
	}
	var spans []span
	if uri[u] == ':' {
		spans = append(spans, span{start: u + 1, end: at})
		if err := storeDecoded(st, "password", uri[u+1:at], "password"); err != nil {
			return 0, nil, err
		}
	}
	return at + 1, spans, nil
}

// parseNetlocs reads one or more netloc[:port], separated by commas, into
// the host and port lists, and returns where they end and the byte there
// (0 at the end of the URI).
func parseNetlocs(st Settings, uri string, p int) (int, byte, error) {
	var hosts, ports strings.Builder
	var prev byte
	for {
		host, end, err := uriHost(uri, p)
		if err != nil {
			return 0, 0, err
		}
		p, prev = end, byteAt(uri, end)
		hosts.WriteString(host)
		if prev == ':' {
			ps := p + 1
			p = skipTo(uri, ps, "/?,")
			prev = byteAt(uri, p)
			ports.WriteString(uri[ps:p])
		}
		if prev != ',' {
			break
		}
		p++
		hosts.WriteByte(',')
		ports.WriteByte(',')
	}
	if err := storeDecoded(st, "host", hosts.String(), ""); err != nil {
		return 0, 0, err
	}
	return p, prev, storeDecoded(st, "port", ports.String(), "")
}

// uriHost reads the host of a netloc at uri[p]: an IPv6 address in
// brackets (returned without them), or a name or IPv4 address up to ":",
// "/", "?" or ",". It returns where the host ends.
func uriHost(uri string, p int) (string, int, error) {
	if byteAt(uri, p) != '[' {
		end := skipTo(uri, p, ":/?,")
		return uri[p:end], end, nil
	}
	hs := p + 1
	p = skipTo(uri, hs, "]")
	if p >= len(uri) {
		return "", 0, syntaxError("end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"%s\"", maskURI(uri))
	}
	if p == hs {
		return "", 0, syntaxError("IPv6 host address may not be empty in URI: \"%s\"", maskURI(uri))
	}
	host := uri[hs:p]
	p++
	if c := byteAt(uri, p); c != 0 && c != ':' && c != '/' && c != '?' && c != ',' {
		r, _ := utf8.DecodeRuneInString(uri[p:])
		return "", 0, syntaxError("unexpected character \"%c\" at position %d in URI (expected \":\" or \"/\"): \"%s\"", r, p+1, maskURI(uri))
	}
	return host, p, nil
}

// skipTo returns the index of the first byte of s from p on that is one of
// stops, or len(s).
func skipTo(s string, p int, stops string) int {
	for p < len(s) && strings.IndexByte(stops, s[p]) < 0 {
		p++
	}
	return p
}

// storeDecoded stores the percent-decoded raw under keyword, unless raw
// is empty; secret names a secret value for uriDecode's messages.
func storeDecoded(st Settings, keyword, raw, secret string) error {
	if raw == "" {
		return nil
	}
	v, err := uriDecode(raw, secret)
	if err != nil {
		return err
	}
	st[keyword] = v
	return nil
}

// parseParams is conninfo_uri_parse_params for the query that starts at
// uri[from:]: "&"-separated keyword=value pairs, both percent-decoded.
func parseParams(st Settings, uri string, from int, spans []span) ([]span, error) {
	n := len(uri)
	i := from
	for i < n {
		kwStart, kwEnd, valStart, valEnd := i, -1, -1, -1
		for {
			c := byteAt(uri, i)
			if c == '=' {
				if valStart >= 0 {
					return nil, syntaxError("extra key/value separator \"=\" in URI query parameter: \"%s\"", uri[kwStart:kwEnd])
				}
				kwEnd = i
				i++
				valStart = i
				continue
			}
			if c == '&' || c == 0 {
				end := i
				if c != 0 {
					i++
				}
				if valStart < 0 {
					return nil, syntaxError("missing key/value separator \"=\" in URI query parameter: \"%s\"", uri[kwStart:end])
				}
				valEnd = end
				break
			}
			i++
		}

		keyword, err := uriDecode(uri[kwStart:kwEnd], "")
		if err != nil {
			return nil, err
		}
		secret := ""
		if isSecret(keyword) {
			secret = keyword
			spans = append(spans, span{start: valStart, end: valEnd})
		}
		value, err := uriDecode(uri[valStart:valEnd], secret)
		if err != nil {
			return nil, err
		}

		// JDBC compatibility, as in libpq.
		if keyword == "ssl" && value == "true" {
			keyword, value = "sslmode", "require"
		}
		if !st.store(keyword, value) {
			return nil, unknownKeywordError(keyword, "invalid URI query parameter: \"%s\"")
		}
	}
	return spans, nil
}

// unhex is libpq's get_hexdigit.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// uriDecode is conninfo_uri_decode as of PostgreSQL 17: leading and trailing
// ASCII spaces are dropped, any other unencoded space is an error, %XY
// (either case) is decoded, and a bad or truncated escape or %00 is an
// error. When secret names a keyword, the messages name it rather than
// quote the (secret) text.
func uriDecode(s, secret string) (string, error) {
	fail := func(plain, secretForm string) error {
		if secret != "" {
			return encodingError(secretForm, secret)
		}
		return encodingError(plain, s)
	}
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	var b []byte
	for i < len(s) {
		c := s[i]
		if c == ' ' {
			break
		}
		if c != '%' {
			b = append(b, c)
			i++
			continue
		}
		hi, ok := unhex(byteAt(s, i+1))
		lo, ok2 := unhex(byteAt(s, i+2))
		if !ok || !ok2 {
			return "", fail("invalid percent-encoded token: \"%s\"",
				"invalid percent-encoded token in the value of \"%s\"")
		}
		if hi == 0 && lo == 0 {
			return "", fail("forbidden value %%00 in percent-encoded value: \"%s\"",
				"forbidden value %%00 in the percent-encoded value of \"%s\"")
		}
		b = append(b, hi<<4|lo)
		i += 3
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) {
		return "", fail("unexpected spaces found in \"%s\", use percent-encoded spaces (%%20) instead",
			"unexpected spaces found in the value of \"%s\", use percent-encoded spaces (%%20) instead")
	}
	return string(b), nil
}

// percentEncodeAdvice ends the message for a URI whose user info is not
// clear.
const percentEncodeAdvice = "percent-encode special characters in the user name and password (@ as %40, / as %2F, : as %3A, % as %25), and any @ in the database name or a parameter value"

// checkUserInfo refuses a URI whose user info libpq would split where the
// writer did not mean it to: one holding an "@" other than the single one
// libpq ends the user info at (the first "@" before any "/"). A password
// holding an unencoded "@" or "/" makes libpq take part of it for the host
// (which is then looked up in DNS), the port or the database name, and
// quote it in errors: "postgres://u:Secr@tPart2@host/db" has libpq connect
// to host "tPart2@host" as user "u" with password "Secr", and
// "postgres://u:pa/ss@host/db" has it connect to host "u" on port "pa".
// Once the URI holds at most that one "@", what precedes it is the user
// info and nothing else is. The error shows the URI with everything up to
// the last "@" masked when that "@" comes before any "?" (the rest, the
// host, database and parameters, holds no part of the user info then),
// and no URI at all otherwise.
func checkUserInfo(uri string, prefix int) error {
	rest := uri[prefix:]
	ats := strings.Count(rest, "@")
	if ats == 0 {
		return nil
	}
	if end := strings.IndexAny(rest, "@/"); ats == 1 && rest[end] == '@' {
		return nil
	}
	last := strings.LastIndexByte(rest, '@')
	if q := strings.IndexByte(rest, '?'); q >= 0 && q < last {
		return syntaxError("the connection URI holds an \"@\" that does not end its user info (postgres://USER:PASSWORD@HOST/DBNAME), so libpq would split it in the wrong place; %s", percentEncodeAdvice)
	}
	shown := maskURI(uri[:prefix] + rest[last+1:])
	shown = shown[:prefix] + mask + "@" + shown[prefix:]
	return syntaxError("the connection URI %q holds more than one \"@\", or one after a \"/\", so libpq would split its user info in the wrong place; %s", shown, percentEncodeAdvice)
}

// maskURI returns uri with the user info (user name and password) and the
// values of secret query parameters replaced by the mask, without failing
// on anything: it is for quoting a URI that did not parse in an error
// message.
func maskURI(uri string) string {
	prefix := uriPrefixLen(uri)
	rest := uri[prefix:]
	var b strings.Builder
	b.WriteString(uri[:prefix])
	if at := strings.IndexAny(rest, "@/"); at >= 0 && rest[at] == '@' {
		b.WriteString(mask)
		b.WriteByte('@')
		rest = rest[at+1:]
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		b.WriteString(rest)
		return b.String()
	}
	b.WriteString(rest[:q+1])
	for j, param := range strings.Split(rest[q+1:], "&") {
		if j > 0 {
			b.WriteByte('&')
		}
		if eq := strings.IndexByte(param, '='); eq >= 0 && isSecret(lenientDecode(param[:eq])) {
			param = param[:eq+1] + mask
		}
		b.WriteString(param)
	}
	return b.String()
}

// lenientDecode decodes what uriDecode would, keeping anything invalid as
// written; it never fails.
func lenientDecode(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			hi, ok := unhex(byteAt(s, i+1))
			lo, ok2 := unhex(byteAt(s, i+2))
			if ok && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return strings.Trim(string(b), " ")
}
