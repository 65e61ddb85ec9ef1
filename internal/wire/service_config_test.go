package wire_test

// The connection service file through ParseConfig, with libpq's precedence
// (defaults < environment < service file < connection string) and file
// search order (PGSERVICEFILE or ~/.pg_service.conf, then
// PGSYSCONFDIR/pg_service.conf), and one real login through a service.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/fraiseql/fraise/internal/wire/pgconf"
)

// svcLayout is a home directory and a system configuration directory of a
// test's own, with the environment variables a case sets.
type svcLayout struct {
	home, sysconf string
	vars          map[string]string
}

// newSvcLayout makes a home and a PGSYSCONFDIR, with env set on top and
// the user and system service files written when not "".
func newSvcLayout(t *testing.T, env map[string]string, user, system string) *svcLayout {
	t.Helper()
	l := &svcLayout{home: t.TempDir(), sysconf: t.TempDir()}
	l.vars = map[string]string{"PGSYSCONFDIR": l.sysconf}
	for k, v := range env {
		l.vars[k] = v
	}
	if user != "" {
		svcWrite(t, l.userFile(), user)
	}
	if system != "" {
		svcWrite(t, l.systemFile(), system)
	}
	return l
}

func (l *svcLayout) userFile() string   { return filepath.Join(l.home, ".pg_service.conf") }
func (l *svcLayout) systemFile() string { return filepath.Join(l.sysconf, "pg_service.conf") }

func (l *svcLayout) env() wire.Environment {
	return wire.Environment{
		LookupEnv: func(k string) (string, bool) { v, ok := l.vars[k]; return v, ok },
		Username:  func() (string, error) { return "osuser", nil },
		HomeDir:   func() (string, error) { return l.home, nil },
	}
}

func svcWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// svcMain is the service most cases define in the user file.
const svcMain = "[svc]\nhost=db.example\nport=6000\nuser=svcuser\ndbname=svcdb\nsslmode=require\n"

func TestServiceFilePrecedence(t *testing.T) {
	tests := []struct {
		name     string
		conninfo string
		env      map[string]string // besides PGSYSCONFDIR
		user     string            // ~/.pg_service.conf, if not ""
		system   string            // PGSYSCONFDIR/pg_service.conf, if not ""
		explicit string            // PGSERVICEFILE's file, if not ""
		check    func(t *testing.T, c *wire.Config)
	}{
		{name: "values from the service file", conninfo: "service=svc", user: svcMain,
			check: func(t *testing.T, c *wire.Config) {
				if !reflect.DeepEqual(c.Hosts, []wire.Host{{Name: "db.example", Port: 6000}}) || c.User != "svcuser" ||
					c.Database != "svcdb" || c.TLS.Mode != "require" || c.Service != "svc" {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "service file beats environment; environment fills the rest", conninfo: "service=svc", user: svcMain,
			env: map[string]string{"PGPORT": "1", "PGHOST": "envhost", "PGUSER": "envuser", "PGSSLMODE": "disable", "PGAPPNAME": "envapp"},
			check: func(t *testing.T, c *wire.Config) {
				if !reflect.DeepEqual(c.Hosts, []wire.Host{{Name: "db.example", Port: 6000}}) || c.User != "svcuser" ||
					c.TLS.Mode != "require" || c.ApplicationName != "envapp" {
					t.Errorf("config = %+v, hosts %+v", c, c.Hosts)
				}
			}},
		{name: "connection string beats service file", conninfo: "service=svc port=7 sslmode=disable", user: svcMain,
			env: map[string]string{"PGPORT": "1"},
			check: func(t *testing.T, c *wire.Config) {
				if !reflect.DeepEqual(c.Hosts, []wire.Host{{Name: "db.example", Port: 7}}) || c.TLS.Mode != "disable" || c.User != "svcuser" {
					t.Errorf("config = %+v, hosts %+v", c, c.Hosts)
				}
			}},
		{name: "URI with a service", conninfo: "postgresql://other.example/?service=svc", user: svcMain,
			check: func(t *testing.T, c *wire.Config) {
				if !reflect.DeepEqual(c.Hosts, []wire.Host{{Name: "other.example", Port: 6000}}) || c.Database != "svcdb" {
					t.Errorf("config = %+v, hosts %+v", c, c.Hosts)
				}
			}},
		{name: "PGSERVICE", env: map[string]string{"PGSERVICE": "svc"}, user: svcMain,
			check: func(t *testing.T, c *wire.Config) {
				if c.Hosts[0].Name != "db.example" || c.Service != "svc" {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "connection string service beats PGSERVICE", conninfo: "service=svc", env: map[string]string{"PGSERVICE": "other"},
			user: svcMain + "[other]\nport=1\n",
			check: func(t *testing.T, c *wire.Config) {
				if c.Hosts[0].Port != 6000 || c.Service != "svc" {
					t.Errorf("port %d, service %q; want 6000 from svc", c.Hosts[0].Port, c.Service)
				}
			}},
		{name: "user file beats system file, without merging", conninfo: "service=svc",
			user:   "[svc]\ndbname=userdb\n",
			system: "[svc]\ndbname=sysdb\napplication_name=sysapp\n",
			check: func(t *testing.T, c *wire.Config) {
				if c.Database != "userdb" || c.ApplicationName != wire.DefaultApplicationName {
					t.Errorf("dbname %q, application_name %q; want userdb and nothing from the system file", c.Database, c.ApplicationName)
				}
			}},
		{name: "service only in the system file", conninfo: "service=svc",
			user:   "[other]\ndbname=userdb\n",
			system: "[svc]\ndbname=sysdb\n",
			check: func(t *testing.T, c *wire.Config) {
				if c.Database != "sysdb" {
					t.Errorf("dbname %q, want sysdb", c.Database)
				}
			}},
		{name: "system file without a user file", conninfo: "service=svc", system: "[svc]\ndbname=sysdb\n",
			check: func(t *testing.T, c *wire.Config) {
				if c.Database != "sysdb" {
					t.Errorf("dbname %q, want sysdb", c.Database)
				}
			}},
		{name: "PGSERVICEFILE replaces the home file", conninfo: "service=svc",
			explicit: "[svc]\nport=1111\n", user: "[svc]\nport=2222\n", system: "[svc]\nport=3333\n",
			check: func(t *testing.T, c *wire.Config) {
				if c.Hosts[0].Port != 1111 {
					t.Errorf("port %d, want 1111 from PGSERVICEFILE", c.Hosts[0].Port)
				}
			}},
		{name: "PGSERVICEFILE without the service falls back to the system file, not home", conninfo: "service=svc",
			explicit: "[other]\nport=1111\n", user: "[svc]\nport=2222\n", system: "[svc]\nport=3333\n",
			check: func(t *testing.T, c *wire.Config) {
				if c.Hosts[0].Port != 3333 {
					t.Errorf("port %d, want 3333 from the system file", c.Hosts[0].Port)
				}
			}},
		{name: "password from the service file", conninfo: "service=svc", user: "[svc]\npassword=svc-Secret-9\n",
			env: map[string]string{"PGPASSWORD": "env-pw"},
			check: func(t *testing.T, c *wire.Config) {
				if !c.HasPassword || c.Password != "svc-Secret-9" || !strings.Contains(c.PasswordSource, `service "svc"`) {
					t.Errorf("password %q (has %v) from %q; want the service's", c.Password, c.HasPassword, c.PasswordSource)
				}
			}},
		{name: "connection string password beats the service file", conninfo: "service=svc password=conn-pw", user: "[svc]\npassword=svc-Secret-9\n",
			check: func(t *testing.T, c *wire.Config) {
				if c.Password != "conn-pw" || c.PasswordSource != "the connection string" {
					t.Errorf("password %q from %q; want the connection string's", c.Password, c.PasswordSource)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newSvcLayout(t, tt.env, tt.user, tt.system)
			if tt.explicit != "" {
				p := filepath.Join(t.TempDir(), "explicit.conf")
				svcWrite(t, p, tt.explicit)
				l.vars["PGSERVICEFILE"] = p
			}
			c, err := wire.ParseConfig(tt.conninfo, l.env())
			if err != nil {
				t.Fatalf("ParseConfig(%q): %v", tt.conninfo, err)
			}
			tt.check(t, c)
		})
	}
}

func TestServiceFileErrors(t *testing.T) {
	const secret = "svc-Secret-Zq7"
	tests := []struct {
		name     string
		conninfo string
		env      map[string]string
		user     string
		system   string
		explicit string // "missing" names a file that does not exist
		kind     pgconf.ServiceErrorKind
		want     func(l *svcLayout) []string // substrings of the error
		libpq    bool                        // psql must fail with want()[0] too
	}{
		{name: "explicit PGSERVICEFILE missing", conninfo: "service=svc", explicit: "missing", user: svcMain,
			libpq: true, kind: pgconf.ServiceFileNotFound,
			want: func(l *svcLayout) []string {
				return []string{fmt.Sprintf(`service file "%s" not found`, l.vars["PGSERVICEFILE"]), `service "svc" from the connection string`}
			}},
		{name: "unknown service", conninfo: "service=x", user: svcMain, system: svcMain,
			libpq: true, kind: pgconf.ServiceNotFound,
			want: func(*svcLayout) []string { return []string{`definition of service "x" not found`} }},
		{name: "unknown service from PGSERVICE", env: map[string]string{"PGSERVICE": "x"},
			libpq: true, kind: pgconf.ServiceNotFound,
			want: func(*svcLayout) []string { return []string{`definition of service "x" not found`, "PGSERVICE"} }},
		{name: "syntax error after a password line", conninfo: "service=svc", user: "[svc]\nport=1\npassword=" + secret + "\nhost = x\n",
			libpq: true, kind: pgconf.ServiceSyntax,
			want: func(l *svcLayout) []string {
				return []string{fmt.Sprintf(`syntax error in service file "%s", line 4`, l.userFile())}
			}},
		// libpq: PGSERVICEFILE set to "" names the file "", which cannot
		// be opened (psql 15: `service file "" not found`).
		{name: "PGSERVICEFILE set to empty", env: map[string]string{"PGSERVICE": "svc", "PGSERVICEFILE": ""}, user: svcMain,
			libpq: true, kind: pgconf.ServiceFileNotFound,
			want: func(*svcLayout) []string { return []string{`service file "" not found`} }},
		// libpq looks up a service named "" when PGSERVICE or service= is
		// set but empty; the connection string's empty value also hides
		// PGSERVICE (psql 15: `definition of service "" not found`).
		{name: "PGSERVICE set to empty", env: map[string]string{"PGSERVICE": ""}, user: svcMain,
			libpq: true, kind: pgconf.ServiceNotFound,
			want: func(*svcLayout) []string { return []string{`definition of service "" not found`} }},
		{name: "service set to empty", conninfo: "service='' port=1", user: svcMain,
			libpq: true, kind: pgconf.ServiceNotFound,
			want: func(*svcLayout) []string { return []string{`definition of service "" not found`} }},
		{name: "service set to empty hides PGSERVICE", conninfo: "service='' port=1", env: map[string]string{"PGSERVICE": "svc"}, user: svcMain,
			libpq: true, kind: pgconf.ServiceNotFound,
			want: func(*svcLayout) []string { return []string{`definition of service "" not found`} }},
		// Invalid values from a service say where they came from.
		{name: "invalid sslmode in the user file", conninfo: "service=svc", user: "[svc]\npassword=" + secret + "\nsslmode=bogus\n",
			want: func(l *svcLayout) []string {
				return []string{`invalid sslmode value: "bogus" (from service "svc" in `, l.userFile()}
			}},
		{name: "invalid sslmode in the system file", conninfo: "service=svc", system: "[svc]\npassword=" + secret + "\nsslmode=bogus\n",
			want: func(l *svcLayout) []string {
				return []string{`invalid sslmode value: "bogus" (from service "svc" in `, l.systemFile()}
			}},
		{name: "invalid target_session_attrs from PGSERVICE", env: map[string]string{"PGSERVICE": "svc"},
			user: "[svc]\npassword=" + secret + "\ntarget_session_attrs=primary-ish\n",
			want: func(l *svcLayout) []string {
				return []string{`invalid target_session_attrs value: "primary-ish" (from service "svc" in `, l.userFile()}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newSvcLayout(t, tt.env, tt.user, tt.system)
			switch tt.explicit {
			case "":
			case "missing":
				l.vars["PGSERVICEFILE"] = filepath.Join(t.TempDir(), "no-such.conf")
			default:
				p := filepath.Join(t.TempDir(), "explicit.conf")
				svcWrite(t, p, tt.explicit)
				l.vars["PGSERVICEFILE"] = p
			}
			if tt.libpq {
				svcLibpqFails(t, l, tt.conninfo, tt.want(l)[0])
			}
			c, err := wire.ParseConfig(tt.conninfo, l.env())
			var ce *wire.ConfigError
			if !errors.As(err, &ce) {
				if c != nil {
					t.Fatalf("ParseConfig(%q) succeeded (service %q, hosts %v); want a ConfigError", tt.conninfo, c.Service, c.Hosts)
				}
				t.Fatalf("ParseConfig(%q): %v; want a ConfigError", tt.conninfo, err)
			}
			for _, w := range tt.want(l) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.kind != 0 {
				var se *pgconf.ServiceError
				if !errors.As(err, &se) || se.Kind != tt.kind || ce.Keyword != "service" {
					t.Errorf("error %v (keyword %q) is not a ServiceError of kind %v for keyword service", err, ce.Keyword, tt.kind)
				}
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), secret) {
				t.Errorf("the service file's password appears in the error: %v", err)
			}
		})
	}
}

// svcLibpqFails checks that psql (libpq), given the same connection string,
// environment and files, fails with an error containing want. It is
// skipped when psql is not installed.
func svcLibpqFails(t *testing.T, l *svcLayout, conninfo, want string) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Logf("no psql, no libpq oracle: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-X", "-w", "-At", "-d", conninfo, "-c", "SELECT 1")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+l.home, "PGCONNECT_TIMEOUT=2")
	for k, v := range l.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("libpq oracle: psql -d %q: %v: %s; want a failure containing %q", conninfo, err, strings.TrimSpace(string(out)), want)
	}
}

// TestServiceFileLogin logs in to a real server with everything, the
// password included, from a service file.
func TestServiceFileLogin(t *testing.T) {
	srv := pgtest.Require(t)
	l := newSvcLayout(t, nil, "", "")
	const wrong = "wrong-svc-pw-Q3"
	common := fmt.Sprintf("port=%d\ndbname=%s\n", srv.ClientPort(), pgtest.Database)
	file := filepath.Join(t.TempDir(), "services.conf")
	svcWrite(t, file, fmt.Sprintf("[fraise_ok]\nhost=%s\n%suser=%s\npassword=%s\n\n", srv.ClientSocketDir(), common, pgtest.RoleSCRAM, pgtest.Password(pgtest.RoleSCRAM))+
		fmt.Sprintf("[fraise_badpw]\nhost=127.0.0.1\n%suser=%s\npassword=%s\nsslmode=disable\n\n", common, pgtest.RoleSCRAM, wrong)+
		fmt.Sprintf("[fraise_tls]\nhost=127.0.0.1\n%suser=%s\nsslmode=require\n", common, pgtest.RoleTrust))
	l.vars["PGSERVICEFILE"] = file
	parse := func(t *testing.T, conninfo string) *wire.Config {
		t.Helper()
		cfg, err := wire.ParseConfig(conninfo, l.env())
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	t.Run("ok", func(t *testing.T) {
		cfg := parse(t, "service=fraise_ok")
		if !cfg.HasPassword {
			t.Fatal("the service file's password is not used")
		}
		conn, err := mhConnect(t, cfg)
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
		if want := (wire.Host{Name: srv.ClientSocketDir(), Port: uint16(srv.ClientPort())}); conn.Host() != want || conn.AuthMethod() != "scram-sha-256" {
			t.Errorf("Host() = %+v, AuthMethod %q; want %+v, scram-sha-256", conn.Host(), conn.AuthMethod(), want)
		}
		mhAgreeWithLibpq(t, srv, "service=fraise_ok", srv.ClientPort(), "", "PGSERVICEFILE="+file)
	})

	t.Run("wrong password", func(t *testing.T) {
		_, err := mhConnect(t, parse(t, "service=fraise_badpw"))
		code, msg := passwordRefusal(srv, pgtest.RoleSCRAM, true)
		var pe *wire.PgError
		if !errors.As(err, &pe) || pe.Code != code || !strings.HasPrefix(pe.Message, msg) {
			t.Fatalf("err = %v, want %s %q", err, code, msg)
		}
		var pr *wire.PasswordRefusedError
		if !errors.As(err, &pr) || !strings.Contains(pr.From, `service "fraise_badpw"`) {
			t.Errorf("err = %v (%+v) does not name the service", err, pr)
		}
		if strings.Contains(fmt.Sprintf("%v %+v %+v", err, err, pr), wrong) {
			t.Errorf("the password appears in the error: %v (%+v)", err, pr)
		}
		mhAgreeWithLibpq(t, srv, "service=fraise_badpw", 0, msg, "PGSERVICEFILE="+file)
	})

	t.Run("sslmode from the service", func(t *testing.T) {
		// The shared server has no TLS.
		_, err := mhConnect(t, parse(t, "service=fraise_tls"))
		var ce *wire.ConnectError
		if !errors.As(err, &ce) || ce.Step != wire.StepTLS {
			t.Fatalf("err = %v, want a %s failure", err, wire.StepTLS)
		}
		if want := `sslmode=require from service "fraise_tls" in ` + file; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
		mhAgreeWithLibpq(t, srv, "service=fraise_tls", 0, "server does not support SSL", "PGSERVICEFILE="+file)
	})
}
