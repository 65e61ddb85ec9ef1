package cli_test

import (
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// TestNoRawControlsOnStderr: what others wrote — a server's error, detail,
// hint and notices, stored data quoted in a cast error, a jq error value —
// reaches stderr with its control characters escaped, so that it cannot
// drive the user's terminal.
func TestNoRawControlsOnStderr(t *testing.T) {
	srv := pgtest.Require(t)
	psqlValue(t, srv, `CREATE OR REPLACE FUNCTION f_hostile_notice() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE E'\x1b[2Jcleared'; RETURN true; END $$;
CREATE OR REPLACE FUNCTION f_hostile_error() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION E'msg \x1b]0;title\x07' USING DETAIL = E'detail \u009b31m', HINT = E'hint \u202eevil'; END $$`)
	dsn := srv.ConnString(pgtest.RoleTrust, false)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // escaped forms expected on stderr
	}{
		{"cast error of a literal", []string{"--where", `E'\x1b[31mX'::int = 1`}, 4, []string{`"\u001b[31mX"`}},
		{"cast error of stored data", []string{"--where", `(data->>'name' || E'\x1b[5m')::int = 1`}, 4, []string{`\u001b[5m`}},
		{"error, detail and hint", []string{"--where", "f_hostile_error()"}, 4,
			[]string{`msg \u001b]0;title\u0007`, `DETAIL: detail \u009b31m`, `HINT: hint \u202eevil`}},
		{"notice", []string{"--where", "f_hostile_notice()", "--limit", "1"}, 0, []string{`fraise: NOTICE: \u001b[2Jcleared`}},
		{"jq error value", []string{"--jq", `error("\u001b[31mred")`}, 5, []string{`\u001b[31mred`}},
		{"jq error skipped", []string{"--jq", `error("\u001b[31mred")`, "--on-jq-error", "skip", "--limit", "1"}, 0, []string{`\u001b[31mred`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"stream", "v_user", "-d", dsn}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q\nlacks %q", stderr, w)
				}
			}
			if i := strings.IndexFunc(stderr, func(r rune) bool {
				return r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r <= 0x9f || r == 0x202e
			}); i >= 0 {
				t.Errorf("stderr holds a raw control character at %d: %q", i, stderr)
			}
		})
	}
}
