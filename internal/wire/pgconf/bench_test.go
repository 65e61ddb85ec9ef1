package pgconf_test

import (
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// BenchmarkParse measures Parse on the three shapes of connection string
// fraise is given: a key/value conninfo with a quoted password holding a
// space and an escaped quote, a postgres:// URL with userinfo, two hosts,
// a database and percent-encoded query parameters, and the shortest useful
// conninfo.
func BenchmarkParse(b *testing.B) {
	tests := []struct {
		name  string
		input string
		key   string // a keyword to check in the result
		want  string // its expected value
		n     int    // how many keywords the result holds
	}{
		{
			name:  "conninfo",
			input: `host=db.example.com port=5433 dbname=app user=alice password='it\'s a secret' application_name=fraise sslmode=disable`,
			key:   "password", want: "it's a secret", n: 7,
		},
		{
			name:  "url",
			input: "postgres://alice:p%40ss%2Fw0rd@host1:5432,host2:5433/app%5Fdb?sslmode=disable&application_name=fraise%20bench&connect_timeout=10",
			key:   "application_name", want: "fraise bench", n: 8,
		},
		{
			name:  "short",
			input: "dbname=x",
			key:   "dbname", want: "x", n: 1,
		},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st, err := pgconf.Parse(tt.input)
				if err != nil {
					b.Fatal(err)
				}
				if st[tt.key] != tt.want || len(st) != tt.n {
					b.Fatalf("Parse(%q) = %v, want %s=%q among %d keywords", tt.input, st, tt.key, tt.want, tt.n)
				}
			}
		})
	}
}

// benchPassfile is a 20-line password file with comments, a blank line,
// wildcards, escaped colons and backslashes, and an IPv6 host. The line
// the benchmarks look up is near the end, so Lookup tries most lines.
const benchPassfile = `# ~/.pgpass used by the benchmarks
#*:*:*:*:commented-out

db1.example.com:5432:app:alice:pw-alice
db1.example.com:5432:app:bob:pw-bob
db2.example.com:5432:*:alice:pw-alice-db2
db2.example.com:5433:reports:carol:pw\:with\:colons
\:\:1:5432:app:dave:pw-ipv6
::1:5433:app:dave:pw-ipv6-unescaped
/var/run/postgresql:5432:app:erin:pw-socket
localhost:5432:app:frank:back\\slash
localhost:*:app:grace:pw-any-port
10.0.0.1:5432:app:heidi:pw-heidi
10.0.0.2:5432:app:ivan:pw-ivan
10.0.0.3:5432:app:judy:pw-judy
10.0.0.4:5432:app:mallory:pw-mallory
*:5432:analytics:oscar:pw-oscar
*:*:warehouse:peggy:pw\:peggy\\x
db3.example.com:6432:app:trent:pw-trent
*:*:*:victor:pw-victor
`

// BenchmarkPassfile measures reading a password file and finding the
// password for a connection ("parse+lookup", what Connect does when no
// password is given), and the lookup alone on an already parsed file.
func BenchmarkPassfile(b *testing.B) {
	const want = `pw:peggy\x`
	lookup := func(b *testing.B, pf *pgconf.Passfile) {
		pw, ok := pf.Lookup("db9.example.com", "5432", "warehouse", "peggy")
		if !ok || pw != want {
			b.Fatalf("Lookup = %q, %t; want %q, true", pw, ok, want)
		}
	}
	b.Run("parse+lookup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pf, err := pgconf.ParsePassfile(strings.NewReader(benchPassfile))
			if err != nil {
				b.Fatal(err)
			}
			lookup(b, pf)
		}
	})
	b.Run("lookup", func(b *testing.B) {
		pf, err := pgconf.ParsePassfile(strings.NewReader(benchPassfile))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			lookup(b, pf)
		}
	})
}
