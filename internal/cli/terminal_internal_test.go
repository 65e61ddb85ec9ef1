package cli

import "testing"

func TestSafeText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "relation \"v_user\" does not exist", "relation \"v_user\" does not exist"},
		{"tab and newline kept", "a\tb\nc", "a\tb\nc"},
		{"escape sequence", "\x1b[31mX", `\u001b[31mX`},
		{"carriage return", "ok\rfake", `ok\u000dfake`},
		{"bell, backspace, NUL", "\a\b\x00", `\u0007\u0008\u0000`},
		{"DEL", "a\x7fb", `a\u007fb`},
		{"C1 CSI as UTF-8", "\u009b2J", `\u009b2J`},
		{"bidi override", "abc\u202edcba", `abc\u202edcba`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"invalid UTF-8", "a\xffb\x9b", `a\xffb\x9b`},
		{"non-ASCII text kept", "pw-scram-Ω, Zürich, 東京", "pw-scram-Ω, Zürich, 東京"},
		{"JSON stays JSON", `{"server_version":"15` + "\u009b" + `"}`, `{"server_version":"15\u009b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := safeText(tc.in); got != tc.want {
				t.Errorf("safeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
