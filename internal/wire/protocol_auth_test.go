package wire_test

// Start-up and authentication against the fake server: requests and
// answers a real server cannot be made to produce, and the exact bytes
// the client sends.

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/fraiseql/fraise/internal/wire/scram"
	"github.com/jackc/pgx/v5/pgproto3"
)

// asConnectError fails the test unless err is a *wire.ConnectError.
func asConnectError(t *testing.T, err error) *wire.ConnectError {
	t.Helper()
	var ce *wire.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *wire.ConnectError", err, err)
	}
	return ce
}

// fakeRawAuth is, raw, as pgproto3 cannot encode every type, an authentication request of type code with no payload.
func fakeRawAuth(code uint32) []byte {
	return []byte{'R', 0, 0, 0, 8, byte(code >> 24), byte(code >> 16), byte(code >> 8), byte(code)}
}

func TestProtocolUnsupportedAuth(t *testing.T) {
	tests := []struct {
		name    string
		request fakeScript
		method  string // as named in the message; "" for an unknown request
	}{
		{"GSSAPI", fakeSend(&pgproto3.AuthenticationGSS{}), "GSSAPI"},
		{"GSSAPI continue", fakeSend(&pgproto3.AuthenticationGSSContinue{Data: []byte("token")}), "GSSAPI"},
		{"SSPI", fakeRaw(fakeRawAuth(9)), "SSPI"},
		{"SCM credentials", fakeRaw(fakeRawAuth(6)), "SCM credential"},
		{"Kerberos V5", fakeRaw(fakeRawAuth(2)), "Kerberos V5"},
		{"unknown type 99", fakeRaw(fakeRawAuth(99)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The client has a password, and must not send it.
			fs := startFake(t, fakeSeq(tt.request, fakeExpectClose))
			env, _ := fakeEnv(t, nil)
			_, err := fakeConnect(t, fakeConfig(t, env, "password=secret", fs.Dir))
			fs.wait()
			ce := asConnectError(t, err)
			if tt.method == "" {
				if !strings.Contains(err.Error(), "99") {
					t.Errorf("error %q does not mention the request type 99", err)
				}
				return
			}
			if ce.Step != wire.StepAuth {
				t.Errorf("Step = %q, want %q", ce.Step, wire.StepAuth)
			}
			want := "server requested " + tt.method + " authentication, which fraise does not support"
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\ndoes not contain %q", err, want)
			}
			var ae *wire.AuthError
			if !errors.As(err, &ae) || !strings.Contains(ae.Hint, "pg_hba.conf") {
				t.Errorf("want a *wire.AuthError with a hint about pg_hba.conf, got %#v", ae)
			}
		})
	}
}

// scramServer plays PostgreSQL's side of SCRAM-SHA-256 for password pw.
type scramServer struct {
	pw          string
	salt        []byte
	clientBare  string
	serverFirst string
	authMessage string
}

// first sends AuthenticationSASL, reads the client-first message and
// answers with a server-first message extending the client's nonce.
func (s *scramServer) first(b *pgproto3.Backend, conn net.Conn) error {
	if err := fakeSend(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scram.Mechanism}})(b, conn); err != nil {
		return err
	}
	if err := b.SetAuthType(pgproto3.AuthTypeSASL); err != nil {
		return err
	}
	init, err := fakeRecv[*pgproto3.SASLInitialResponse](b)
	if err != nil {
		return err
	}
	if init.AuthMechanism != scram.Mechanism {
		return fmt.Errorf("mechanism %q, want %q", init.AuthMechanism, scram.Mechanism)
	}
	bare, ok := strings.CutPrefix(string(init.Data), "n,,")
	if !ok {
		return fmt.Errorf("client-first %q does not start with n,,", init.Data)
	}
	_, cnonce, ok := strings.Cut(bare, ",r=")
	if !ok || cnonce == "" {
		return fmt.Errorf("client-first %q has no nonce", init.Data)
	}
	s.clientBare = bare
	s.salt = []byte("fake-server-salt")
	s.serverFirst = "r=" + cnonce + "SERVERNONCE,s=" + base64.StdEncoding.EncodeToString(s.salt) + ",i=4096"
	if err := fakeSend(&pgproto3.AuthenticationSASLContinue{Data: []byte(s.serverFirst)})(b, conn); err != nil {
		return err
	}
	return b.SetAuthType(pgproto3.AuthTypeSASLContinue)
}

// final reads the client-final message and checks its proof.
func (s *scramServer) final(b *pgproto3.Backend, _ net.Conn) error {
	resp, err := fakeRecv[*pgproto3.SASLResponse](b)
	if err != nil {
		return err
	}
	withoutProof, proof64, ok := strings.Cut(string(resp.Data), ",p=")
	if !ok || !strings.HasPrefix(withoutProof, "c=biws,r=") {
		return fmt.Errorf("client-final %q, want c=biws,r=…,p=…", resp.Data)
	}
	s.authMessage = s.clientBare + "," + s.serverFirst + "," + withoutProof
	salted, err := pbkdf2.Key(sha256.New, s.pw, s.salt, 4096, sha256.Size)
	if err != nil {
		return err
	}
	clientKey := fakeHMAC(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	want := fakeHMAC(storedKey[:], s.authMessage)
	for i := range want {
		want[i] ^= clientKey[i]
	}
	if proof64 != base64.StdEncoding.EncodeToString(want) {
		return fmt.Errorf("client proof %s, want %s", proof64, base64.StdEncoding.EncodeToString(want))
	}
	return nil
}

// signature is the server signature that proves knowledge of the password.
func (s *scramServer) signature() []byte {
	salted, _ := pbkdf2.Key(sha256.New, s.pw, s.salt, 4096, sha256.Size)
	return fakeHMAC(fakeHMAC(salted, "Server Key"), s.authMessage)
}

func fakeHMAC(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func TestProtocolSCRAM(t *testing.T) {
	const pw = "pencil"
	sendFinal := func(s *scramServer, sig func() []byte) fakeScript {
		return func(b *pgproto3.Backend, conn net.Conn) error {
			data := "v=" + base64.StdEncoding.EncodeToString(sig())
			return fakeSend(&pgproto3.AuthenticationSASLFinal{Data: []byte(data)})(b, conn)
		}
	}
	tests := []struct {
		name   string
		script func(s *scramServer) fakeScript
		want   string // in the error; "" means the login succeeds
		is     error
	}{
		{"right signature logs in", func(s *scramServer) fakeScript {
			return fakeSeq(s.first, s.final, sendFinal(s, s.signature), fakeTrust(nil), fakeExpectClose)
		}, "", nil},
		{"Ok straight after client-first", func(s *scramServer) fakeScript {
			return fakeSeq(fakeSend(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scram.Mechanism}}),
				func(b *pgproto3.Backend, _ net.Conn) error {
					_ = b.SetAuthType(pgproto3.AuthTypeSASL)
					_, err := fakeRecv[*pgproto3.SASLInitialResponse](b)
					return err
				}, fakeTrust(nil), fakeExpectClose)
		}, "without proving it knows the password", nil},
		{"Ok without SASLFinal", func(s *scramServer) fakeScript {
			return fakeSeq(s.first, s.final, fakeTrust(nil), fakeExpectClose)
		}, "without proving it knows the password", nil},
		{"wrong v= signature", func(s *scramServer) fakeScript {
			wrong := func() []byte { sig := s.signature(); sig[0] ^= 1; return sig }
			return fakeSeq(s.first, s.final, sendFinal(s, wrong), fakeExpectClose)
		}, "signature", scram.ErrServerSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scramServer{pw: pw}
			fs := startFake(t, tt.script(s))
			env, _ := fakeEnv(t, nil)
			conn, err := fakeConnect(t, fakeConfig(t, env, "password="+pw, fs.Dir))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				if m := conn.AuthMethod(); m != "scram-sha-256" {
					t.Errorf("AuthMethod = %q, want scram-sha-256", m)
				}
				_ = conn.Close()
				fs.wait()
				return
			}
			fs.wait()
			ce := asConnectError(t, err)
			if ce.Step != wire.StepAuth {
				t.Errorf("Step = %q, want %q", ce.Step, wire.StepAuth)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
}

func TestProtocolNoPasswordSupplied(t *testing.T) {
	tests := []struct {
		name    string
		request pgproto3.BackendMessage
	}{
		{"cleartext", &pgproto3.AuthenticationCleartextPassword{}},
		{"md5", &pgproto3.AuthenticationMD5Password{Salt: [4]byte{1, 2, 3, 4}}},
		{"scram", &pgproto3.AuthenticationSASL{AuthMechanisms: []string{scram.Mechanism}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// fakeExpectClose fails if the client sends any password.
			fs := startFake(t, fakeSeq(fakeSend(tt.request), fakeExpectClose))
			env, home := fakeEnv(t, nil)
			passfile := filepath.Join(home, "nonexistent")
			cfg := fakeConfig(t, env, "passfile="+fakeQuote(passfile), fs.Dir)
			var warnings []string
			cfg.OnWarning = func(m string) { warnings = append(warnings, m) }
			_, err := fakeConnect(t, cfg)
			fs.wait()
			ce := asConnectError(t, err)
			if ce.Step != wire.StepAuth {
				t.Errorf("Step = %q, want %q", ce.Step, wire.StepAuth)
			}
			if !strings.Contains(err.Error(), "no password supplied") {
				t.Errorf("error %q does not say no password supplied", err)
			}
			var ae *wire.AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("error %q does not wrap a *wire.AuthError", err)
			}
			if !strings.Contains(ae.Hint, "PGPASSWORD") || !strings.Contains(ae.Hint, passfile) {
				t.Errorf("hint %q should mention PGPASSWORD and %s", ae.Hint, passfile)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings for a missing password file: %q", warnings)
			}
		})
	}
}

// fakeMD5 is the MD5 answer, computed here independently of wire.
func fakeMD5(user, pw string, salt [4]byte) string {
	inner := md5.Sum([]byte(pw + user))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt[:]...))
	return "md5" + hex.EncodeToString(outer[:])
}

func TestProtocolMD5(t *testing.T) {
	// Pin the formula itself: derived by hand (and with Python's hashlib)
	// from md5(hex(md5("p" + "u")) + "\x01\x02\x03\x04").
	if got, want := fakeMD5("u", "p", [4]byte{1, 2, 3, 4}), "md5facdc455923b0a58efea84a6d9ee0e76"; got != want {
		t.Fatalf("test formula gives %s, want %s", got, want)
	}
	// The inner hash of postgres/postgres is the well-known pg_authid value.
	if inner := md5.Sum([]byte("postgrespostgres")); hex.EncodeToString(inner[:]) != "3175bce1d3201d16594cebf9d7eb3f9d" {
		t.Fatalf("md5(postgrespostgres) = %x", inner)
	}
	tests := []struct {
		user, pw string
		salt     [4]byte
	}{
		{"u", "p", [4]byte{1, 2, 3, 4}},
		{"postgres", "postgres", [4]byte{0xde, 0xad, 0xbe, 0xef}},
		{"rôle", "pässwörd with spaces", [4]byte{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.pw, func(t *testing.T) {
			want := fakeMD5(tt.user, tt.pw, tt.salt)
			if got := wire.MD5Password(tt.user, tt.pw, tt.salt); got != want {
				t.Errorf("MD5Password = %s, want %s", got, want)
			}
			fs := startFake(t, fakeSeq(
				fakeSend(&pgproto3.AuthenticationMD5Password{Salt: tt.salt}),
				func(b *pgproto3.Backend, _ net.Conn) error {
					pm, err := fakeRecv[*pgproto3.PasswordMessage](b)
					if err != nil {
						return err
					}
					if pm.Password != want {
						return fmt.Errorf("client answered %q, want %q", pm.Password, want)
					}
					return nil
				},
				fakeTrust(nil), fakeExpectClose))
			env, _ := fakeEnv(t, nil)
			cfg := fakeConfig(t, env, "", fs.Dir)
			cfg.User, cfg.Password, cfg.HasPassword = tt.user, tt.pw, true
			conn, err := fakeConnect(t, cfg)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if params := <-fs.Startup; params["user"] != tt.user {
				t.Errorf("startup user = %q, want %q", params["user"], tt.user)
			}
			if m := conn.AuthMethod(); m != "md5" {
				t.Errorf("AuthMethod = %q, want md5", m)
			}
			_ = conn.Close()
			fs.wait()
		})
	}
}

func TestProtocolCleartextPassword(t *testing.T) {
	for _, pw := range []string{"secret", " pa ss\u00a0wörd ", `it's a \ backslash`} {
		t.Run(pw, func(t *testing.T) {
			fs := startFake(t, fakeSeq(
				fakeSend(&pgproto3.AuthenticationCleartextPassword{}),
				func(b *pgproto3.Backend, _ net.Conn) error {
					pm, err := fakeRecv[*pgproto3.PasswordMessage](b)
					if err != nil {
						return err
					}
					if pm.Password != pw {
						return fmt.Errorf("server received %q, want %q", pm.Password, pw)
					}
					return nil
				},
				fakeTrust(nil), fakeExpectClose))
			env, _ := fakeEnv(t, nil)
			cfg := fakeConfig(t, env, "", fs.Dir)
			cfg.Password, cfg.HasPassword = pw, true
			conn, err := fakeConnect(t, cfg)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if m := conn.AuthMethod(); m != "password" {
				t.Errorf("AuthMethod = %q, want password", m)
			}
			_ = conn.Close()
			fs.wait()
		})
	}
}

// fakeRefusePassword asks for a cleartext password, checks it and refuses
// it as PostgreSQL does, with 28P01.
func fakeRefusePassword(pw string) fakeScript {
	return fakeAnswerPassword(pw, fakeError("FATAL", "28P01", `password authentication failed for user "u"`))
}

// fakeAnswerPassword asks for a cleartext password, checks it and answers
// with reply.
func fakeAnswerPassword(pw string, reply ...pgproto3.BackendMessage) fakeScript {
	return fakeSeq(fakeSend(&pgproto3.AuthenticationCleartextPassword{}),
		func(b *pgproto3.Backend, _ net.Conn) error {
			pm, err := fakeRecv[*pgproto3.PasswordMessage](b)
			if err == nil && pm.Password != pw {
				err = fmt.Errorf("server received %q, want %q", pm.Password, pw)
			}
			return err
		},
		fakeSend(reply...))
}

func TestProtocolWrongPasswordHint(t *testing.T) {
	const pw = "Sup3r-S3cret-pw"
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (wire.Environment, string)
		from  string // %s is the password file
	}{
		{"connection string", func(t *testing.T, _ string) (wire.Environment, string) {
			env, _ := fakeEnv(t, nil)
			return env, "password=" + pw
		}, "the connection string"},
		{"PGPASSWORD", func(t *testing.T, _ string) (wire.Environment, string) {
			env, _ := fakeEnv(t, map[string]string{"PGPASSWORD": pw})
			return env, ""
		}, "PGPASSWORD"},
		{"password file", func(t *testing.T, dir string) (wire.Environment, string) {
			env, home := fakeEnv(t, nil)
			line := fmt.Sprintf("%s:%d:d:u:%s\n", dir, fakePort, pw)
			if err := os.WriteFile(filepath.Join(home, ".pgpass"), []byte(line), 0o600); err != nil {
				t.Fatal(err)
			}
			return env, ""
		}, "the password file %s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := startFake(t, fakeRefusePassword(pw))
			env, extra := tt.setup(t, fs.Dir)
			cfg := fakeConfig(t, env, extra, fs.Dir)
			_, err := fakeConnect(t, cfg)
			fs.wait()
			ce := asConnectError(t, err)
			if ce.Step != wire.StepAuth {
				t.Errorf("Step = %q, want %q", ce.Step, wire.StepAuth)
			}
			var pe *wire.PgError
			if !errors.As(err, &pe) || pe.Code != "28P01" {
				t.Fatalf("error %q does not wrap a *wire.PgError 28P01", err)
			}
			// Where the password came from is fraise's, beside the
			// server's error, not put into its hint.
			if pe.Hint != "" {
				t.Errorf("server's hint = %q, want it as the server sent it (none)", pe.Hint)
			}
			from := tt.from
			if strings.Contains(from, "%s") {
				from = fmt.Sprintf(from, cfg.Passfile)
			}
			var pr *wire.PasswordRefusedError
			if !errors.As(err, &pr) || pr.From != from || pr.Err != pe {
				t.Errorf("error %q: password refused %+v, want from %q", err, pr, from)
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(fmt.Sprintf("%+v", err), pw) {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}
}

func TestProtocolMultiHost(t *testing.T) {
	tests := []struct {
		name  string
		first fakeScript // nil: no server, the socket does not exist
		// wantSecond: the session ends up on the second host; otherwise
		// Connect fails with wantCode and never contacts it.
		wantSecond bool
		wantCode   string
	}{
		{"first socket missing", nil, true, ""},
		{"first hangs up during startup", func(*pgproto3.Backend, net.Conn) error { return nil }, true, ""},
		{"auth failure stops the search", fakeRefusePassword("pw"), false, "28P01"},
		// libpq tries the next host on 57P03 (cannot connect now: starting
		// up, shutting down, not yet accepting connections), which is not
		// an authentication failure.
		{"starting up tries the next host", fakeSend(fakeError("FATAL", "57P03", "the database system is starting up")), true, ""},
		// Poolers that authenticate clients themselves refuse a wrong
		// password with codes of their own (as PgBouncer 1.18 and
		// pgpool-II 4.3.5 were seen to answer): still an authentication
		// failure, and the search stops.
		{"PgBouncer's SASL failure stops the search", fakeAnswerPassword("pw", fakeError("FATAL", "08P01", "SASL authentication failed")), false, "08P01"},
		{"PgBouncer's password failure stops the search", fakeAnswerPassword("pw", fakeError("FATAL", "08P01", `password authentication failed`)), false, "08P01"},
		{"pgpool-II's failure stops the search", fakeAnswerPassword("pw", &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR",
			Code: "XX000", Message: "authentication failed", Detail: `username "u" or password does not exist in backend`}), false, "XX000"},
		// A pooler that cannot reach its server says so after taking the
		// password: not the password's fault, so the next host is tried.
		{"PgBouncer's failing server login tries the next host", fakeAnswerPassword("pw",
			fakeError("FATAL", "08P01", "server login has been failing, try again later (server_login_retry)")), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dir1 string
			if tt.first == nil {
				var err error
				if dir1, err = os.MkdirTemp("", "fw"); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = os.RemoveAll(dir1) })
			} else {
				dir1 = startFake(t, tt.first).Dir
			}
			second := startFake(t, fakeSeq(fakeTrust(nil), fakeExpectClose))
			env, _ := fakeEnv(t, nil)
			conn, err := fakeConnect(t, fakeConfig(t, env, "password=pw", dir1, second.Dir))
			if tt.wantSecond {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				if conn.Host().Name != second.Dir {
					t.Errorf("connected to %q, want the second host %q", conn.Host().Name, second.Dir)
				}
				return
			}
			if err == nil {
				t.Fatalf("Connect succeeded on %q, want an error", conn.Host().Name)
			}
			ce := asConnectError(t, err)
			if ce.Step != wire.StepAuth || wire.SQLState(err) != tt.wantCode {
				t.Errorf("error %q: Step %q SQLSTATE %q, want %q %q", err, ce.Step, wire.SQLState(err), wire.StepAuth, tt.wantCode)
			}
			if n := second.Accepted.Load(); n != 0 {
				t.Errorf("the second host was contacted %d times after an authentication failure", n)
			}
		})
	}
}
