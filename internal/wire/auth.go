// Answering the server's authentication requests, with the client-side
// checks libpq makes before anything is sent (fe-auth.c,
// check_expected_areq): require_auth, channel_binding and sslcertmode.

package wire

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/fraiseql/fraise/internal/wire/scram"
	"github.com/jackc/pgx/v5/pgproto3"
)

// authState follows one authentication exchange.
type authState struct {
	ctx      context.Context // the connection attempt's
	c        *Conn
	probe    *tlsProbe
	sc       *scram.Client
	bound    bool // SCRAM-SHA-256-PLUS was chosen
	finished bool // the client completed an exchange (sent a password or verified SCRAM)
}

const hbaHint = "ask the administrator for a pg_hba.conf rule with scram-sha-256, md5 or password for this user"

// cbRequired is the refusal of a request that cannot bind the channel.
func (a *authState) cbRequired(msg string) error {
	return a.c.authFail(&AuthError{Msg: msg,
		Hint: "channel_binding=require (from " + a.c.cfg.channelBindingFrom() + ") accepts only SCRAM-SHA-256-PLUS over TLS: use sslmode=require or stronger and a scram-sha-256 pg_hba.conf rule, or relax channel_binding"})
}

// check applies require_auth and channel_binding to a request for method.
func (a *authState) check(method string) error {
	if err := a.c.cfg.RequireAuth.checkRequest(method); err != nil {
		return a.c.authFail(err)
	}
	if a.c.cfg.ChannelBinding == "require" && method != "scram-sha-256" {
		return a.cbRequired("channel binding required but not supported by server's authentication request")
	}
	return nil
}

// unsupported refuses a method fraise cannot perform (GSSAPI, SSPI…), after
// the require_auth and channel_binding checks that come first in libpq.
func (a *authState) unsupported(name string) error {
	method := map[string]string{"GSSAPI": "gss", "SSPI": "sspi"}[name]
	if method == "" {
		method = "unknown"
	}
	if err := a.check(method); err != nil {
		return err
	}
	return a.c.authFail(&AuthError{Msg: "server requested " + name + " authentication, which fraise does not support", Hint: hbaHint})
}

// handle answers one authentication message.
func (a *authState) handle(msg pgproto3.BackendMessage) error {
	c := a.c
	switch m := msg.(type) {
	case *pgproto3.AuthenticationOk:
		return a.ok()
	case *pgproto3.AuthenticationCleartextPassword:
		return a.sendPassword("password", func(pw string) string { return pw })
	case *pgproto3.AuthenticationMD5Password:
		return a.sendPassword("md5", func(pw string) string { return MD5Password(c.cfg.User, pw, m.Salt) })
	case *pgproto3.AuthenticationSASL:
		return a.saslStart(m.AuthMechanisms)
	case *pgproto3.AuthenticationSASLContinue:
		if a.sc == nil {
			return &ProtocolError{Msg: "SASL continue without SASL start"}
		}
		final, err := a.sc.ClientFinal(m.Data)
		if err != nil {
			return c.authFail(err)
		}
		return c.send(&pgproto3.SASLResponse{Data: final})
	case *pgproto3.AuthenticationSASLFinal:
		if a.sc == nil {
			return &ProtocolError{Msg: "SASL final without SASL start"}
		}
		if err := a.sc.Verify(m.Data); err != nil {
			return c.authFail(err)
		}
		a.finished = true
		return nil
	case *pgproto3.AuthenticationGSS:
		return a.unsupported("GSSAPI")
	case *pgproto3.AuthenticationGSSContinue:
		return a.unsupported("GSSAPI")
	}
	return &ProtocolError{Msg: fmt.Sprintf("unexpected %T during startup", msg)}
}

// sendPassword answers a cleartext or MD5 request, once require_auth and
// channel_binding allow it, with the password as encode renders it.
func (a *authState) sendPassword(method string, encode func(pw string) string) error {
	if err := a.check(method); err != nil {
		return err
	}
	a.c.method = method
	pw, err := a.c.password(a.ctx)
	if err != nil {
		return err
	}
	a.finished = true
	a.c.credentialsSent = true
	return a.c.send(&pgproto3.PasswordMessage{Password: encode(pw)})
}

// saslStart chooses the SCRAM mechanism and sends the client-first message.
func (a *authState) saslStart(offered []string) error {
	c := a.c
	if err := c.cfg.RequireAuth.checkRequest("scram-sha-256"); err != nil {
		return c.authFail(err)
	}
	c.method = "scram-sha-256"
	cbRequire := c.cfg.ChannelBinding == "require"
	if cbRequire && !c.tls {
		return a.cbRequired("channel binding required, but SSL not in use")
	}
	if a.sc != nil {
		return &ProtocolError{Msg: "duplicate SASL authentication request"}
	}
	binding := scram.ChannelBinding{TLS: c.tls, Disable: c.cfg.ChannelBinding == "disable"}
	for _, m := range offered {
		if m == scram.MechanismPlus && !c.tls {
			// A proxy may have stripped TLS: the server would refuse us anyway.
			return c.authFail(&AuthError{Msg: "server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection",
				Hint: "something between fraise and the server may be stripping TLS; connect with sslmode=verify-full"})
		}
	}
	if tc, ok := c.nc.(*tls.Conn); ok {
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			// An unusable signature leaves Data nil: SCRAM without binding.
			binding.Data, _ = scram.EndPointHash(certs[0])
		}
	}
	pw, err := c.password(a.ctx)
	if err != nil {
		return err
	}
	if a.sc, err = scram.NewClient(pw, binding); err != nil {
		return c.authFail(err)
	}
	mech, err := a.sc.Choose(offered)
	if err != nil {
		return c.authFail(fmt.Errorf("server offered SASL mechanisms %s: %w", strings.Join(offered, ", "), err))
	}
	a.bound = mech == scram.MechanismPlus
	c.bound = a.bound
	if cbRequire && !a.bound {
		return a.cbRequired("channel binding is required, but server did not offer an authentication method that supports channel binding")
	}
	c.credentialsSent = true
	return c.send(&pgproto3.SASLInitialResponse{AuthMechanism: mech, Data: a.sc.ClientFirst()})
}

// ok vets AuthenticationOk.
func (a *authState) ok() error {
	c := a.c
	if c.cfg.TLS.CertMode == "require" {
		switch {
		case a.probe == nil || !a.probe.certRequested:
			return c.authFail(&AuthError{Msg: "server did not request an SSL certificate", Hint: "sslcertmode=require demands a server that authenticates clients by certificate; relax sslcertmode or check the host"})
		case !a.probe.certSent:
			return c.authFail(&AuthError{Msg: "server accepted connection without a valid SSL certificate", Hint: "set sslcert and sslkey to the client certificate and key"})
		}
	}
	if err := c.cfg.RequireAuth.checkOK(a.finished); err != nil {
		return c.authFail(err)
	}
	if c.cfg.ChannelBinding == "require" && (a.sc == nil || !a.bound) {
		return a.cbRequired("channel binding required, but server authenticated client without channel binding")
	}
	if a.sc != nil && !a.sc.Verified() {
		return c.authFail(&AuthError{Msg: "server accepted the login without proving it knows the password (no SCRAM server signature)",
			Hint: "this may be an impostor server; check the host you connect to"})
	}
	c.authOK = true
	return nil
}
