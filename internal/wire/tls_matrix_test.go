package wire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// The sslmode matrix: every sslmode against both spellings of the loopback
// host, three root-certificate situations and three roles whose pg_hba.conf
// rules demand TLS, forbid it or accept either. Each case has an expected
// outcome computed from libpq's documented semantics (matrixModel), and is
// run through fraise and through psql 15 (libpq itself, the reference).

// matrixModes are the sslmode values, weakest first.
var matrixModes = []string{wire.SSLDisable, wire.SSLAllow, wire.SSLPrefer, wire.SSLRequire, wire.SSLVerifyCA, wire.SSLVerifyFull}

// matrixHosts are the two ways to reach the server: only "localhost" is in
// its certificate (pgtest.TLSServerName); 127.0.0.1 is not.
var matrixHosts = []string{pgtest.TLSServerName, "127.0.0.1"}

// matrixRoles: either, TLS only (hostssl), plain only (hostnossl).
var matrixRoles = []string{pgtest.RoleSCRAM, pgtest.RoleTLSOnly, pgtest.RoleNoTLS}

// matrixRoot is what sslrootcert points at.
type matrixRoot int

const (
	matrixRootRight matrixRoot = iota // the CA that signed the server's certificate
	matrixRootWrong                   // an unrelated CA
	matrixRootNone                    // a file that does not exist
)

var matrixRoots = []matrixRoot{matrixRootRight, matrixRootWrong, matrixRootNone}

func (r matrixRoot) String() string {
	return [...]string{"right-CA", "wrong-CA", "no-CA"}[r]
}

// matrixOutcome is what became of one connection attempt.
type matrixOutcome struct {
	connects  bool // a session was established
	encrypted bool // and it uses TLS (pg_stat_ssl.ssl)
}

func (o matrixOutcome) String() string {
	switch {
	case !o.connects:
		return "fail"
	case o.encrypted:
		return "TLS"
	}
	return "plain"
}

// matrixModel is the outcome libpq gives, from the PostgreSQL 15
// documentation, 34.19 "SSL Support" (34.19.1 "Client Verification of
// Server Certificates" and Table 34.1 "SSL Mode Descriptions"), and from
// fe-connect.c (PQconnectPoll) and fe-secure-openssl.c (initialize_SSL,
// pq_verify_peer_name_matches_certificate):
//
//   - The chain is verified whenever the root file exists, whatever the
//     mode: initialize_SSL calls SSL_CTX_set_verify(SSL_VERIFY_PEER) as soon
//     as stat(sslrootcert) succeeds ("if a root certificate file exists,
//     libpq will verify the server certificate" under require as well). So
//     with a root file the handshake needs the right CA under allow, prefer
//     and require too, but the host name is only checked under verify-full
//     (pq_verify_peer_name_matches_certificate returns true at once for the
//     other modes).
//   - verify-ca and verify-full without the root file are an error ("root
//     certificate file ... does not exist. Either provide the file or change
//     sslmode to disable server certificate verification"): no session.
//   - verify-full also needs the host name in the certificate: only
//     "localhost" is. For 127.0.0.1 libpq (14 and later) looks for an
//     iPAddress SAN, finds none and so also tries the CN, "localhost": no
//     match either ("server certificate for "localhost" (and 1 other name)
//     does not match host name "127.0.0.1"").
//   - disable: plain only. allow: plain first, and after an ErrorResponse in
//     plain (here pg_hba.conf's reject of RoleTLSOnly) a new connection with
//     TLS (fe-connect.c: `sslmode[0] == 'a' && !ssl_in_use && wait_ssl_try`
//     → retry). prefer: TLS first; a failed handshake (`pollres ==
//     PGRES_POLLING_FAILED` with sslmode "prefer" → "do a non-SSL retry") or
//     an ErrorResponse over TLS (RoleNoTLS's hostssl reject) retries in
//     plain. require, verify-ca, verify-full: TLS only ("server does not
//     support SSL, but SSL was required" otherwise).
//
// The roles' pg_hba.conf rules then decide: RoleTLSOnly is accepted over
// TLS only, RoleNoTLS in plain only, RoleSCRAM either way.
func matrixModel(mode, host string, root matrixRoot, role string) matrixOutcome {
	plainAccepted := role != pgtest.RoleTLSOnly
	tlsAccepted := role != pgtest.RoleNoTLS
	var handshake bool // would a TLS handshake (and libpq's checks after it) succeed?
	switch root {
	case matrixRootNone:
		// No root file: no verification, except that verify-* refuse to go on.
		handshake = mode != wire.SSLVerifyCA && mode != wire.SSLVerifyFull
	case matrixRootWrong:
		// The root file exists, so the chain is verified, and fails.
		handshake = false
	case matrixRootRight:
		handshake = mode != wire.SSLVerifyFull || host == pgtest.TLSServerName
	}
	overTLS := matrixOutcome{connects: handshake && tlsAccepted, encrypted: true}
	inPlain := matrixOutcome{connects: plainAccepted}
	switch mode {
	case wire.SSLDisable:
		if inPlain.connects {
			return inPlain
		}
	case wire.SSLAllow:
		if inPlain.connects {
			return inPlain
		}
		if overTLS.connects {
			return overTLS
		}
	case wire.SSLPrefer:
		if overTLS.connects {
			return overTLS
		}
		if inPlain.connects {
			return inPlain
		}
	default: // require, verify-ca, verify-full
		if overTLS.connects {
			return overTLS
		}
	}
	return matrixOutcome{}
}

// matrixCase is one cell of the matrix.
type matrixCase struct {
	mode, host, role string
	root             matrixRoot
}

func (c matrixCase) name() string {
	return c.mode + "/" + c.host + "/" + c.root.String() + "/" + c.role
}

// matrixResult is what fraise and psql did in one case.
type matrixResult struct {
	fraise    matrixOutcome
	fraiseErr error
	psql      matrixOutcome
	psqlErr   string // psql's exit status and standard error when it failed
	harness   error  // the case could not be run as intended
}

// matrixQuote quotes a libpq connection string value.
func matrixQuote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// matrixConninfo is the connection string of a case, password included,
// the same for fraise and for psql.
func matrixConninfo(host string, port int, role, mode, rootcert string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s password=%s sslmode=%s sslrootcert=%s",
		matrixQuote(host), port, matrixQuote(role), matrixQuote(pgtest.Database), matrixQuote(pgtest.Password(role)), mode, matrixQuote(rootcert))
}

// matrixSSLSQL asks the server whether the session is encrypted, as one json
// column for fraise.
const matrixSSLSQL = "SELECT to_json(ssl) FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

// matrixFraise connects with conninfo and asks the server whether the session
// is encrypted; behind a pooler, whose own link to the server is all
// pg_stat_ssl describes, the client's side of the connection says. A failure
// to connect is an outcome, returned with its error; harness is set when
// something else went wrong.
func matrixFraise(ctx context.Context, conninfo string, env wire.Environment, pooled bool) (o matrixOutcome, connErr, harness error) {
	cfg, err := wire.ParseConfig(conninfo, env)
	if err != nil {
		return o, nil, fmt.Errorf("ParseConfig: %w", err)
	}
	conn, err := wire.Connect(ctx, cfg)
	if err != nil {
		return o, err, nil
	}
	defer conn.Close()
	var sink collect
	if _, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: matrixSSLSQL}, &sink, wire.Observer{}); err != nil {
		return matrixOutcome{connects: true}, nil, fmt.Errorf("connected, but %s: %w", matrixSSLSQL, err)
	}
	if len(sink.values) != 1 {
		return matrixOutcome{connects: true}, nil, fmt.Errorf("connected, but %s returned %q", matrixSSLSQL, sink.values)
	}
	switch v := string(sink.values[0]); v {
	case "true", "false":
		if pooled {
			_, ok := conn.TLS()
			return matrixOutcome{connects: true, encrypted: ok}, nil, nil
		}
		return matrixOutcome{connects: true, encrypted: v == "true"}, nil, nil
	default:
		return matrixOutcome{connects: true}, nil, fmt.Errorf("connected, but %s returned %q", matrixSSLSQL, v)
	}
}

// matrixPsql is matrixFraise with psql (libpq) as the client; behind a
// pooler, psql's \conninfo says whether its side uses TLS. A non-zero exit
// means no session; harness is set when psql could not be run or said
// something unexpected.
// It runs with an empty home, so no ~/.postgresql, ~/.pgpass or
// ~/.pg_service.conf.
func matrixPsql(ctx context.Context, srv *pgtest.Server, home, conninfo string) (o matrixOutcome, stderrText string, harness error) {
	cmd := srv.PsqlClient(ctx, home, conninfo, "-c", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
	if srv.Pooler != nil {
		cmd = srv.PsqlClient(ctx, home, conninfo, "-c", `\conninfo`)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	msg := strings.TrimSpace(stderr.String())
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return matrixOutcome{}, fmt.Sprintf("exit %d: %s", ee.ExitCode(), msg), nil
	case err != nil:
		return matrixOutcome{}, msg, fmt.Errorf("running psql: %w", err)
	}
	out := strings.TrimSpace(stdout.String())
	if srv.Pooler != nil && strings.HasPrefix(out, "You are connected") {
		return matrixOutcome{connects: true, encrypted: strings.Contains(out, "\nSSL connection (")}, msg, nil
	}
	switch out {
	case "t", "f":
		return matrixOutcome{connects: true, encrypted: out == "t"}, msg, nil
	default:
		return matrixOutcome{connects: true}, msg, fmt.Errorf("psql connected but printed %q (stderr %q)", out, msg)
	}
}

// runMatrix runs every case through fraise and psql, at most 8 at a time
// (the cluster allows 60 connections; each case holds at most one), and
// returns the results in the order of cases. It runs its own workers
// rather than parallel subtests so that the concurrency does not depend on
// -parallel (GOMAXPROCS): the work is waiting on the server and on psql.
func runMatrix(t *testing.T, srv *pgtest.Server, cases []matrixCase, rootFile func(matrixRoot) string, host func(matrixCase) string) []matrixResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	psqlHome := t.TempDir()
	results := make([]matrixResult, len(cases))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(8, len(cases)) {
		wg.Go(func() {
			for i := range work {
				c := cases[i]
				conninfo := matrixConninfo(host(c), srv.ClientPort(), c.role, c.mode, rootFile(c.root))
				r := &results[i]
				r.fraise, r.fraiseErr, r.harness = matrixFraise(ctx, conninfo, isolated(t), srv.Pooler != nil)
				var perr error
				r.psql, r.psqlErr, perr = matrixPsql(ctx, srv, psqlHome, conninfo)
				r.harness = errors.Join(r.harness, perr)
			}
		})
	}
	for i := range cases {
		work <- i
	}
	close(work)
	wg.Wait()
	return results
}

// checkMatrixCase compares fraise and psql with the model, and checks
// fraise's error when the model says the connection fails.
func checkMatrixCase(t *testing.T, c matrixCase, host string, want matrixOutcome, r matrixResult) {
	t.Helper()
	if r.harness != nil {
		t.Fatalf("could not run the case: %v", r.harness)
	}
	t.Logf("model %s; fraise %s (%v); psql %s (%s)", want, r.fraise, r.fraiseErr, r.psql, r.psqlErr)
	if r.psql != want {
		t.Errorf("psql (libpq) disagrees with the model: model %s, psql %s (psql: %s)", want, r.psql, r.psqlErr)
	}
	if r.fraise != want {
		t.Errorf("fraise disagrees with the model: model %s, fraise %s (fraise error: %v; psql %s: %s)", want, r.fraise, r.fraiseErr, r.psql, r.psqlErr)
	}
	err := r.fraiseErr
	if err == nil {
		return
	}
	msg := err.Error()
	if pw := pgtest.Password(c.role); strings.Contains(msg, pw) || strings.Contains(fmt.Sprintf("%+v", err), pw) {
		t.Errorf("the password appears in the error: %v", err)
	}
	var ce *wire.ConnectError
	var cfgErr *wire.ConfigError
	switch {
	case errors.As(err, &ce):
		if !strings.Contains(msg, host) || !strings.Contains(msg, strconv.Quote(c.role)) {
			t.Errorf("the error does not name host %q and user %q: %v", host, c.role, err)
		}
	case errors.As(err, &cfgErr):
	default:
		t.Fatalf("err = %T %v, want a *wire.ConnectError or *wire.ConfigError", err, err)
	}
	verifies := c.mode == wire.SSLVerifyCA || c.mode == wire.SSLVerifyFull
	switch {
	case verifies && c.root == matrixRootNone:
		if cfgErr == nil || cfgErr.Keyword != "sslrootcert" || !strings.Contains(msg, "does not exist") {
			t.Errorf("err = %v, want a ConfigError about the missing sslrootcert", err)
		}
	case verifies && c.root == matrixRootWrong:
		if ce == nil || ce.Step != wire.StepVerify || !strings.Contains(msg, "certificate verification failed") || !strings.Contains(msg, "unknown authority") {
			t.Errorf("err = %v, want a ConnectError at step %q saying the certificate's authority is unknown", err, wire.StepVerify)
		}
	case c.mode == wire.SSLVerifyFull && c.root == matrixRootRight && host != pgtest.TLSServerName:
		if ce == nil || ce.Step != wire.StepVerify || !strings.Contains(msg, fmt.Sprintf("does not match host name %q", host)) {
			t.Errorf("err = %v, want a ConnectError at step %q about the host name", err, wire.StepVerify)
		}
	}
}

// matrixTable renders the outcomes as a markdown table: one row per mode,
// host and root file, one column per role. A cell is the model's outcome
// when fraise and psql both agree with it, and spells out all three
// otherwise.
func matrixTable(cases []matrixCase, want []matrixOutcome, results []matrixResult, hostLabel func(matrixCase) string, roles []string) string {
	var b strings.Builder
	b.WriteString("| sslmode | host | sslrootcert |")
	for _, r := range roles {
		b.WriteString(" " + r + " |")
	}
	b.WriteString("\n|---|---|---|")
	for range roles {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for i := 0; i < len(cases); i += len(roles) {
		c := cases[i]
		fmt.Fprintf(&b, "| %s | %s | %s |", c.mode, hostLabel(c), c.root)
		for j := range roles {
			w, r := want[i+j], results[i+j]
			cell := w.String()
			if r.harness != nil {
				cell = "ERROR"
			} else if r.fraise != w || r.psql != w {
				cell = fmt.Sprintf("model %s, fraise %s, psql %s", w, r.fraise, r.psql)
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// writeMatrixOut appends a section to the file named by FRAISE_MATRIX_OUT,
// if that is set.
func writeMatrixOut(t *testing.T, title, table string) {
	t.Helper()
	path := os.Getenv("FRAISE_MATRIX_OUT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Errorf("FRAISE_MATRIX_OUT: %v", err)
		return
	}
	_, err = fmt.Fprintf(f, "## %s\n\n%s\n", title, table)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Errorf("FRAISE_MATRIX_OUT: %v", err)
	}
}

// matrixRootFiles maps each matrixRoot to a file for sslrootcert.
func matrixRootFiles(t *testing.T, srv *pgtest.Server) func(matrixRoot) string {
	missing := filepath.Join(t.TempDir(), "no-such-root.crt")
	return func(r matrixRoot) string {
		switch r {
		case matrixRootRight:
			return srv.TLS.CACert
		case matrixRootWrong:
			return srv.TLS.WrongCACert
		}
		return missing
	}
}

func TestSSLModeMatrix(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	start := time.Now()
	var cases []matrixCase
	for _, mode := range matrixModes {
		for _, host := range matrixHosts {
			for _, root := range matrixRoots {
				for _, role := range matrixRoles { // innermost: one table row per role triple
					cases = append(cases, matrixCase{mode: mode, host: host, root: root, role: role})
				}
			}
		}
	}
	hostOf := func(c matrixCase) string { return c.host }
	results := runMatrix(t, srv, cases, matrixRootFiles(t, srv), hostOf)
	ran := time.Since(start)

	want := make([]matrixOutcome, len(cases))
	for i, c := range cases {
		want[i] = matrixModel(c.mode, c.host, c.root, c.role)
		if srv.Pooler != nil && c.role == pgtest.RoleNoTLS {
			// PgBouncer reaches the server over TLS whatever the client
			// does, and the server's hostssl rule rejects RoleNoTLS.
			want[i] = matrixOutcome{}
		}
		t.Run(c.name(), func(t *testing.T) {
			checkMatrixCase(t, c, c.host, want[i], results[i])
		})
	}
	table := matrixTable(cases, want, results, hostOf, matrixRoles)
	t.Logf("%d cases, fraise and psql each, in %s (port %d):\n%s", len(cases), ran.Round(time.Millisecond), srv.ClientPort(), table)
	writeMatrixOut(t, fmt.Sprintf("sslmode matrix over TCP (%d cases; cell: outcome, or model/fraise/psql when they differ)", len(cases)), table)
}

// TestSSLModeMatrixSocketIgnoresSSLMode: over a Unix socket libpq never
// sends SSLRequest (fe-connect.c: "Don't request SSL or GSSAPI over Unix
// sockets"; the documentation of sslmode: it "is ignored for Unix domain
// socket communication"), so it never looks at the root file either: every
// mode, verify-full without a root file included, gives a plain session.
func TestSSLModeMatrixSocketIgnoresSSLMode(t *testing.T) {
	srv := pgtest.RequireTLS(t)
	start := time.Now()
	var cases []matrixCase
	for _, mode := range matrixModes {
		for _, root := range matrixRoots {
			cases = append(cases, matrixCase{mode: mode, host: srv.ClientSocketDir(), root: root, role: pgtest.RoleSCRAM})
		}
	}
	hostOf := func(c matrixCase) string { return c.host }
	results := runMatrix(t, srv, cases, matrixRootFiles(t, srv), hostOf)
	ran := time.Since(start)

	want := matrixOutcome{connects: true}
	wants := make([]matrixOutcome, len(cases))
	for i, c := range cases {
		wants[i] = want
		t.Run(c.mode+"/socket/"+c.root.String()+"/"+c.role, func(t *testing.T) {
			checkMatrixCase(t, c, c.host, want, results[i])
		})
	}
	table := matrixTable(cases, wants, results, func(matrixCase) string { return "socket" }, []string{pgtest.RoleSCRAM})
	t.Logf("%d cases over the socket in %s:\n%s", len(cases), ran.Round(time.Millisecond), table)
	writeMatrixOut(t, "sslmode over the Unix socket (ignored)", table)
}
