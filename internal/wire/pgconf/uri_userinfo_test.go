package pgconf_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// userInfoCases are URIs whose password (or user name) holds characters
// that end the user info unless percent-encoded. secret is what must not
// appear, in any piece of 3 bytes or more, in an error.
var userInfoCases = []struct {
	name   string
	uri    string
	secret string
	want   pgconf.Settings // nil: refused
	shown  string          // the masked URI the error quotes, "" for none
}{
	{name: "@ in the password", uri: "postgres://u:Secr@tPart2@host/db", secret: "Secr@tPart2",
		shown: "postgres://xxxxx@host/db"},
	{name: "@ in the password, IP host", uri: "postgres://u:Secr@tPart2@127.0.0.1/db", secret: "Secr@tPart2",
		shown: "postgres://xxxxx@127.0.0.1/db"},
	{name: "/ in the password", uri: "postgres://u:pa/ss@host/db", secret: "pa/ss",
		shown: "postgres://xxxxx@host/db"},
	{name: "@ and : in the password, with a port", uri: "postgres://u:p@ss:word@host:5432/db", secret: "p@ss:word",
		shown: "postgres://xxxxx@host:5432/db"},
	{name: "@ then / in the password", uri: "postgres://u:Secr@t/Part@host/db", secret: "Secr@t/Part",
		shown: "postgres://xxxxx@host/db"},
	{name: "? and / in the password", uri: "postgres://u:p?abc=def/xyz@host/db", secret: "p?abc=def/xyz"},
	{name: "@ and ? in the password", uri: "postgres://u:Secr@t?Pass=word@host/db", secret: "Secr@t?Pass=word"},
	{name: "@ in the password, IPv6 host", uri: "postgres://u:Secr@tPart2@[::1]:5432/db", secret: "Secr@tPart2",
		shown: "postgres://xxxxx@[::1]:5432/db"},
	{name: "@ in the password, several hosts", uri: "postgres://u:Secr@tPart2@h1:5432,h2:5433/db?sslmode=disable&password=other", secret: "Secr@tPart2",
		shown: "postgres://xxxxx@h1:5432,h2:5433/db?sslmode=disable&password=xxxxx"},
	{name: "@ in the user name", uri: "postgres://me@corp:Secr3tPw@host/db", secret: "Secr3tPw",
		shown: "postgres://xxxxx@host/db"},
	{name: "@ in a password parameter", uri: "postgres://host/db?password=Secr@tPart2", secret: "Secr@tPart2"},
	{name: "@ in a parameter after user info", uri: "postgres://u:Secr3tPw@host/db?application_name=a@b", secret: "Secr3tPw"},
	{name: "@ in the database name", uri: "postgres://host/my@db", shown: "postgres://xxxxx@db"},

	{name: "encoded @ in the password", uri: "postgres://u:p%40ss@host/db", secret: "p@ss",
		want: pgconf.Settings{"user": "u", "password": "p@ss", "host": "host", "dbname": "db"}},
	{name: "encoded / @ : % in the password", uri: "postgres://u:Secr%40t%2FPa%3Art%25@host:5432/db", secret: "Secr@t/Pa:rt%",
		want: pgconf.Settings{"user": "u", "password": "Secr@t/Pa:rt%", "host": "host", "port": "5432", "dbname": "db"}},
	{name: "encoded @ in the password, IPv6 host", uri: "postgres://u:p%40ss@[::1]:5432/db", secret: "p@ss",
		want: pgconf.Settings{"user": "u", "password": "p@ss", "host": "::1", "port": "5432", "dbname": "db"}},
	{name: "encoded password, several hosts", uri: "postgres://u:pw%2Fx%40y@h1,[::1]:5433/db", secret: "pw/x@y",
		want: pgconf.Settings{"user": "u", "password": "pw/x@y", "host": "h1,::1", "port": ",5433", "dbname": "db"}},
	{name: "? and : in the password need no encoding", uri: "postgres://u:a?b:c@host", secret: "a?b:c",
		want: pgconf.Settings{"user": "u", "password": "a?b:c", "host": "host"}},
	{name: "encoded @ in a parameter", uri: "postgres://u:pw@host/db?application_name=a%40b",
		want: pgconf.Settings{"user": "u", "password": "pw", "host": "host", "dbname": "db", "application_name": "a@b"}},

	// Other errors in the authority quote it with the user info masked.
	{name: "unterminated IPv6 after user info", uri: "postgres://u:S3cretPw@[::1/db", secret: "S3cretPw",
		shown: "postgres://xxxxx@[::1/db"},
	{name: "bad escape in the user name", uri: "postgres://Us%zzer:S3cretPw@host/db", secret: "Us%zzer"},
}

// TestURIUserInfo checks that a URI whose user info libpq would split
// where its writer did not mean it is refused, with an error that quotes
// no piece of the password and says to percent-encode, and that the
// percent-encoded forms parse.
func TestURIUserInfo(t *testing.T) {
	for _, tc := range userInfoCases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := pgconf.Parse(tc.uri)
			if tc.want != nil {
				if err != nil || st.String() != tc.want.String() || st["password"] != tc.want["password"] {
					t.Fatalf("Parse = %v, %v; want %v", st, err, tc.want)
				}
				return
			}
			var pe *pgconf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want a *ParseError", st, err)
			}
			msg := err.Error()
			if piece := secretPiece(withoutAdvice(msg), tc.secret); piece != "" {
				t.Errorf("the error quotes %q of the secret %q: %s", piece, tc.secret, msg)
			}
			if strings.Contains(msg, "\"@\"") && !strings.Contains(msg, advice[0]) {
				t.Errorf("no advice to percent-encode: %s", msg)
			}
			if tc.shown != "" && !strings.Contains(msg, `"`+tc.shown+`"`) {
				t.Errorf("the error does not quote %q: %s", tc.shown, msg)
			}
			if tc.shown == "" && strings.Contains(msg, "postgres://x") {
				t.Errorf("the error quotes the URI: %s", msg)
			}
			if red := pgconf.Redact(tc.uri); secretPiece(red, tc.secret) != "" {
				t.Errorf("Redact = %q", red)
			}
		})
	}
}

// advice is the fixed text of the messages, which says "password".
var advice = []string{
	"percent-encode special characters in the user name and password (@ as %40, / as %2F, : as %3A, % as %25), and any @ in the database name or a parameter value",
	"(postgres://USER:PASSWORD@HOST/DBNAME)",
}

// withoutAdvice returns msg without the fixed advice, leaving what it
// quotes.
func withoutAdvice(msg string) string {
	for _, a := range advice {
		msg = strings.ReplaceAll(msg, a, "")
	}
	return msg
}

// secretPiece returns a piece of secret, 3 bytes or longer, that s holds,
// or "".
func secretPiece(s, secret string) string {
	for i := 0; i+3 <= len(secret); i++ {
		for j := i + 3; j <= len(secret); j++ {
			if strings.Contains(s, secret[i:j]) {
				return secret[i:j]
			}
		}
	}
	return ""
}

// FuzzURIUserInfo builds postgres://USER:PASSWORD@HOST/db from any user
// name and password: either the URI parses to that very user, password and
// host (never to pieces of them), or it is refused with an error that does
// not quote the password.
func FuzzURIUserInfo(f *testing.F) {
	for _, s := range [][2]string{
		{"u", "Secr@tPart2"}, {"u", "pa/ss"}, {"u", "p@ss:word"}, {"u", "p%40ss"}, {"me@corp", "pw"},
		{"u", "p?abc=def/xyz"}, {"u", "a?b:c"}, {"", ""}, {"u", "[::1]"}, {"u", "x,y:1"},
	} {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, user, password string, ipv6 bool) {
		if strings.ContainsAny(user, ":") || strings.Contains(user+password, "\x00") {
			return // libpq reads the user name up to the first ':'
		}
		host, wantHost := "db.example", "db.example"
		if ipv6 {
			host, wantHost = "[2001:db8::1]", "2001:db8::1"
		}
		uri := "postgres://" + user + ":" + password + "@" + host + "/db"
		st, err := pgconf.Parse(uri)
		if err != nil {
			var pe *pgconf.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): %#v", uri, err)
			}
			if len(password) >= 12 && strings.Contains(withoutAdvice(err.Error()), password) {
				t.Fatalf("Parse(%q): the error quotes the password: %v", uri, err)
			}
			return
		}
		if st["host"] != wantHost || st["dbname"] != "db" {
			t.Fatalf("Parse(%q) = %v: the host or database is not the one written", uri, st)
		}
		// Decoding may only drop outer spaces and decode %XY.
		if w := lenientUnescape(strings.Trim(password, " ")); st["password"] != w {
			t.Fatalf("Parse(%q): password %q, want %q", uri, st["password"], w)
		}
		if w := lenientUnescape(strings.Trim(user, " ")); st["user"] != w {
			t.Fatalf("Parse(%q): user %q, want %q", uri, st["user"], w)
		}
	})
}

// lenientUnescape decodes %XY escapes, as a URI that parsed had them.
func lenientUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02x", &v); err == nil {
				b.WriteByte(v)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
