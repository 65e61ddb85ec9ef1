package wire_test

// Benchmarks of the whole start-up: dial, StartupMessage, authentication,
// parameters, ReadyForQuery, Terminate. The server's side is played by the
// fake server's script steps (fakeTrust, scramServer, ...) on a Unix
// socket. fakeServer itself serves one session per *testing.T, so
// benchServer below runs the same steps for every connection it accepts.

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// benchServer accepts connections until the benchmark ends and plays a
// fresh script, from newScript, on each; errs receives each session's
// result once the fake has closed its end.
type benchServer struct {
	Dir  string
	errs chan error
}

func startBenchServer(b *testing.B, newScript func() fakeScript) *benchServer {
	b.Helper()
	dir, err := os.MkdirTemp("", "fwb")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf(".s.PGSQL.%d", fakePort))
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		_ = os.RemoveAll(dir)
		b.Fatal(err)
	}
	bs := &benchServer{Dir: dir, errs: make(chan error, 1)}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // the listener was closed
			}
			wg.Go(func() {
				_ = conn.SetDeadline(time.Now().Add(fakeTimeout))
				err := benchSession(conn, newScript())
				_ = conn.Close()
				bs.errs <- err
			})
		}
	})
	b.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		_ = os.RemoveAll(dir)
	})
	return bs
}

// benchSession reads the StartupMessage and plays script, as
// fakeServer.session does.
func benchSession(conn net.Conn, script fakeScript) error {
	be := pgproto3.NewBackend(conn, conn)
	msg, err := be.ReceiveStartupMessage()
	if err != nil {
		return fmt.Errorf("receiving the startup message: %w", err)
	}
	if _, ok := msg.(*pgproto3.StartupMessage); !ok {
		return fmt.Errorf("first message is %T, want *pgproto3.StartupMessage", msg)
	}
	return script(be, conn)
}

// BenchmarkStartup measures Connect through to ReadyForQuery and then
// Close, per authentication method, against the scripted fake server on
// a Unix socket. Each iteration also waits for the fake to see the
// Terminate, so the time includes the server's side of the exchange: for
// scram-sha-256 that is two PBKDF2 derivations (4096 iterations each) in
// scramServer besides the client's one.
func BenchmarkStartup(b *testing.B) {
	const pw = "pencil"
	md5Salt := [4]byte{1, 2, 3, 4}
	tests := []struct {
		name      string
		extra     string // conninfo appended to host, port, user and dbname
		newScript func() fakeScript
	}{
		{"trust", "", func() fakeScript {
			return fakeSeq(fakeTrust(fakeKey), fakeExpectClose)
		}},
		{"md5", "password=" + pw, func() fakeScript {
			want := fakeMD5("u", pw, md5Salt)
			return fakeSeq(fakeSend(&pgproto3.AuthenticationMD5Password{Salt: md5Salt}),
				func(be *pgproto3.Backend, _ net.Conn) error {
					pm, err := fakeRecv[*pgproto3.PasswordMessage](be)
					if err == nil && pm.Password != want {
						err = fmt.Errorf("client answered %q, want %q", pm.Password, want)
					}
					return err
				},
				fakeTrust(fakeKey), fakeExpectClose)
		}},
		{"scram-sha-256", "password=" + pw, func() fakeScript {
			s := &scramServer{pw: pw}
			// The signature needs the auth message, known only after s.final.
			sendFinal := func(be *pgproto3.Backend, conn net.Conn) error {
				v := "v=" + base64.StdEncoding.EncodeToString(s.signature())
				return fakeSend(&pgproto3.AuthenticationSASLFinal{Data: []byte(v)})(be, conn)
			}
			return fakeSeq(s.first, s.final, sendFinal, fakeTrust(fakeKey), fakeExpectClose)
		}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			bs := startBenchServer(b, tt.newScript)
			env := wire.Environment{
				LookupEnv: func(string) (string, bool) { return "", false },
				Username:  func() (string, error) { return "u", nil },
				HomeDir:   func() (string, error) { return bs.Dir, nil },
			}
			conninfo := fmt.Sprintf("host=%s port=%d user=u dbname=d %s", fakeQuote(bs.Dir), fakePort, tt.extra)
			cfg, err := wire.ParseConfig(conninfo, env)
			if err != nil {
				b.Fatalf("ParseConfig(%q): %v", conninfo, err)
			}
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				conn, err := wire.Connect(ctx, cfg)
				if err != nil {
					b.Fatalf("Connect: %v", err)
				}
				if m := conn.AuthMethod(); m != tt.name {
					b.Fatalf("AuthMethod = %q, want %q", m, tt.name)
				}
				if v := conn.ServerParam("server_version"); v != "17.2" {
					b.Fatalf("server_version = %q, want 17.2", v)
				}
				if err := conn.Close(); err != nil {
					b.Fatalf("Close: %v", err)
				}
				if err := <-bs.errs; err != nil {
					b.Fatalf("fake server: %v", err)
				}
			}
		})
	}
}
