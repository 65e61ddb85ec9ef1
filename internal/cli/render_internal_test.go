package cli

import (
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
)

// TestPoolerPasswordAdvice: a pooler's refusal of the password, with a
// code of its own, gets the advice a 28P01 gets; other startup errors with
// those codes do not.
func TestPoolerPasswordAdvice(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"PostgreSQL", &wire.ConnectError{Step: wire.StepAuth, Err: &wire.PgError{Code: "28P01", Message: "password authentication failed"}}, passwordAdvice},
		{"PgBouncer", &wire.ConnectError{Step: wire.StepAuth, Err: &wire.PgError{Code: "08P01", Message: "SASL authentication failed"}}, passwordAdvice},
		{"pgpool-II", &wire.ConnectError{Step: wire.StepAuth, Err: &wire.PgError{Code: "XX000", Message: "authentication failed"}}, passwordAdvice},
		{"PgBouncer, server down", &wire.ConnectError{Step: wire.StepStartup, Err: &wire.PgError{Code: "08P01", Message: "server login has been failing"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := adviceFor(tc.err); got != tc.want {
				t.Errorf("adviceFor = %q, want %q", got, tc.want)
			}
		})
	}
}
