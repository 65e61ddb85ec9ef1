package wire_test

// Host lists against real servers: failover past unreachable hosts, an
// authentication failure that must end the search, target_session_attrs,
// load_balance_hosts and the password file looked up per host. Where libpq
// has an answer, psql 15 is run with the same connection string and must
// agree with fraise.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// mhClosedPort returns a TCP port on 127.0.0.1 that nothing listens on.
func mhClosedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// mhConnect connects with a bounded context.
func mhConnect(t *testing.T, cfg *wire.Config) (*wire.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := wire.Connect(ctx, cfg)
	if conn != nil {
		t.Cleanup(func() { _ = conn.Close() })
	}
	return conn, err
}

// mhLibpq runs psql (libpq) with conninfo and "SHOW port", in an
// environment without PG* variables and with an empty home, and returns
// the port the session landed on and psql's standard error.
func mhLibpq(t *testing.T, srv *pgtest.Server, conninfo string, env ...string) (port, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := srv.PsqlClient(ctx, t.TempDir(), conninfo, "-c", "SHOW port")
	cmd.Env = append(cmd.Env, "PGGSSENCMODE=disable", "PGCONNECT_TIMEOUT=10")
	cmd.Env = append(cmd.Env, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return strings.TrimSpace(out.String()), errOut.String(), err
}

// mhShow returns the session's value of setting, read with SHOW.
func mhShow(t *testing.T, conn *wire.Conn, setting string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []string
	err := conn.QueryText(ctx, "SHOW "+setting, nil, func(values [][]byte) error {
		got = append(got, string(values[0]))
		return nil
	})
	if err != nil || len(got) != 1 {
		t.Fatalf("SHOW %s: %q, %v", setting, got, err)
	}
	return got[0]
}

// mhAgreeWithLibpq checks that psql lands on wantPort too, or fails with
// an error containing wantErr when wantPort is 0.
func mhAgreeWithLibpq(t *testing.T, srv *pgtest.Server, conninfo string, wantPort int, wantErr string, env ...string) {
	t.Helper()
	port, stderr, err := mhLibpq(t, srv, conninfo, env...)
	if srv.Pooler != nil && wantPort == srv.ClientPort() {
		// Behind a pooler, SHOW port is the server's port: the pooler's
		// own is what the client connected to.
		wantPort = srv.Port
	}
	switch {
	case wantPort != 0 && (err != nil || port != strconv.Itoa(wantPort)):
		t.Errorf("libpq oracle: psql landed on port %q (%v: %s), want %d", port, err, strings.TrimSpace(stderr), wantPort)
	case wantPort == 0 && err == nil:
		t.Errorf("libpq oracle: psql connected (port %s), want a failure containing %q", port, wantErr)
	case wantPort == 0 && !strings.Contains(stderr, wantErr):
		t.Errorf("libpq oracle: psql failed with %q, want it to contain %q", strings.TrimSpace(stderr), wantErr)
	}
}

func TestMultiHostFirstHostDown(t *testing.T) {
	srv := pgtest.Require(t)
	closed := mhClosedPort(t)
	role, db := pgtest.RoleTrust, pgtest.Database
	tests := []struct {
		name, conninfo string
		want           wire.Host
	}{
		{"tcp", fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%d user=%s dbname=%s", closed, srv.ClientPort(), role, db),
			wire.Host{Name: "127.0.0.1", Port: uint16(srv.ClientPort())}},
		{"socket", fmt.Sprintf("host=/nonexistent-dir,%s port=%d user=%s dbname=%s", srv.ClientSocketDir(), srv.ClientPort(), role, db),
			wire.Host{Name: srv.ClientSocketDir(), Port: uint16(srv.ClientPort())}},
		{"socket then tcp", fmt.Sprintf("host=/nonexistent-dir,127.0.0.1 port=%d user=%s dbname=%s", srv.ClientPort(), role, db),
			wire.Host{Name: "127.0.0.1", Port: uint16(srv.ClientPort())}},
		{"url", fmt.Sprintf("postgres://%s@127.0.0.1:%d,127.0.0.1:%d/%s", role, closed, srv.ClientPort(), db),
			wire.Host{Name: "127.0.0.1", Port: uint16(srv.ClientPort())}},
		{"hostaddr", fmt.Sprintf("host=first.invalid,second.invalid hostaddr=127.0.0.1,127.0.0.1 port=%d,%d user=%s dbname=%s sslmode=disable", closed, srv.ClientPort(), role, db),
			wire.Host{Name: "second.invalid", Addr: "127.0.0.1", Port: uint16(srv.ClientPort())}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := mhConnect(t, config(t, tt.conninfo))
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if conn.Host() != tt.want {
				t.Errorf("Host() = %+v, want %+v", conn.Host(), tt.want)
			}
			if conn.ServerParam("server_version") == "" {
				t.Error("no server_version: the session is not usable")
			}
			mhAgreeWithLibpq(t, srv, tt.conninfo, srv.ClientPort(), "")
		})
	}

	t.Run("all hosts down", func(t *testing.T) {
		conninfo := fmt.Sprintf("host=/nonexistent-dir,127.0.0.1 port=%d user=%s dbname=%s", closed, role, db)
		_, err := mhConnect(t, config(t, conninfo))
		var ce *wire.ConnectError
		if !errors.As(err, &ce) || ce.Step != wire.StepDial || len(ce.Others) != 1 || ce.Others[0].Step != wire.StepDial {
			t.Fatalf("err = %v, want two dial failures", err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "/nonexistent-dir/.s.PGSQL."+strconv.Itoa(closed)) || !strings.Contains(msg, "127.0.0.1:"+strconv.Itoa(closed)) {
			t.Errorf("error does not name both hosts:\n%s", msg)
		}
		mhAgreeWithLibpq(t, srv, conninfo, 0, "Connection refused")
	})
}

// mhReadOnlyServer starts a private cluster with log_connections on, a
// database only it has, and default_transaction_read_only switched on
// after start-up (pgtest's bootstrap could not create the database and
// roles in a read-only cluster).
func mhReadOnlyServer(t *testing.T) *pgtest.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv2, err := pgtest.Start(ctx, pgtest.Options{NoFixtures: true, Settings: map[string]string{"log_connections": "on"}})
	if err != nil {
		t.Fatalf("starting a second cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := srv2.Close(); err != nil {
			t.Error(err)
		}
	})
	sql := "CREATE DATABASE fraise_mh_only2;\nALTER SYSTEM SET default_transaction_read_only = on;\nSELECT pg_reload_conf();\n"
	if _, err := srv2.Psql(ctx, sql, "-d", "postgres"); err != nil {
		t.Fatal(err)
	}
	if err := srv2.Await(ctx, "SHOW default_transaction_read_only", "on"); err != nil {
		t.Fatal(err)
	}
	return srv2
}

// mhLogSince returns what was appended to path after offset.
func mhLogSince(t *testing.T, path string, offset int64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) < offset {
		t.Fatalf("%s shrank from %d to %d bytes", path, offset, len(b))
	}
	return string(b[offset:])
}

func mhLogSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestMultiHostTwoServers uses the shared cluster (read-write) and a
// private read-only one, srv2, started once for all subtests.
func TestMultiHostTwoServers(t *testing.T) {
	srv := pgtest.Require(t)
	srv2 := mhReadOnlyServer(t)
	p1, p2 := srv.ClientPort(), srv2.Port
	role, db := pgtest.RoleTrust, pgtest.Database

	t.Run("authentication failure stops the search", func(t *testing.T) {
		// Host 1 refuses the password; host 2 (srv2, which logs every
		// connection) must never be contacted, neither by fraise nor by
		// libpq.
		conninfo := fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%d user=%s dbname=%s sslmode=disable password=wrong-pw-K9",
			p1, p2, pgtest.RoleSCRAM, db)
		offset := mhLogSize(t, srv2.LogFile)

		_, err := mhConnect(t, config(t, conninfo))
		var ce *wire.ConnectError
		if !errors.As(err, &ce) || ce.Step != wire.StepAuth {
			t.Fatalf("err = %v, want an authentication ConnectError", err)
		}
		code, msg := passwordRefusal(srv, pgtest.RoleSCRAM, true)
		if wire.SQLState(err) != code {
			t.Errorf("SQLSTATE = %q, want %s", wire.SQLState(err), code)
		}
		if want := "127.0.0.1:" + strconv.Itoa(p1); ce.Addr != want || len(ce.Others) != 0 {
			t.Errorf("failure at %s with %d earlier attempts, want only %s", ce.Addr, len(ce.Others), want)
		}
		mhAgreeWithLibpq(t, srv, conninfo, 0, msg)

		// Positive control: one connection to srv2 is logged as one line.
		ctl, err := mhConnect(t, config(t, fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", p2, role, db)))
		if err != nil {
			t.Fatalf("control connection to srv2: %v", err)
		}
		_ = ctl.Close()
		logged := mhLogSince(t, srv2.LogFile, offset)
		if n := strings.Count(logged, "connection received"); n != 1 {
			t.Errorf("srv2 logged %d connections, want 1 (the control): the second host was tried after an authentication failure\n%s", n, logged)
		}
	})

	t.Run("server refusal moves to the next host", func(t *testing.T) {
		// fraise's documented divergence from libpq: 3D000 on host 1 tries
		// host 2, which has the database.
		conninfo := fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%d user=%s dbname=fraise_mh_only2 sslmode=disable", p1, p2, role)
		conn, err := mhConnect(t, config(t, conninfo))
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
		if conn.Host().Port != uint16(p2) {
			t.Errorf("landed on port %d, want %d", conn.Host().Port, p2)
		}
	})

	t.Run("target_session_attrs", func(t *testing.T) {
		hosts := func(a, b int) string {
			return fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%d user=%s dbname=%s sslmode=disable", a, b, role, db)
		}
		roFirst, rwFirst := hosts(p2, p1), hosts(p1, p2)
		onlyRO := fmt.Sprintf("host=127.0.0.1,%s port=%d user=%s dbname=%s sslmode=disable", srv2.SocketDir, p2, role, db)
		onlyRW := fmt.Sprintf("host=127.0.0.1,%s port=%d user=%s dbname=%s sslmode=disable", srv.ClientSocketDir(), p1, role, db)
		tests := []struct {
			name, conninfo, attrs string
			wantPort              int    // 0: the connection fails
			wantErr               string // for every host, at StepCheck
		}{
			{"any takes the first", roFirst, "any", p2, ""},
			{"read-write skips a read-only first host", roFirst, "read-write", p1, ""},
			{"read-write takes a read-write first host", rwFirst, "read-write", p1, ""},
			{"read-only takes a read-only first host", roFirst, "read-only", p2, ""},
			{"read-only skips a read-write first host", rwFirst, "read-only", p2, ""},
			{"primary takes the first", roFirst, "primary", p2, ""},
			{"primary takes the first, other order", rwFirst, "primary", p1, ""},
			{"prefer-standby falls back to the first", roFirst, "prefer-standby", p2, ""},
			{"prefer-standby falls back to the first, other order", rwFirst, "prefer-standby", p1, ""},
			{"standby finds none", roFirst, "standby", 0, "server is not in hot standby mode"},
			{"read-write among read-only hosts", onlyRO, "read-write", 0, "session is read-only"},
			{"read-only among read-write hosts", onlyRW, "read-only", 0, "session is not read-only"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				conninfo := tt.conninfo + " target_session_attrs=" + tt.attrs
				cfg := config(t, conninfo)
				if cfg.TargetSessionAttrs != tt.attrs {
					t.Fatalf("TargetSessionAttrs = %q, want %q", cfg.TargetSessionAttrs, tt.attrs)
				}
				conn, err := mhConnect(t, cfg)
				if tt.wantPort != 0 {
					if err != nil {
						t.Fatalf("Connect: %v", err)
					}
					if conn.Host().Port != uint16(tt.wantPort) {
						t.Errorf("landed on port %d, want %d", conn.Host().Port, tt.wantPort)
					}
					wantRO := "off"
					if tt.wantPort == p2 {
						wantRO = "on"
					}
					if got := mhShow(t, conn, "default_transaction_read_only"); got != wantRO {
						t.Errorf("SHOW default_transaction_read_only = %q, want %q", got, wantRO)
					}
					// PostgreSQL 14 made the server report
					// default_transaction_read_only at startup; before it,
					// fraise asks (SHOW transaction_read_only), as libpq does.
					reported := wantRO
					if srv.Major < 14 {
						reported = ""
					}
					if got := conn.ServerParam("default_transaction_read_only"); got != reported {
						t.Errorf("default_transaction_read_only reported at startup = %q, want %q", got, reported)
					}
				} else {
					var ce *wire.ConnectError
					if !errors.As(err, &ce) || ce.Step != wire.StepCheck || !strings.Contains(ce.Err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want a %s failure %q", err, wire.StepCheck, tt.wantErr)
					}
					if len(ce.Others) != 1 { // one failure per host
						t.Fatalf("%d earlier failures, want 1:\n%v", len(ce.Others), err)
					}
					for _, o := range ce.Others {
						if o.Step != wire.StepCheck || !strings.Contains(o.Err.Error(), tt.wantErr) {
							t.Errorf("earlier failure %v, want %s %q", o, wire.StepCheck, tt.wantErr)
						}
					}
				}
				mhAgreeWithLibpq(t, srv, conninfo, tt.wantPort, tt.wantErr)
			})
		}
	})

	t.Run("load_balance_hosts", func(t *testing.T) {
		closed := mhClosedPort(t)
		list := func(ports ...int) string {
			h := strings.TrimSuffix(strings.Repeat("127.0.0.1,", len(ports)), ",")
			ps := make([]string, len(ports))
			for i, p := range ports {
				ps[i] = strconv.Itoa(p)
			}
			return fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable load_balance_hosts=random", h, strings.Join(ps, ","), role, db)
		}
		zero := func(int) int { return 0 }
		last := func(n int) int { return n - 1 } // keeps the order
		tests := []struct {
			name, conninfo string
			pick           func(int) int
			wantPort       int
		}{
			// [srv, srv2]: i=1 swaps s[1] and s[0].
			{"swap puts srv2 first", list(p1, p2), zero, p2},
			{"identity keeps srv first", list(p1, p2), last, p1},
			// [srv, closed, srv2]: i=2 swaps s[2],s[0] → [srv2, closed, srv];
			// i=1 swaps s[1],s[0] → [closed, srv2, srv].
			{"three hosts, closed one first", list(p1, closed, p2), zero, p2},
			{"three hosts, identity", list(closed, p2, p1), last, p2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				cfg := config(t, tt.conninfo)
				if !cfg.LoadBalance {
					t.Fatal("load_balance_hosts=random did not set LoadBalance")
				}
				cfg.Shuffle = tt.pick
				conn, err := mhConnect(t, cfg)
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				if conn.Host().Port != uint16(tt.wantPort) {
					t.Errorf("landed on port %d, want %d", conn.Host().Port, tt.wantPort)
				}
			})
		}

		t.Run("disabled never shuffles", func(t *testing.T) {
			cfg := config(t, strings.TrimSuffix(list(p2, p1), "random")+"disable")
			called := false
			cfg.Shuffle = func(int) int { called = true; return 0 }
			conn, err := mhConnect(t, cfg)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if called || conn.Host().Port != uint16(p2) {
				t.Errorf("Shuffle called=%v, landed on %d; want no shuffle and the first host %d", called, conn.Host().Port, p2)
			}
		})

		t.Run("random source lands on one of them", func(t *testing.T) {
			conn, err := mhConnect(t, config(t, list(p1, p2)))
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if p := int(conn.Host().Port); p != p1 && p != p2 {
				t.Errorf("landed on port %d, want %d or %d", p, p1, p2)
			}
		})
	})
}

func TestLoadBalanceHostsConfig(t *testing.T) {
	tests := []struct {
		conninfo string
		env      map[string]string
		want     bool
	}{
		{"", nil, false},
		{"load_balance_hosts=random", nil, true},
		{"load_balance_hosts=disable", nil, false},
		{"postgres://h1,h2/db?load_balance_hosts=random", nil, true},
		{"", map[string]string{"PGLOADBALANCEHOSTS": "random"}, true},
		{"load_balance_hosts=disable", map[string]string{"PGLOADBALANCEHOSTS": "random"}, false},
	}
	for _, tt := range tests {
		cfg, err := wire.ParseConfig(tt.conninfo, envOf(tt.env))
		if err != nil {
			t.Errorf("ParseConfig(%q, %v): %v", tt.conninfo, tt.env, err)
			continue
		}
		if cfg.LoadBalance != tt.want || cfg.Shuffle != nil {
			t.Errorf("ParseConfig(%q, %v): LoadBalance = %v (Shuffle set: %v), want %v and no Shuffle",
				tt.conninfo, tt.env, cfg.LoadBalance, cfg.Shuffle != nil, tt.want)
		}
	}
}

// TestPgpassAgainstServer looks passwords up in a password file for the
// host actually tried, with libpq's escapes and wildcards, and checks each
// outcome against psql's.
func TestPgpassAgainstServer(t *testing.T) {
	srv := pgtest.Require(t)
	ctx := context.Background()
	const role = "fraise_mh_pgpass"
	const password = `co:lon\back\slash-Ω`
	const escaped = `co\:lon\\back\\slash-Ω`
	if _, err := srv.Psql(ctx, fmt.Sprintf("DROP ROLE IF EXISTS %s;\nCREATE ROLE %s LOGIN PASSWORD '%s';\n", role, role, password)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := srv.Psql(context.Background(), "DROP ROLE IF EXISTS "+role); err != nil {
			t.Error(err)
		}
	})
	closed := mhClosedPort(t)
	port, db, sock := strconv.Itoa(srv.ClientPort()), pgtest.Database, srv.ClientSocketDir()
	tcp := fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", srv.ClientPort(), role, db)
	unix := fmt.Sprintf("host=%s port=%d user=%s dbname=%s", sock, srv.ClientPort(), role, db)
	line := func(host, port, db, user, pw string) string {
		return strings.Join([]string{host, port, db, user, pw}, ":") + "\n"
	}
	const (
		ok    = "ok"
		badPW = "password authentication failed"
		noPW  = "no password supplied"
	)
	badCode, badMsg := passwordRefusal(srv, role, true)
	tests := []struct {
		name, conninfo, file string
		want                 string
		wantHost             string // for ok: conn.Host().Name
	}{
		{"exact line, escaped", tcp, line("127.0.0.1", port, db, role, escaped), ok, "127.0.0.1"},
		{"unescaped colon ends the password", tcp, line("127.0.0.1", port, db, role, `co:lon\\back\\slash-Ω`), badPW, ""},
		{"unescaped backslashes are dropped", tcp, line("127.0.0.1", port, db, role, `co\:lon\back\slash-Ω`), badPW, ""},
		{"host wildcard", tcp, line("*", port, db, role, escaped), ok, "127.0.0.1"},
		{"port wildcard", tcp, line("127.0.0.1", "*", db, role, escaped), ok, "127.0.0.1"},
		{"database wildcard", tcp, line("127.0.0.1", port, "*", role, escaped), ok, "127.0.0.1"},
		{"every field a wildcard", tcp, line("*", "*", "*", "*", escaped), ok, "127.0.0.1"},
		{"another database does not match", tcp, line("*", "*", "postgres", role, escaped), noPW, ""},
		{"another port does not match", tcp, line("*", strconv.Itoa(closed), "*", role, escaped), noPW, ""},
		{"127.0.0.1 is not localhost", tcp, line("localhost", "*", "*", role, escaped), noPW, ""},
		{"the first matching line wins", tcp, line("*", "*", "*", role, "wrong") + line("127.0.0.1", port, db, role, escaped), badPW, ""},
		{"comments and short lines are skipped", tcp,
			"#" + line("*", "*", "*", role, "wrong") + "*:*:" + role + ":wrong\n" + line("*", "*", "*", role, escaped), ok, "127.0.0.1"},
		{"socket directory by its path", unix, line(sock, port, "*", role, escaped), ok, sock},
		{"a socket directory that is not the default is not localhost", unix, line("localhost", port, "*", role, escaped), noPW, ""},
		{"hostaddr when no host name", fmt.Sprintf("hostaddr=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", srv.ClientPort(), role, db),
			line("127.0.0.1", port, db, role, escaped), ok, ""},
		{"host name rather than hostaddr", fmt.Sprintf("host=db.invalid hostaddr=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", srv.ClientPort(), role, db),
			line("127.0.0.1", port, db, role, escaped), noPW, ""},
		{"host name with hostaddr", fmt.Sprintf("host=db.invalid hostaddr=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", srv.ClientPort(), role, db),
			line("db.invalid", port, db, role, escaped), ok, "db.invalid"},
		// Host lists: the password is the one of the host being tried.
		{"second host's line after the first is down",
			fmt.Sprintf("host=127.0.0.1,%s port=%d,%d user=%s dbname=%s sslmode=disable", sock, closed, srv.ClientPort(), role, db),
			line(sock, port, "*", role, escaped), ok, sock},
		{"first host's line does not serve the second",
			fmt.Sprintf("host=127.0.0.1,%s port=%d,%d user=%s dbname=%s sslmode=disable", sock, closed, srv.ClientPort(), role, db),
			line("127.0.0.1", strconv.Itoa(closed), "*", role, escaped), noPW, ""},
		{"no password for a reachable first host ends the search",
			fmt.Sprintf("host=%s,127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", sock, srv.ClientPort(), role, db),
			line("127.0.0.1", port, "*", role, escaped), noPW, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pass := filepath.Join(t.TempDir(), "pgpass")
			if err := os.WriteFile(pass, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			conninfo := tt.conninfo + " passfile=" + pass
			conn, err := mhConnect(t, config(t, conninfo))
			switch tt.want {
			case ok:
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				if conn.Host().Name != tt.wantHost || conn.AuthMethod() != "scram-sha-256" {
					t.Errorf("Host().Name = %q, AuthMethod %q; want %q, scram-sha-256", conn.Host().Name, conn.AuthMethod(), tt.wantHost)
				}
			case badPW:
				var pe *wire.PgError
				if !errors.As(err, &pe) || pe.Code != badCode || !strings.HasPrefix(pe.Message, badMsg) {
					t.Fatalf("err = %v, want %s %q", err, badCode, badMsg)
				}
				var pr *wire.PasswordRefusedError
				if !errors.As(err, &pr) || !strings.Contains(pr.From, pass) {
					t.Errorf("err = %v (%+v) does not name the password file", err, pr)
				}
			case noPW:
				var ae *wire.AuthError
				var ce *wire.ConnectError
				if !errors.As(err, &ae) || !strings.Contains(ae.Msg, noPW) || !errors.As(err, &ce) || ce.Step != wire.StepAuth {
					t.Fatalf("err = %v, want %q at %s", err, noPW, wire.StepAuth)
				}
			}
			if err != nil {
				for _, secret := range []string{password, escaped, `lon\back`} {
					if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
						t.Errorf("the error shows (part of) the password: %v", err)
					}
				}
			}
			wantPort, wantErr := 0, tt.want
			switch tt.want {
			case ok:
				wantPort = srv.ClientPort()
			case badPW:
				wantErr = badMsg
			}
			mhAgreeWithLibpq(t, srv, conninfo, wantPort, wantErr)
		})
	}

	// The default socket directory is looked up as "localhost". libpq's
	// default directory is compiled in, so there is no psql oracle; this
	// changes the package variable and must not run in parallel.
	t.Run("default socket directory is localhost", func(t *testing.T) {
		saved := wire.DefaultSocketDirs
		wire.DefaultSocketDirs = []string{sock}
		t.Cleanup(func() { wire.DefaultSocketDirs = saved })
		for _, c := range []struct {
			name, conninfo, file, want string
		}{
			{"no host", fmt.Sprintf("port=%d user=%s dbname=%s", srv.ClientPort(), role, db), line("localhost", port, db, role, escaped), ok},
			{"no host, path line", fmt.Sprintf("port=%d user=%s dbname=%s", srv.ClientPort(), role, db), line(sock, port, db, role, escaped), noPW},
			{"default directory named", unix, line("localhost", port, db, role, escaped), ok},
			{"default directory named, path line", unix, line(sock, port, db, role, escaped), noPW},
		} {
			t.Run(c.name, func(t *testing.T) {
				pass := filepath.Join(t.TempDir(), "pgpass")
				if err := os.WriteFile(pass, []byte(c.file), 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := mhConnect(t, config(t, c.conninfo+" passfile="+pass))
				if c.want == ok && err != nil {
					t.Errorf("Connect: %v", err)
				}
				if c.want == noPW && (err == nil || !strings.Contains(err.Error(), noPW)) {
					t.Errorf("err = %v, want %q", err, noPW)
				}
			})
		}
	})
}
