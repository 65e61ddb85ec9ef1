package wire_test

// QueryText, Ping, IsStandby, RemoteAddr and ChannelBinding against a real
// server (internal/pgtest).

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// connectTo opens a session with conninfo, closed at cleanup.
func connectTo(t *testing.T, conninfo string) *wire.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := wire.Connect(ctx, config(t, conninfo))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// queryText runs QueryText and returns the rows, NULL as "<null>".
func queryText(conn *wire.Conn, sql string, params ...string) ([][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rows [][]string
	err := conn.QueryText(ctx, sql, params, func(v [][]byte) error {
		row := make([]string, len(v))
		for i, b := range v {
			row[i] = string(b)
			if b == nil {
				row[i] = "<null>"
			}
		}
		rows = append(rows, row)
		return nil
	})
	return rows, err
}

func TestQueryTextAgainstServer(t *testing.T) {
	srv := pgtest.Require(t)
	conn := connectTo(t, srv.ConnString(pgtest.RoleTrust, false))
	// One session runs statement after statement.
	rows, err := queryText(conn, "SELECT c.relname::text, $1::text, NULL, c.relkind::text FROM pg_catalog.pg_class c WHERE c.relname = $2 ORDER BY 1",
		"given", "v_user")
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"v_user", "given", "<null>", "v"}}; !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("rows %q, want %q", rows, want)
	}
	rows, err = queryText(conn, "SELECT current_setting('transaction_read_only'), current_setting('transaction_isolation')")
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"on", "repeatable read"}}; !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("transaction %q, want %q", rows, want)
	}
	if rows, err = queryText(conn, "SELECT 1 WHERE false"); err != nil || len(rows) != 0 {
		t.Errorf("empty result: %q, %v", rows, err)
	}
}

func TestQueryTextServerErrors(t *testing.T) {
	srv := pgtest.Require(t)
	for _, tc := range []struct {
		name, sql string
		params    []string
		step      wire.QueryStep
		code      string
	}{
		{"syntax error", "SELEC 1", nil, "prepare", "42601"},
		{"two statements", "SELECT 1; SELECT 2", nil, "prepare", "42601"},
		{"unknown relation", "SELECT data FROM no_such_view", nil, "prepare", "42P01"},
		{"missing parameter", "SELECT $1::text", nil, "execute", "08P01"},
		{"bad parameter value", "SELECT $1::int", []string{"x"}, "execute", "22P02"},
		{"write in the read-only transaction", "CREATE TABLE fraise_never (x int)", nil, "execute", "25006"},
		{"error while executing", "SELECT 1/0", nil, "execute", "22012"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := connectTo(t, srv.ConnString(pgtest.RoleTrust, false))
			_, err := queryText(conn, tc.sql, tc.params...)
			var qe *wire.QueryError
			var pe *wire.PgError
			if !errors.As(err, &qe) || !errors.As(err, &pe) {
				t.Fatalf("QueryText(%q) = %v (%T), want a *wire.QueryError holding a *wire.PgError", tc.sql, err, err)
			}
			if qe.Step != tc.step || pe.Code != tc.code {
				t.Errorf("QueryText(%q) = %v at step %q; want SQLSTATE %s at %q", tc.sql, err, qe.Step, tc.code, tc.step)
			}
		})
	}
}

func TestPingAndSessionFacts(t *testing.T) {
	srv := pgtest.Require(t)
	conn := connectTo(t, srv.ConnString(pgtest.RoleTrust, false))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rtts, err := conn.Ping(ctx, 3)
	if err != nil || len(rtts) != 3 {
		t.Fatalf("Ping = %v, %v", rtts, err)
	}
	standby, err := conn.IsStandby(ctx)
	if err != nil || standby {
		t.Errorf("IsStandby = %v, %v; want a primary", standby, err)
	}
	network, addr := conn.RemoteAddr()
	if want := filepath.Join(srv.ClientSocketDir(), ".s.PGSQL."+strconv.Itoa(srv.ClientPort())); network != "unix" || addr != want {
		t.Errorf("RemoteAddr = %s %s, want unix %s", network, addr, want)
	}
	if conn.ChannelBinding() {
		t.Error("ChannelBinding over a socket")
	}
}

func TestChannelBindingReported(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	home := t.TempDir()
	for _, tc := range []struct {
		binding string
		want    bool
	}{{"prefer", true}, {"disable", false}} {
		t.Run(tc.binding, func(t *testing.T) {
			if srv.Pooler != nil {
				// PgBouncer does not support channel binding: it never
				// offers SCRAM-SHA-256-PLUS, so prefer logs in unbound.
				tc.want = false
			}
			conninfo := taConninfo(srv, pgtest.TLSServerName, pgtest.RoleTLSOnly, "password", pgtest.Password(pgtest.RoleTLSOnly),
				"sslmode", "verify-full", "sslrootcert", srv.TLS.CACert, "channel_binding", tc.binding)
			conn, err := taConnect(t, conninfo, taEnv(home))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, ok := conn.TLS(); !ok || conn.AuthMethod() != "scram-sha-256" || conn.ChannelBinding() != tc.want {
				t.Errorf("TLS %v, auth %s, channel binding %v; want TLS, scram-sha-256, %v", ok, conn.AuthMethod(), conn.ChannelBinding(), tc.want)
			}
			if network, addr := conn.RemoteAddr(); network != "tcp" || addr == "" {
				t.Errorf("RemoteAddr = %s %s, want tcp and an address", network, addr)
			}
		})
	}
}

// TestEndTransaction: after a failed QueryText, whose transaction is left
// aborted, EndTransaction rolls it back and the session runs the next
// statement; on an idle session it does nothing, on a closed one it fails.
func TestEndTransaction(t *testing.T) {
	srv := pgtest.Require(t)
	conn := connectTo(t, srv.ConnString(pgtest.RoleTrust, false))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := conn.EndTransaction(ctx); err != nil {
		t.Fatalf("EndTransaction on an idle session: %v", err)
	}
	if _, err := queryText(conn, "SELECT data FROM no_such_view"); err == nil {
		t.Fatal("QueryText on a relation that does not exist succeeded")
	}
	// The aborted transaction refuses the next BEGIN until it ends.
	_, err := queryText(conn, "SELECT 1")
	var pe *wire.PgError
	if !errors.As(err, &pe) || pe.Code != "25P02" {
		t.Fatalf("QueryText after a failed one, without EndTransaction = %v, want 25P02 (in failed transaction)", err)
	}
	if err := conn.EndTransaction(ctx); err != nil {
		t.Fatalf("EndTransaction after a failed statement: %v", err)
	}
	rows, err := queryText(conn, "SELECT 1")
	if err != nil || len(rows) != 1 || rows[0][0] != "1" {
		t.Fatalf("QueryText after EndTransaction = %v, %v; want one row, 1", rows, err)
	}
	_ = conn.Close()
	if err := conn.EndTransaction(ctx); err == nil {
		t.Error("EndTransaction on a closed session succeeded")
	}
}
