package pgtest_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.RunMain(m))
}

// psqlAs runs query through psql as role on host (a socket directory or
// an IP address) with PGPASSWORD set to password unless it is empty.
func psqlAs(t *testing.T, s *pgtest.Server, host, role, password, query string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := s.PsqlCommand(ctx, "-h", host, "-U", role, "-c", query)
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return strings.TrimSpace(stderr.String()), err
	}
	return strings.TrimSpace(stdout.String()), nil
}

// This test comes first so it reports the start-up time of the shared
// server.
func TestStart(t *testing.T) {
	start := time.Now()
	s := pgtest.Require(t)
	t.Logf("shared server ready in %v: PostgreSQL %d on port %d, IPv6 %v, dir %s",
		time.Since(start).Round(time.Millisecond), s.Major, s.Port, s.HasIPv6, s.Dir)
	if s.Major < 12 {
		t.Errorf("Major = %d, want >= 12", s.Major)
	}
	if s.Port <= 0 {
		t.Errorf("Port = %d", s.Port)
	}
	for _, dir := range []string{s.Dir, s.SocketDir, s.DataDir} {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("%s is not a directory: %v", dir, err)
		}
	}
	if s2 := pgtest.Require(t); s2 != s {
		t.Errorf("Require returned a different server the second time")
	}
	out, err := s.Psql(context.Background(), "SELECT current_user, current_database(), current_setting('fsync')")
	if err != nil {
		t.Fatal(err)
	}
	if want := pgtest.Superuser + "|" + pgtest.Database + "|off\n"; out != want {
		t.Errorf("Psql output = %q, want %q", out, want)
	}
	if _, err := s.Psql(context.Background(), "SELECT * FROM no_such_table"); err == nil ||
		!strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("Psql error for a bad query = %v, want one quoting psql's stderr", err)
	}
}

func TestLogin(t *testing.T) {
	s := pgtest.Require(t)
	hosts := []struct{ name, host string }{
		{"socket", s.SocketDir},
		{"tcp4", "127.0.0.1"},
	}
	if s.HasIPv6 {
		hosts = append(hosts, struct{ name, host string }{"tcp6", "::1"})
	}
	roles := []struct {
		role     string
		password string // empty: the method is trust
	}{
		{pgtest.Superuser, ""},
		{pgtest.RoleTrust, ""},
		{pgtest.RolePassword, "pw-cleartext"},
		{pgtest.RoleMD5, "pw-md5"},
		{pgtest.RoleSCRAM, "pw-scram-Ω"},
	}
	for _, h := range hosts {
		for _, r := range roles {
			t.Run(h.name+"/"+r.role, func(t *testing.T) {
				t.Parallel()
				if got := pgtest.Password(r.role); got != r.password {
					t.Errorf("Password(%q) = %q, want %q", r.role, got, r.password)
				}
				out, err := psqlAs(t, s, h.host, r.role, r.password, "SELECT current_user")
				if err != nil || out != r.role {
					t.Fatalf("login with the right password: %q, %v", out, err)
				}
				if r.password == "" {
					return
				}
				for _, bad := range []string{"", "wrong-" + r.password} {
					out, err := psqlAs(t, s, h.host, r.role, bad, "SELECT current_user")
					if err == nil {
						t.Errorf("login with password %q succeeded: %q", bad, out)
					} else if !strings.Contains(out, "password") {
						t.Errorf("login with password %q failed for another reason: %s", bad, out)
					}
				}
			})
		}
	}
}

func TestStoredPasswords(t *testing.T) {
	s := pgtest.Require(t)
	tests := []struct{ role, pattern string }{
		{pgtest.RoleMD5, "md5%"},
		{pgtest.RoleSCRAM, "SCRAM-SHA-256$%"},
		{pgtest.RolePassword, "SCRAM-SHA-256$%"},
	}
	for _, tt := range tests {
		out, err := s.Psql(context.Background(),
			"SELECT rolpassword LIKE :'pat' FROM pg_authid WHERE rolname = :'role'",
			"-v", "pat="+tt.pattern, "-v", "role="+tt.role)
		if err != nil {
			t.Fatal(err)
		}
		if out != "t\n" {
			t.Errorf("password of %s is not stored as %s: %q", tt.role, tt.pattern, out)
		}
	}
}

func TestFixtures(t *testing.T) {
	s := pgtest.Require(t)
	tests := []struct {
		relation string
		want     int
	}{
		{"v_user", 20},
		{"v_user_json", 20},
		{"v_seq", 100000},
		{`"Odd Schema"."MixedCase"`, 3},
		{"v_tricky", 12},
		{"v_tricky_jsonb", 11},
		{"v_domain", 20},
		{"t_victim", 3},
	}
	for _, tt := range tests {
		t.Run(tt.relation, func(t *testing.T) {
			out, err := s.Psql(context.Background(), "SELECT count(*) FROM "+tt.relation)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := strconv.Atoi(strings.TrimSpace(out)); err != nil || got != tt.want {
				t.Errorf("count(*) = %q, want %d", out, tt.want)
			}
		})
	}
	// Any role may read the fixtures.
	out, err := psqlAs(t, s, s.SocketDir, pgtest.RoleTrust, "", `SELECT count(*) FROM "Odd Schema"."MixedCase"`)
	if err != nil || out != "3" {
		t.Errorf("reading fixtures as %s: %q, %v", pgtest.RoleTrust, out, err)
	}
}

func TestConnectionStrings(t *testing.T) {
	s := pgtest.Require(t)
	// The client-facing strings lead to the pooler when there is one.
	port, sock := strconv.Itoa(s.Port), s.SocketDir
	if s.Pooler != nil {
		port, sock = strconv.Itoa(s.Pooler.Port), s.Pooler.SocketDir
	}

	if got, want := s.ConnString(pgtest.RoleMD5, true),
		"host=127.0.0.1 port="+port+" user=fraise_md5 dbname=fraise_test"; got != want {
		t.Errorf("ConnString(tcp) = %q, want %q", got, want)
	}
	if got, want := s.ConnString(`o'dd \role`, false),
		"host="+sock+" port="+port+` user='o\'dd \\role' dbname=fraise_test`; got != want {
		t.Errorf("ConnString(socket) = %q, want %q", got, want)
	}
	if got, want := s.URL(pgtest.RoleSCRAM, true),
		"postgres://fraise_scram:pw-scram-%CE%A9@127.0.0.1:"+port+"/fraise_test"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if got, want := s.URL(pgtest.RoleTrust, true), "postgres://fraise_trust@127.0.0.1:"+port+"/fraise_test"; got != want {
		t.Errorf("URL(trust) = %q, want %q", got, want)
	}
	if u, err := url.Parse(s.URL(pgtest.RoleSCRAM, true)); err != nil {
		t.Error(err)
	} else if pw, _ := u.User.Password(); pw != pgtest.Password(pgtest.RoleSCRAM) {
		t.Errorf("URL password decodes to %q", pw)
	}
	wantEnv := []string{"PGHOST=" + sock, "PGPORT=" + port, "PGDATABASE=fraise_test"}
	if got := s.Env(); strings.Join(got, " ") != strings.Join(wantEnv, " ") {
		t.Errorf("Env() = %q, want %q", got, wantEnv)
	}

	// Each form really connects.
	ctx := context.Background()
	cases := []struct {
		name string
		cmd  *exec.Cmd
	}{
		{"conninfo socket", s.PsqlCommand(ctx, "-d", s.ConnString(pgtest.RoleTrust, false), "-c", "SELECT current_user")},
		{"conninfo tcp", s.PsqlCommand(ctx, "-d", s.ConnString(pgtest.RoleTrust, true), "-c", "SELECT current_user")},
		{"url with password", s.PsqlCommand(ctx, "-d", s.URL(pgtest.RoleSCRAM, true), "-c", "SELECT current_user")},
	}
	for _, c := range cases {
		out, err := c.cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "fraise_") {
			t.Errorf("%s: %q, %v", c.name, out, err)
		}
	}
	envCmd := exec.CommandContext(ctx, s.PsqlPath, "-X", "-w", "-At", "-U", pgtest.RoleTrust, "-c", "SELECT current_database()")
	envCmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.Dir}, s.Env()...)
	if out, err := envCmd.CombinedOutput(); err != nil || string(out) != "fraise_test\n" {
		t.Errorf("psql with Env(): %q, %v", out, err)
	}
}

func TestCloseAndSettings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pgtest.Require(t) // skip or fail like the other tests when PostgreSQL is missing
	s, err := pgtest.Start(ctx, pgtest.Options{
		NoFixtures: true,
		Settings:   map[string]string{"work_mem": "12MB", "application_name": `it's a \ test`},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Psql(ctx, "SELECT current_setting('work_mem'), to_regclass('v_user') IS NULL")
	if err != nil {
		t.Fatal(err)
	}
	if out != "12MB|t\n" {
		t.Errorf("work_mem and missing fixtures: %q", out)
	}
	// The server parsed the quoted value from postgresql.conf.
	out, err = s.Psql(ctx, "SELECT setting FROM pg_file_settings WHERE name = 'application_name' AND applied")
	if err != nil {
		t.Fatal(err)
	}
	if want := "it's a \\ test\n"; out != want {
		t.Errorf("application_name from postgresql.conf = %q, want %q", out, want)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s behind: %v", s.Dir, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if out, err := pgtest.Require(t).Psql(ctx, "SELECT 1"); err != nil || out != "1\n" {
		t.Errorf("shared server after closing another one: %q, %v", out, err)
	}
}

func TestStartFailure(t *testing.T) {
	pgtest.Require(t) // skip or fail like the other tests when PostgreSQL is missing
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tests := []struct {
		name     string
		settings map[string]string
		wantErr  string
	}{
		{"invalid setting name", map[string]string{"bad name": "x"}, `invalid setting name "bad name"`},
		{"server refuses a value", map[string]string{"max_connections": "many"}, `invalid value for parameter "max_connections"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := pgtest.Start(ctx, pgtest.Options{NoFixtures: true, Settings: tt.settings})
			if err == nil {
				_ = s.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Start error does not contain %q:\n%v", tt.wantErr, err)
			}
		})
	}
}

// keptTestDir returns a directory for a kept cluster: short (socket paths
// are limited) and traversable by the server's user; removed at cleanup.
func keptTestDir(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("/tmp", "fraise-kept-*")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(base, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	return filepath.Join(base, "c")
}

// TestKeptDir checks that a cluster started with Options.Dir survives
// Close with its data, and that the next Start reuses it without initdb.
func TestKeptDir(t *testing.T) {
	pgtest.Require(t) // skips or fails as the shared server would
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := keptTestDir(t)

	s, err := pgtest.Start(ctx, pgtest.Options{NoFixtures: true, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != dir {
		t.Errorf("Dir = %q, want %q", s.Dir, dir)
	}
	if _, err := s.Psql(ctx, "CREATE TABLE kept AS SELECT 42 AS answer"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		t.Fatalf("Close removed the kept cluster: %v", err)
	}

	s2, err := pgtest.Start(ctx, pgtest.Options{NoFixtures: true, Dir: dir, Settings: map[string]string{"work_mem": "8MB"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	out, err := s2.Psql(ctx, "SELECT answer FROM kept; SHOW work_mem")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(out); len(got) != 2 || got[0] != "42" || got[1] != "8MB" {
		t.Errorf("second start: got %q, want the kept row 42 and work_mem 8MB", out)
	}
	if s2.Major != s.Major {
		t.Errorf("Major = %d after restart, want %d", s2.Major, s.Major)
	}
}
