package wire_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// TestParseConfigURIUserInfo checks that a URI whose password holds an
// unencoded "@" or "/" fails in ParseConfig, before any host is looked up
// or dialled (libpq would look up "tPart2@127.0.0.1", a piece of the
// password, and quote it, or quote "Secr" as a port), with an error that
// quotes no piece of the password and says to percent-encode.
func TestParseConfigURIUserInfo(t *testing.T) {
	for _, tc := range []struct{ uri, password string }{
		{"postgres://u:Secr@tPart2@127.0.0.1/db", "Secr@tPart2"},
		{"postgres://u:Secr@tPart2@db.example.com:5432/db", "Secr@tPart2"},
		{"postgres://u:Secr/tPart2@127.0.0.1/db", "Secr/tPart2"},
		{"postgresql://u:p@ss:word@localhost:5432/db", "p@ss:word"},
		{"postgres://u:Secr@tPart2@[::1]:5432,db.example.com/db", "Secr@tPart2"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			cfg, err := wire.ParseConfig(tc.uri, envOf(nil))
			var ce *wire.ConfigError
			var pe *pgconf.ParseError
			if !errors.As(err, &ce) || !errors.As(err, &pe) {
				t.Fatalf("ParseConfig = %+v, %v; want a *ConfigError from the parser", cfg, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "percent-encode special characters in the user name and password (@ as %40, / as %2F, : as %3A, % as %25)") {
				t.Errorf("no advice: %s", msg)
			}
			quoted := strings.ReplaceAll(msg, "user name and password", "")
			for i := 0; i+3 <= len(tc.password); i++ {
				if p := tc.password[i : i+3]; strings.Contains(quoted, p) {
					t.Errorf("the error quotes %q of the password: %s", p, msg)
				}
			}
		})
	}
	// Encoded, the same password parses whole, and the host is the host.
	cfg, err := wire.ParseConfig("postgres://u:Secr%40tPart2@127.0.0.1/db", envOf(nil))
	if err != nil || cfg.Password != "Secr@tPart2" || len(cfg.Hosts) != 1 || cfg.Hosts[0].Name != "127.0.0.1" {
		t.Errorf("encoded: %+v, %v", cfg, err)
	}
}
