// Rendering connection strings for logs without their secrets. The forms
// are those of the libpq documentation, "Connection Strings" (§34.1.1); the
// secret keywords are listed in keywords.go ("Parameter Key Words",
// §34.1.2).

package pgconf

import (
	"fmt"
	"slices"
	"strings"
)

// unparsable replaces, in Redact's output, a string that does not parse:
// without a parse there is no telling which part of it is a password.
const unparsable = "(unparsable connection string)"

// Redact returns the connection string s with every secret value replaced
// by "xxxxx", for echoing a DSN in logs. Secret values are those of
// password (in the URI userinfo, as a URI query parameter, or as a
// key/value pair, quoted or not), and likewise of sslpassword,
// oauth_client_secret, scram_client_key and scram_server_key. Every
// occurrence is masked, not only the one that wins; a quoted value becomes
// 'xxxxx'. The rest of s is kept as written.
//
// If s does not parse, Redact returns the placeholder
// "(unparsable connection string)" instead: a string that fails to parse
// may hold a password anywhere.
func Redact(s string) string {
	_, spans, err := parse(s)
	if err != nil {
		return unparsable
	}
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		if sp.quoted {
			b.WriteString("'" + mask + "'")
		} else {
			b.WriteString(mask)
		}
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// String renders s as a key/value connection string, keywords sorted, with
// secret values (see [Redact]) replaced by "xxxxx". Values are quoted when
// needed, so the result parses back to s apart from the masked secrets. It
// makes fmt's %v and %s safe for Settings.
func (s Settings) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		if isSecret(k) {
			b.WriteString(mask)
		} else {
			b.WriteString(quoteValue(s[k]))
		}
	}
	return b.String()
}

// GoString makes fmt's %#v as safe as %v: it wraps [Settings.String].
func (s Settings) GoString() string {
	return fmt.Sprintf("pgconf.Settings(%q)", s.String())
}

// quoteValue writes v so that conninfo_parse reads it back unchanged:
// single-quoted, with \ and ' escaped, when it is empty or holds
// whitespace, a quote or a backslash.
func quoteValue(v string) string {
	needs := v == ""
	for i := 0; i < len(v) && !needs; i++ {
		needs = isSpace(v[i]) || v[i] == '\'' || v[i] == '\\'
	}
	if !needs {
		return v
	}
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		if v[i] == '\'' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('\'')
	return b.String()
}
