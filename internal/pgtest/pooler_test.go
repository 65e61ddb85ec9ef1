package pgtest_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// TestPgBouncer: every role logs in through PgBouncer, in each pool
// mode, with the method it has directly, over the socket and over TCP
// with and without TLS, a role made after the pooler started logs in too,
// and a wrong password is refused.
func TestPgBouncer(t *testing.T) {
	s := pgtest.RequireTLS(t)
	for _, mode := range []string{"transaction", "session"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p := s.RequirePgBouncer(t, pgtest.PoolerOptions{Mode: mode, TLS: true})
			late := "fraise_late_" + mode
			if _, err := s.Psql(ctx, "DROP ROLE IF EXISTS "+late+"; CREATE ROLE "+late+" LOGIN PASSWORD 'pw-late'"); err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				role, host, sslmode, password, want string
			}{
				{role: pgtest.RoleTrust, want: "fraise_trust"},
				{role: pgtest.RoleSCRAM, host: "127.0.0.1", sslmode: "disable", want: "fraise_scram"},
				{role: pgtest.RoleSCRAM, host: "localhost", sslmode: "verify-full", want: "fraise_scram"},
				{role: pgtest.RoleMD5, host: "127.0.0.1", sslmode: "require", want: "fraise_md5"},
				{role: pgtest.RolePassword, host: "127.0.0.1", sslmode: "disable", want: "fraise_password"},
				{role: pgtest.RoleTLSOnly, host: "127.0.0.1", sslmode: "require", want: "fraise_tls_only"},
				{role: pgtest.RoleSCRAM, host: "127.0.0.1", sslmode: "disable", password: "nope", want: "error"},
				{role: late, host: "127.0.0.1", sslmode: "disable", password: "pw-late", want: late},
				{role: late, host: "127.0.0.1", sslmode: "disable", password: "nope", want: "error"},
			}
			for _, c := range cases {
				got := pooledLogin(ctx, t, s, p, c.role, c.host, c.sslmode, c.password)
				if got != c.want {
					t.Errorf("%s via %s host %q sslmode %q: got %q, want %q", c.role, mode, c.host, c.sslmode, got, c.want)
				}
			}
			log, err := os.ReadFile(p.LogFile)
			if err != nil || !strings.Contains(string(log), "login attempt: db=fraise_test user=fraise_scram") {
				t.Errorf("the pooler's log does not show the logins (%v):\n%s", err, log)
			}
		})
	}
}

// pooledLogin connects through p with psql and returns current_user, or
// "error" when the login fails.
func pooledLogin(ctx context.Context, t *testing.T, s *pgtest.Server, p *pgtest.Pooler, role, host, sslmode, password string) string {
	t.Helper()
	if host == "" {
		host = p.SocketDir
	}
	if password == "" {
		password = pgtest.Password(role)
	}
	cmd := s.PsqlCommand(ctx, "-h", host, "-p", strconv.Itoa(p.Port), "-U", role, "-c", "SELECT current_user")
	cmd.Env = append(cmd.Env, "PGPASSWORD="+password, "PGSSLROOTCERT="+s.TLS.CACert)
	if sslmode != "" {
		cmd.Env = append(cmd.Env, "PGSSLMODE="+sslmode)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Logf("%s via host %q: %v: %s", role, host, err, strings.TrimSpace(stderr.String()))
		return "error"
	}
	return strings.TrimSpace(stdout.String())
}

// TestPgBouncerGoneIsReported: a pooler that died while in use makes
// Close fail, naming its log, rather than pass unnoticed.
func TestPgBouncerGoneIsReported(t *testing.T) {
	s := pgtest.Require(t)
	p := s.RequirePgBouncer(t, pgtest.PoolerOptions{Mode: "transaction"})
	pgtest.KillPooler(p)
	if err := p.Close(); err == nil || !strings.Contains(err.Error(), "pgbouncer had exited before Close") {
		t.Errorf("Close after the pooler died = %v, want an error saying so", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("a second Close = %v, want nil", err)
	}
}
