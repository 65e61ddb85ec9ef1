package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
)

// TestAttemptFailures: where the search over hosts goes after one attempt
// on an address failed, by the step that failed, the error, and whether
// another encryption method is left for the address (sslmode prefer or
// allow). A failure retried with the next method is kept for the final
// error's list.
func TestAttemptFailures(t *testing.T) {
	pg := func(code string) *PgError { return &PgError{Severity: "FATAL", Code: code, Message: "m"} }
	handshake := &TLSError{Msg: "handshake failed", handshake: true}
	timedOut, cancel := context.WithCancelCause(context.Background())
	cancel(errConnectTimeout)
	for _, tc := range []struct {
		name     string
		tls      bool // a TLS negotiation failed, else the startup
		err      error
		authOK   bool
		left     bool // another encryption method is left
		ctx      context.Context
		want     next
		wantStep Step // of the error returned; "" for an error that is not a *ConnectError
	}{
		{name: "server starting up", err: pg("57P03"), left: true, want: nextHost, wantStep: StepStartup},
		{name: "refusal, the other method may be accepted", err: pg("53300"), left: true, want: nextMethod, wantStep: StepStartup},
		{name: "refusal, no other method", err: pg("53300"), want: nextHost, wantStep: StepStartup},
		{name: "refusal after authentication", err: pg("53300"), authOK: true, left: true, want: nextHost, wantStep: StepStartup},
		{name: "password refused, the other method may be accepted", err: &ConnectError{Step: StepAuth, Err: pg("28P01")}, left: true, want: nextMethod, wantStep: StepAuth},
		{name: "password refused, no other method", err: &ConnectError{Step: StepAuth, Err: pg("28P01")}, want: stop, wantStep: StepAuth},
		{name: "client-side authentication check", err: &ConnectError{Step: StepAuth, Err: &AuthError{Msg: "x"}}, left: true, want: stop, wantStep: StepAuth},
		{name: "server ended the TLS session", err: &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, want: nextAddr, wantStep: StepTLS},
		{name: "connection lost", err: io.ErrUnexpectedEOF, left: true, want: nextAddr, wantStep: StepStartup},
		{name: "connect_timeout", err: pg("53300"), left: true, ctx: timedOut, want: nextAddr, wantStep: StepStartup},
		{name: "TLS settings that cannot work", tls: true, err: &ConfigError{Keyword: "sslrootcert", Err: errors.New("x")}, left: true, want: stop},
		{name: "certificate refused", tls: true, err: &CertError{Reason: "x"}, left: true, want: nextAddr, wantStep: StepVerify},
		{name: "handshake failed, plain text left", tls: true, err: handshake, left: true, want: nextMethod, wantStep: StepTLS},
		{name: "handshake failed, nothing left", tls: true, err: handshake, want: nextAddr, wantStep: StepTLS},
		{name: "handshake timed out", tls: true, err: handshake, left: true, ctx: timedOut, want: nextAddr, wantStep: StepTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			s := &addrSearch{ctx: ctx, cfg: &Config{User: "u"}, h: Host{Name: "db", Port: 5432}, t: target{"tcp", "192.0.2.1:5432"}}
			if tc.left {
				s.methods = []bool{false}
			}
			a := &attempt{addrSearch: s, c: &Conn{authOK: tc.authOK}}
			var nx next
			var err error
			if tc.tls {
				nx, err = a.tlsFailed(tc.err)
			} else {
				nx, err = a.startupFailed(tc.err)
			}
			var ce *ConnectError
			isCE := errors.As(err, &ce)
			switch {
			case nx != tc.want:
				t.Errorf("next = %d, want %d (error %v)", nx, tc.want, err)
			case tc.wantStep == "" && isCE:
				t.Errorf("error %v is a *ConnectError, want the settings' error as it is", err)
			case tc.wantStep != "" && (!isCE || ce.Step != tc.wantStep || !errors.Is(err, tc.err)):
				t.Errorf("error %v (%T), want a *ConnectError at %s wrapping the cause", err, err, tc.wantStep)
			case (nx == nextMethod) != (len(s.earlier) == 1):
				t.Errorf("%d failures kept for the final error, want one exactly when the next method is tried", len(s.earlier))
			}
		})
	}
}
