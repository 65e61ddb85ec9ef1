package cli

import (
	"strings"
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

// TestPrivilegeAdvice: a 42501 is advised on by what the server says was
// refused: a relation, a function, a schema, a large object, or a
// function kept for privileged roles.
func TestPrivilegeAdvice(t *testing.T) {
	for _, tc := range []struct{ message, want string }{
		{"permission denied for view v_secret", "GRANT SELECT"},
		{"permission denied for table t_secret", "GRANT SELECT"},
		{"permission denied for function lo_import", "GRANT EXECUTE ON FUNCTION"},
		{"permission denied for function pg_read_file", "GRANT EXECUTE ON FUNCTION"},
		{"permission denied for schema hidden", "GRANT USAGE ON SCHEMA"},
		{"permission denied for large object 16384", "GRANT SELECT ON LARGE OBJECT"},
		{"must be superuser to use server-side lo_import()", "predefined role"},
	} {
		t.Run(tc.message, func(t *testing.T) {
			err := &wire.QueryError{Step: "execute", Err: &wire.PgError{Code: "42501", Message: tc.message}}
			if got := adviceFor(err); !strings.Contains(got, tc.want) {
				t.Errorf("adviceFor(%q) = %q, want it to mention %q", tc.message, got, tc.want)
			}
		})
	}
}
