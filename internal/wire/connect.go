// Establishing a session the way libpq's PQconnectPoll does: hosts and
// their addresses in order (or shuffled), the encryption methods sslmode
// allows for each address, and target_session_attrs.

package wire

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"time"
)

// next says where the search goes after a failed attempt.
type next int

const (
	nextAddr   next = iota // try the host's next address
	nextHost               // skip the host's other addresses
	stop                   // give up: another server would refuse the same way
	nextMethod             // try the address's next encryption method (connectAddr's own)
)

// Connect opens a session, trying each configured host, and each address a
// host name resolves to, in order (shuffled with load_balance_hosts=random).
//
// On each address, sslmode=prefer retries without TLS after a failed
// handshake or a refusal over TLS, and sslmode=allow retries with TLS after
// a refusal in plain text, as libpq does. Then:
//   - an authentication failure (SQLSTATE class 28, or a client-side check
//     such as require_auth, channel_binding or sslcertmode) ends the search,
//     as in libpq: another server would most likely refuse the same
//     credentials, and trying them everywhere helps nobody;
//   - settings that cannot work (a missing root certificate file under
//     verify-full, an unreadable key) end it too, with a *ConfigError;
//   - a server's other refusals, a server that is starting up (57P03), or a
//     session that does not match target_session_attrs move on to the next
//     host;
//   - anything else (no connection, a TLS negotiation or certificate
//     failure, a protocol violation, connect_timeout) moves on to the next
//     address.
//
// libpq stops on more of these: on every server error but 57P03, and on
// TLS failures under sslmode=require or stronger. fraise goes on to the
// next host or address, which is what a host list is for, and never with a
// weaker guarantee. The error lists every attempt.
func Connect(ctx context.Context, cfg *Config) (*Conn, error) {
	files := lazyTLSFiles(cfg.TLS)
	hosts := slices.Clone(cfg.Hosts)
	if cfg.LoadBalance {
		shuffle(cfg, hosts)
	}
	var failures []*ConnectError
	passes := []string{cfg.TargetSessionAttrs}
	if cfg.TargetSessionAttrs == "prefer-standby" {
		passes = []string{"standby", "any"}
	}
	for _, want := range passes {
		for _, h := range hosts {
			targets, err := resolve(ctx, h)
			if err != nil {
				failures = append(failures, &ConnectError{Host: h.String(), User: cfg.User, Step: StepDial, Err: err})
				continue
			}
			if cfg.LoadBalance {
				shuffle(cfg, targets)
			}
		addrs:
			for _, t := range targets {
				c, nx, err := connectAddr(ctx, cfg, files, want, h, t)
				if err == nil {
					return c, nil
				}
				var cfgErr *ConfigError
				if errors.As(err, &cfgErr) {
					return nil, cfgErr
				}
				ce := asConnectError(err, cfg, h, t)
				failures = append(failures, ce.Others...) // earlier encryption methods
				ce.Others = nil
				failures = append(failures, ce)
				if ctx.Err() != nil {
					nx = stop
				}
				switch nx {
				case nextHost:
					break addrs
				case stop:
					return nil, joinFailures(failures)
				}
			}
		}
	}
	return nil, joinFailures(failures)
}

func asConnectError(err error, cfg *Config, h Host, t target) *ConnectError {
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce
	}
	return &ConnectError{Host: h.String(), Addr: t.addr, User: cfg.User, Step: StepDial, Err: err}
}

func joinFailures(failures []*ConnectError) error {
	last := failures[len(failures)-1]
	last.Others = failures[:len(failures)-1]
	return last
}

// shuffle permutes s in place (Fisher–Yates), with cfg.Shuffle if set.
func shuffle[T any](cfg *Config, s []T) {
	pick := cfg.Shuffle
	if pick == nil {
		pick = rand.IntN
	}
	for i := len(s) - 1; i > 0; i-- {
		j := pick(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// lazyTLSFiles returns a function that reads the TLS settings' files on
// its first call and returns the same result after: only a host that
// negotiates TLS needs them (libpq never looks at them for a Unix socket).
func lazyTLSFiles(t TLSConfig) func() (*tlsFiles, error) {
	var files *tlsFiles
	var err error
	done := false
	return func() (*tlsFiles, error) {
		if !done {
			files, err = loadTLSFiles(t)
			done = true
		}
		return files, err
	}
}

type target struct{ network, addr string }

// resolve lists the addresses to try for h: the socket file, the hostaddr,
// or every address the host name resolves to.
func resolve(ctx context.Context, h Host) ([]target, error) {
	port := strconv.Itoa(int(h.Port))
	switch {
	case h.IsSocket() && h.Name == "":
		// No host: the first default socket directory holding a server.
		for _, dir := range DefaultSocketDirs {
			p := Host{Name: dir, Port: h.Port}.SocketPath()
			if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
				return []target{{"unix", p}}, nil
			}
		}
		return []target{{"unix", Host{Name: DefaultSocketDirs[0], Port: h.Port}.SocketPath()}}, nil
	case h.IsSocket():
		return []target{{"unix", h.SocketPath()}}, nil
	case h.Addr != "":
		if net.ParseIP(h.Addr) == nil {
			return nil, fmt.Errorf("could not parse network address %q (hostaddr must be a numeric IP address)", h.Addr)
		}
		return []target{{"tcp", net.JoinHostPort(h.Addr, port)}}, nil
	}
	ips, err := net.DefaultResolver.LookupHost(ctx, h.Name)
	if err != nil {
		return nil, fmt.Errorf("could not translate host name %q to an address: %w", h.Name, err)
	}
	out := make([]target, len(ips))
	for i, ip := range ips {
		out[i] = target{"tcp", net.JoinHostPort(ip, port)}
	}
	return out, nil
}

// encryptionMethods lists, in the order libpq tries them, whether each
// attempt on an address uses TLS: Unix sockets never do.
func encryptionMethods(t TLSConfig, network string) []bool {
	if network == "unix" {
		return []bool{false}
	}
	switch t.Mode {
	case SSLDisable:
		return []bool{false}
	case SSLAllow:
		return []bool{false, true}
	case SSLPrefer:
		return []bool{true, false}
	default:
		return []bool{true}
	}
}

// connectAddr establishes a session with one address, trying the
// encryption methods sslmode allows: with prefer, a failed handshake or a
// server refusal over TLS is retried in plain text; with allow, a refusal
// in plain text is retried over TLS.
func connectAddr(ctx context.Context, cfg *Config, tlsFiles func() (*tlsFiles, error), want string, h Host, t target) (*Conn, next, error) {
	if cfg.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.ConnectTimeout, errConnectTimeout)
		defer cancel()
	}
	s := &addrSearch{ctx: ctx, cfg: cfg, tlsFiles: tlsFiles, want: want, h: h, t: t,
		methods: encryptionMethods(cfg.TLS, t.network), log: cfg.logger()}
	for len(s.methods) > 0 {
		c, nx, err := s.try()
		if nx != nextMethod {
			return c, nx, err
		}
	}
	return nil, stop, errors.New("unreachable: no encryption method left")
}

// addrSearch is connectAddr's search on one address: its settings, the
// encryption methods left to try there, and the failures of those tried.
type addrSearch struct {
	ctx      context.Context
	cfg      *Config
	tlsFiles func() (*tlsFiles, error)
	want     string // target_session_attrs
	h        Host
	t        target
	methods  []bool // whether each method left uses TLS, in order
	earlier  []*ConnectError
	log      *slog.Logger
}

// fail is the error of a step that failed on this address, saying so when
// connect_timeout ran out.
func (s *addrSearch) fail(step Step, err error) *ConnectError {
	if s.timedOut() {
		from := cmp.Or(s.cfg.ConnectTimeoutFrom, "connect_timeout")
		err = fmt.Errorf("timed out after %s (%s): %w", s.cfg.ConnectTimeout, from, err)
	}
	return &ConnectError{Host: s.h.String(), Addr: s.t.addr, User: s.cfg.User, Step: step, Err: err}
}

func (s *addrSearch) timedOut() bool { return errors.Is(context.Cause(s.ctx), errConnectTimeout) }

// final is the search's last failure, after those of the methods tried
// before it.
func (s *addrSearch) final(ce *ConnectError) *ConnectError {
	ce.Others = append(s.earlier, ce.Others...)
	return ce
}

// retry keeps a failure and moves on to the next encryption method.
func (s *addrSearch) retry(ce *ConnectError) (next, error) {
	s.earlier = append(s.earlier, ce)
	return nextMethod, ce
}

// try makes one attempt with the next encryption method: the session, or
// where the search goes.
func (s *addrSearch) try() (*Conn, next, error) {
	useTLS := s.methods[0]
	s.methods = s.methods[1:]
	started := time.Now()
	s.log.Info("connecting", "host", s.h.String(), "network", s.t.network, "address", s.t.addr, "tls", useTLS, "user", s.cfg.User, "database", s.cfg.Database)
	a, nx, err := s.dial()
	if err != nil {
		return nil, nx, err
	}
	if useTLS {
		if nx, err := a.startTLS(); err != nil {
			a.stopDeadline()
			_ = a.c.nc.Close()
			return nil, nx, err
		}
	}
	if nx, err := a.startSession(); err != nil {
		return nil, nx, err
	}
	c := a.c
	s.log.Info("connected", "address", s.t.addr, "server_version", c.params["server_version"], "backend_pid", c.pid,
		"auth", c.method, "tls", c.tls, "cancel_key", c.secret != nil, "elapsed", time.Since(started).Round(time.Microsecond))
	return c, 0, nil
}

// attempt is one connection of the search.
type attempt struct {
	*addrSearch
	c     *Conn
	probe *tlsProbe // what the TLS handshake saw of client certificates
	// stopDeadline ends the watch that fails the connection's reads and
	// writes once ctx is done; it reports whether it stopped the watch
	// before it fired.
	stopDeadline func() bool
}

// dial opens the connection of a new attempt.
func (s *addrSearch) dial() (*attempt, next, error) {
	nc, err := dial(s.ctx, s.cfg, s.t)
	if err != nil {
		s.log.Info("connection attempt failed", "address", s.t.addr, "error", err.Error())
		var ae *AuthError
		if errors.As(err, &ae) {
			return nil, stop, s.final(s.fail(StepAuth, err))
		}
		return nil, nextAddr, s.final(s.fail(StepDial, err))
	}
	return &attempt{addrSearch: s,
		c:            &Conn{nc: nc, cfg: s.cfg, host: s.h, addr: s.t.addr, netw: s.t.network, params: map[string]string{}},
		stopDeadline: context.AfterFunc(s.ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) }),
	}, 0, nil
}

// startTLS negotiates TLS on the attempt's connection. Under
// sslmode=prefer, a server that refuses TLS is spoken to in plain text on
// the same connection, which takes the place of the plain-text method.
func (a *attempt) startTLS() (next, error) {
	files, err := a.tlsFiles()
	if err != nil {
		return stop, err
	}
	a.c.tlsFiles = files
	tc, probe, err := startTLS(a.ctx, a.c.nc, a.cfg.TLS, files, a.h)
	switch {
	case errors.Is(err, errServerNoTLS) && len(a.methods) > 0 && !a.methods[0]:
		a.methods = a.methods[1:] // prefer: go on in plain text on this connection
		return 0, nil
	case errors.Is(err, errServerNoTLS):
		msg := fmt.Sprintf("server does not support SSL, but SSL was required (sslmode=%s from %s)", a.cfg.TLS.Mode, a.cfg.TLS.origin("sslmode"))
		if a.cfg.TLS.Mode == SSLAllow {
			msg = "server refused the session in plain text, and does not support SSL for the retry (sslmode=allow from " + a.cfg.TLS.origin("sslmode") + ")"
		}
		return nextAddr, a.final(a.fail(StepTLS, &TLSError{Msg: msg}))
	case err != nil:
		return a.tlsFailed(err)
	}
	a.c.nc, a.c.tls, a.probe = tc, true, probe
	st := tc.ConnectionState()
	a.log.Info("tls established", "version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite),
		"alpn", st.NegotiatedProtocol, "server_name", st.ServerName, "sslmode", a.cfg.TLS.Mode, "resumed", st.DidResume)
	return 0, nil
}

// tlsFailed says where the search goes after a failed TLS negotiation:
// settings that cannot work end it; under sslmode=prefer a failed
// handshake is retried in plain text; anything else moves on to the next
// address.
func (a *attempt) tlsFailed(err error) (next, error) {
	var cfgErr *ConfigError
	if errors.As(err, &cfgErr) {
		return stop, cfgErr
	}
	step := StepTLS
	var certErr *CertError
	if errors.As(err, &certErr) {
		step = StepVerify
	}
	ce := a.fail(step, err)
	if !a.timedOut() && errors.Is(err, errHandshake) && len(a.methods) > 0 {
		return a.retry(ce) // prefer: retry without TLS
	}
	return nextAddr, a.final(ce)
}

// startSession runs the startup on the attempt's connection and checks
// target_session_attrs; on failure the connection is closed.
func (a *attempt) startSession() (next, error) {
	c := a.c
	c.fe = newFrontend(c.nc)
	c.rd = newMsgReader(c.nc)
	c.rd.setDeadline = c.nc.SetReadDeadline
	err := c.startup(a.ctx, a.probe)
	a.probe.close()
	if err == nil {
		if err = c.checkTarget(a.want); err != nil {
			a.stopDeadline()
			_ = c.Close()
			return nextHost, a.final(err.(*ConnectError))
		}
	}
	if !a.stopDeadline() && err == nil {
		// The deadline may have been set just as startup finished.
		_ = c.nc.SetDeadline(time.Time{})
		err = a.ctx.Err()
	}
	if err == nil {
		return 0, nil
	}
	a.log.Info("connection attempt failed", "address", a.t.addr, "tls", c.tls, "error", err.Error())
	_ = c.nc.Close()
	return a.startupFailed(err)
}

// startupFailed says where the search goes after the session failed to
// start: a server that is starting up, or another refusal, moves on to the
// next host, unless the other encryption method may be accepted; an
// authentication failure ends the search; anything else moves on to the
// next address.
func (a *attempt) startupFailed(err error) (next, error) {
	var ce *ConnectError
	switch {
	case errors.As(err, &ce):
	case isTLSAlert(err):
		// With TLS 1.3 the server checks our certificate after the
		// handshake has completed on our side.
		ce = a.fail(StepTLS, &TLSError{Msg: "the server ended the TLS session", Err: err})
	default:
		ce = a.fail(StepStartup, err)
	}
	if a.timedOut() {
		return nextAddr, a.final(ce)
	}
	var pe *PgError
	isPg := errors.As(err, &pe)
	switch {
	case isPg && pe.Code == "57P03":
		return nextHost, a.final(ce)
	case isPg && !a.c.authOK && len(a.methods) > 0:
		return a.retry(ce) // the other encryption method may be accepted
	case ce.Step == StepAuth:
		return stop, a.final(ce)
	case isPg:
		return nextHost, a.final(ce)
	}
	return nextAddr, a.final(ce)
}

var errConnectTimeout = errors.New("connect_timeout expired")
