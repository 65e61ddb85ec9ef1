package cli_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakePingServer serves one session on a Unix socket: it logs the client
// in, then reads the first query and hands it to answer. It returns the
// socket directory, for host=; the port in the socket's name is 5439.
func fakePingServer(t *testing.T, answer func(b *pgproto3.Backend, q string) error) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fp") // a socket path must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, ".s.PGSQL.5439"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		_ = ln.Close()
		if err := <-done; err != nil {
			t.Errorf("fake server: %v", err)
		}
	})
	go func() {
		done <- func() error {
			conn, err := ln.Accept()
			if err != nil {
				return err
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			b := pgproto3.NewBackend(conn, conn)
			if _, err := b.ReceiveStartupMessage(); err != nil {
				return err
			}
			b.Send(&pgproto3.AuthenticationOk{})
			b.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "17.2"})
			b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			if err := b.Flush(); err != nil {
				return err
			}
			msg, err := b.Receive()
			if err != nil {
				return err
			}
			q, ok := msg.(*pgproto3.Query)
			if !ok {
				return errors.New("the first message after startup is not a query")
			}
			return answer(b, q.String)
		}()
	}()
	return dir
}

// TestPingServerFailures: a server that refuses the ping's statement gives
// exit 4 with its error; one that hangs up gives exit 3.
func TestPingServerFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(b *pgproto3.Backend, q string) error
		code   int
		stderr string
	}{
		{"refused", func(b *pgproto3.Backend, q string) error {
			if !strings.HasPrefix(q, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
				return errors.New("unexpected query " + q)
			}
			b.Send(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "0A000", Message: "transactions are not supported here"})
			b.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
			return b.Flush()
		}, 4, "fraise: query failed: ERROR: transactions are not supported here (SQLSTATE 0A000)\n"},
		{"hang-up", func(*pgproto3.Backend, string) error { return nil }, 3, "fraise: lost the connection to the server: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakePingServer(t, tc.answer)
			code, stdout, stderr := run(t, "ping", "-d", "host="+dir+" port=5439 user=u dbname=d")
			if code != tc.code || stdout != "" || !strings.HasPrefix(stderr, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestReportsOutputFailure: ping and views whose output cannot be written
// exit 6.
func TestReportsOutputFailure(t *testing.T) {
	srv := pgtest.Require(t)
	for _, args := range [][]string{{"ping"}, {"ping", "--json"}, {"views"}, {"views", "--json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			code := cli.Run(context.Background(), append(args, "-d", srv.ConnString(pgtest.RoleTrust, false)), failingWriter{}, &stderr)
			if want := "fraise: cannot write output: disk full\n"; code != 6 || !strings.HasPrefix(stderr.String(), want) {
				t.Errorf("exit %d, stderr %q; want 6 and %q", code, stderr.String(), want)
			}
		})
	}
}
