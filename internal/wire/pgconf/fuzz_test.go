package pgconf_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

var secretKeywords = []string{"password", "sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"}

// FuzzParse: Parse never panics; on success every key is Known, Settings
// render and parse back, and the redacted string parses to the same
// settings with secrets masked; on failure the error is a *ParseError and
// Redact does not echo the input.
func FuzzParse(f *testing.F) {
	for _, tc := range conninfoCases {
		f.Add(tc.input)
	}
	for _, tc := range uriCases {
		f.Add(tc.input)
	}
	for _, tc := range redactCases {
		f.Add(tc.input)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := pgconf.Parse(s)
		red := pgconf.Redact(s)
		if err != nil {
			var pe *pgconf.ParseError
			if !errors.As(err, &pe) || pe.Msg == "" || pe.Kind == 0 {
				t.Fatalf("Parse(%q) error %#v", s, err)
			}
			if red != "(unparsable connection string)" {
				t.Fatalf("Redact(%q) = %q for an unparsable string", s, red)
			}
			return
		}
		for k := range st {
			if !pgconf.Known(k) {
				t.Fatalf("Parse(%q) set unknown keyword %q", s, k)
			}
		}

		masked := maps.Clone(st)
		for _, k := range secretKeywords {
			if _, ok := masked[k]; ok {
				masked[k] = "xxxxx"
			}
		}
		back, err := pgconf.Parse(st.String())
		if err != nil || !maps.Equal(back, masked) {
			t.Fatalf("Settings.String of %q = %q parses to %v, %v", s, st.String(), back, err)
		}

		rst, err := pgconf.Parse(red)
		if err != nil {
			t.Fatalf("Redact(%q) = %q does not parse: %v", s, red, err)
		}
		for k, v := range rst {
			if isSecretKeyword(k) {
				if v != "xxxxx" {
					t.Fatalf("Redact(%q) = %q leaves %s=%q", s, red, k, v)
				}
				continue
			}
			if st[k] != v {
				t.Fatalf("Redact(%q) = %q changes %s: %q → %q", s, red, k, st[k], v)
			}
		}
		for k := range st {
			if _, ok := rst[k]; !ok {
				t.Fatalf("Redact(%q) = %q loses %s", s, red, k)
			}
		}
	})
}

func isSecretKeyword(k string) bool {
	for _, s := range secretKeywords {
		if s == k {
			return true
		}
	}
	return false
}

// escapeField writes v as a password-file field that matches exactly v.
func escapeField(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\\' || c == ':' || c == '#' || c == '*' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// FuzzParsePassfile: parsing and looking up never panic, and a line
// written with escapeField in front of arbitrary content is the one found.
func FuzzParsePassfile(f *testing.F) {
	f.Add(samplePassfile, "h", "db", "erin", "pw")
	f.Add("#c\n\n*:*:*:*:x\r\n", "::1", "app", "bob", `p:w\`)
	f.Add(`\:\:1:5432:*:carol:pw`, "*", "d", "#u", "")
	f.Add("a:b:c:d", "", "x", "y", "z")
	f.Fuzz(func(t *testing.T, data, host, database, user, password string) {
		pf, err := pgconf.ParsePassfile(strings.NewReader(data))
		if err != nil || pf == nil {
			t.Fatalf("ParsePassfile: %v, %v", pf, err)
		}
		pf.Lookup(host, "5432", database, user)
		pf.Lookup(data, data, data, data)

		for _, v := range []string{host, database, user, password} {
			if strings.ContainsAny(v, "\r\n\x00") {
				return
			}
		}
		line := escapeField(host) + ":5432:" + escapeField(database) + ":" + escapeField(user) + ":" + escapeField(password) + "\n"
		pf, err = pgconf.ParsePassfile(strings.NewReader(line + data))
		if err != nil {
			t.Fatal(err)
		}
		got, ok := pf.Lookup(host, "5432", database, user)
		if database == "" || user == "" {
			if ok {
				t.Fatalf("matched with empty database or user: %q", got)
			}
			return
		}
		if !ok || got != password {
			t.Fatalf("line %q: Lookup = %q, %v; want %q", line, got, ok, password)
		}
	})
}
