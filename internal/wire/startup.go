// Start-up and authentication: protocol documentation 55.2.1 "Start-up" and
// 55.3 "SASL Authentication".

package wire

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// startup sends the StartupMessage and answers the server until its
// first ReadyForQuery: authentication, then the session's parameters and
// its cancel key.
func (c *Conn) startup(ctx context.Context, probe *tlsProbe) error {
	params := map[string]string{
		"user":             c.cfg.User,
		"database":         c.cfg.Database,
		"application_name": c.cfg.ApplicationName,
		"client_encoding":  "UTF8",
	}
	if c.cfg.Options != "" {
		params["options"] = c.cfg.Options
	}
	if err := c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: params}); err != nil {
		return err
	}
	c.method = "trust"
	if err := c.respond(&startupAnswers{auth: authState{c: c, probe: probe, ctx: ctx}}); err != nil {
		return err
	}
	if !c.authOK {
		return &ProtocolError{Msg: "ReadyForQuery before authentication completed"}
	}
	if enc := c.params["client_encoding"]; enc != "" && !strings.EqualFold(enc, "UTF8") {
		return fmt.Errorf("server did not accept client_encoding UTF8 (it reports %q)", enc)
	}
	return nil
}

// startupAnswers is the exchange of the startup: authentication requests
// go to auth.
type startupAnswers struct {
	plain
	auth authState
}

func (s *startupAnswers) row([]byte) error {
	return &ProtocolError{Msg: "unexpected *pgproto3.DataRow during startup"}
}

func (s *startupAnswers) message(msg pgproto3.BackendMessage) (bool, error) {
	c := s.auth.c
	switch m := msg.(type) {
	case *pgproto3.BackendKeyData:
		c.pid = m.ProcessID
		c.secret = append([]byte(nil), m.SecretKey...)
	case *pgproto3.NegotiateProtocolVersion:
		// The server speaks an older minor version; 3.0 is all we use.
	default:
		return true, s.auth.handle(msg)
	}
	return true, nil
}

// serverError ends the startup: an authorization failure, before or after
// AuthenticationOk (28000: role not permitted to log in), or a pooler's
// refusal of the credentials, is one Connect stops the search over hosts
// on.
func (s *startupAnswers) serverError(pe *PgError) error {
	c := s.auth.c
	if c.refusesLogin(pe) {
		return c.authFail(c.explainAuthError(pe))
	}
	return pe
}

// lost names an authentication method fraise does not support, when the
// server asked for one before the connection ended.
func (s *startupAnswers) lost(err error) error {
	if m := unsupportedAuth(s.auth.c.rd.authType); m != "" && !s.auth.c.authOK {
		return s.auth.unsupported(m)
	}
	return err
}

// broken is lost: the request of an unsupported method is a message
// fraise cannot read.
func (s *startupAnswers) broken(err error) error { return s.lost(err) }

// send writes one message to the server during startup. When the write
// fails, the server may already have said why before it closed — an
// ErrorResponse, or with TLS 1.3 an alert refusing our client certificate
// — so that is read and returned in preference, as libpq does.
func (c *Conn) send(msg pgproto3.FrontendMessage) error {
	c.fe.Send(msg)
	werr := c.fe.Flush()
	if werr == nil {
		return nil
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
	reply, rerr := c.rd.receive()
	if m, ok := reply.(*pgproto3.ErrorResponse); ok && rerr == nil {
		pe := pgErrorFrom(m)
		if c.refusesLogin(pe) {
			return c.authFail(c.explainAuthError(pe))
		}
		return pe
	}
	if isTLSAlert(rerr) {
		return rerr
	}
	return werr
}

// isTLSAlert reports whether err is an alert the server sent over TLS.
func isTLSAlert(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "remote error"
}

func unsupportedAuth(t uint32) string {
	switch t {
	case pgproto3.AuthTypeSCMCreds:
		return "SCM credential"
	case pgproto3.AuthTypeSSPI:
		return "SSPI"
	case pgproto3.AuthTypeGSS, pgproto3.AuthTypeGSSCont:
		return "GSSAPI"
	case 2:
		return "Kerberos V5"
	}
	return ""
}

func (c *Conn) authFail(err error) error {
	return &ConnectError{Host: c.host.String(), Addr: c.addr, User: c.cfg.User, Step: StepAuth, Err: err}
}

// password returns the password to send, from the settings or the password
// file; it is asked for only when the server requests one. ctx bounds a
// password command.
func (c *Conn) password(ctx context.Context) (string, error) {
	if c.cfg.HasPassword {
		return c.cfg.Password, nil
	}
	if c.cfg.PasswordCommand != nil {
		pw, err := c.cfg.PasswordCommand(ctx)
		if err != nil {
			return "", c.authFail(&AuthError{Msg: err.Error(), Hint: "fix the command, or give the password another way (PGPASSWORD, ~/.pgpass)"})
		}
		c.passwordFromCommand = true
		return pw, nil
	}
	if pw, ok := c.passfileLookup(); ok {
		return pw, nil
	}
	return "", c.authFail(&AuthError{Msg: errNoPassword.Error() + " (server requested a password)",
		Hint: c.noPasswordHint()})
}

// refusesLogin reports whether a startup error refuses this login, as
// opposed to a server that cannot take a session now. PostgreSQL says so
// with class 28. Poolers that authenticate clients themselves use other
// codes for a wrong password — PgBouncer 08P01 "SASL authentication
// failed" or "password authentication failed", pgpool-II XX000
// "authentication failed" — so an error that says authentication failed,
// after credentials were sent and before AuthenticationOk, is one too.
func (c *Conn) refusesLogin(pe *PgError) bool {
	return strings.HasPrefix(pe.Code, "28") || c.credentialsRefused(pe)
}

// credentialsRefused reports whether pe is a pooler's refusal of the
// credentials sent (see refusesLogin).
func (c *Conn) credentialsRefused(pe *PgError) bool {
	return c.credentialsSent && !c.authOK && !strings.HasPrefix(pe.Code, "28") &&
		strings.Contains(strings.ToLower(pe.Message), "authentication failed")
}

// explainAuthError adds where the password came from to a server's
// refusal of it (a *PasswordRefusedError), leaving the server's own error
// as it sent it.
func (c *Conn) explainAuthError(pe *PgError) error {
	if pe.Code != "28P01" && !c.credentialsRefused(pe) {
		return pe
	}
	var from string
	switch {
	case c.cfg.HasPassword:
		from = c.cfg.PasswordSource
	case c.passwordFromCommand:
		from = "the " + c.cfg.PasswordCommandSource
	case c.passwordFromFile:
		from = "the password file " + c.cfg.Passfile
	default:
		return pe
	}
	return &PasswordRefusedError{Err: pe, From: from}
}

func (c *Conn) notice(m *pgproto3.ErrorResponse) {
	if c.cfg.OnNotice != nil {
		c.cfg.OnNotice(pgErrorFrom(m))
	}
}

// MD5Password computes the response to an MD5 password request:
// "md5" + hex(md5(hex(md5(password + user)) + salt)).
func MD5Password(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	h := md5.New()
	h.Write([]byte(hex.EncodeToString(inner[:])))
	h.Write(salt[:])
	return "md5" + hex.EncodeToString(h.Sum(nil))
}
