package cli_test

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// TestNoPasswordInVerboseOutput: with --verbose (text and JSON logs) and
// --stats, for every authentication method and every way of giving the
// password (PGPASSWORD, the URL, ~/.pgpass), on success and on a refused
// password, nothing fraise writes contains the password, plain or
// percent-encoded. The logs do say which method was used.
func TestNoPasswordInVerboseOutput(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	f := srv.TLS
	tlsKV := " sslmode=verify-full sslrootcert=" + f.CACert
	tcpTLS := "host=" + pgtest.TLSServerName + " hostaddr=127.0.0.1 port=" + strconv.Itoa(srv.ClientPort()) + " dbname=" + pgtest.Database
	type way struct {
		name string
		dsn  string
		env  []string
	}
	home := t.TempDir()
	for _, tc := range []struct {
		role, method string
		tls          bool
	}{
		{pgtest.RolePassword, "password", false},
		{pgtest.RoleMD5, "md5", false},
		{pgtest.RoleSCRAM, "scram-sha-256", false},
		{pgtest.RoleTLSOnly, "scram-sha-256", true},
	} {
		pw := pgtest.Password(tc.role)
		base := srv.ConnString(tc.role, true) + " sslmode=disable"
		if tc.tls {
			base = tcpTLS + " user=" + tc.role + tlsKV
		}
		u := srv.URL(tc.role, true)
		if tc.tls {
			u = strings.Replace(u, "127.0.0.1", pgtest.TLSServerName, 1) + "?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=" + url.QueryEscape(f.CACert)
		} else {
			u += "?sslmode=disable"
		}
		passfile := filepath.Join(home, tc.role+".pgpass")
		if err := os.WriteFile(passfile, []byte("*:*:*:"+tc.role+":"+strings.ReplaceAll(pw, ":", `\:`)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, w := range []way{
			{"PGPASSWORD", base, []string{"PGPASSWORD=" + pw}},
			{"URL", u, nil},
			{"pgpass", base, []string{"PGPASSFILE=" + passfile}},
			{"wrong password", base, []string{"PGPASSWORD=" + pw + "-wrong"}},
		} {
			for _, format := range []string{"text", "json"} {
				t.Run(tc.role+"/"+w.name+"/"+format, func(t *testing.T) {
					cmd := exec.Command(os.Args[0], "stream", "v_user", "--limit", "1", "-v", "--log-format", format, "--stats", "-d", w.dsn)
					cmd.Env = append(append(os.Environ(), "HOME="+home, "PGPASSWORD=", "PGPASSFILE="+filepath.Join(home, "none")), w.env...)
					code, stdout, stderr := runFraise(t, cmd)
					wantCode := 0
					if w.name == "wrong password" {
						wantCode = 3
					}
					if code != wantCode {
						t.Fatalf("exit %d, want %d; stderr:\n%s", code, wantCode, stderr)
					}
					for _, secret := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw), pw + "-wrong"} {
						if strings.Contains(stderr, secret) || strings.Contains(stdout, secret) {
							t.Errorf("the password %q appears in the output:\n%s", secret, stderr)
						}
					}
					if code == 0 && !strings.Contains(stderr, tc.method) {
						t.Errorf("the logs do not name the method %s:\n%s", tc.method, stderr)
					}
					if code == 0 && tc.tls && !strings.Contains(stderr, "TLS 1.3") && !strings.Contains(stderr, "TLS 1.2") {
						t.Errorf("the logs do not give the TLS version:\n%s", stderr)
					}
				})
			}
		}
	}
}
