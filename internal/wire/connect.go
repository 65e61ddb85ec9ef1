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
	nextAddr next = iota // try the host's next address
	nextHost             // skip the host's other addresses
	stop                 // give up: another server would refuse the same way
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
	fail := func(step Step, err error) *ConnectError {
		if errors.Is(context.Cause(ctx), errConnectTimeout) {
			from := cmp.Or(cfg.ConnectTimeoutFrom, "connect_timeout")
			err = fmt.Errorf("timed out after %s (%s): %w", cfg.ConnectTimeout, from, err)
		}
		return &ConnectError{Host: h.String(), Addr: t.addr, User: cfg.User, Step: step, Err: err}
	}
	timedOut := func() bool { return errors.Is(context.Cause(ctx), errConnectTimeout) }
	methods := encryptionMethods(cfg.TLS, t.network)
	var earlier []*ConnectError // failures of methods already tried here
	withEarlier := func(ce *ConnectError) *ConnectError {
		ce.Others = append(earlier, ce.Others...)
		return ce
	}
	log := cfg.logger()
	for i := 0; i < len(methods); i++ {
		started := time.Now()
		log.Info("connecting", "host", h.String(), "network", t.network, "address", t.addr, "tls", methods[i], "user", cfg.User, "database", cfg.Database)
		nc, err := dial(ctx, cfg, t)
		if err != nil {
			log.Info("connection attempt failed", "address", t.addr, "error", err.Error())
			var ae *AuthError
			if errors.As(err, &ae) {
				return nil, stop, withEarlier(fail(StepAuth, err))
			}
			return nil, nextAddr, withEarlier(fail(StepDial, err))
		}
		c := &Conn{nc: nc, cfg: cfg, host: h, addr: t.addr, netw: t.network, params: map[string]string{}}
		stopDeadline := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
		var probe *tlsProbe
		if methods[i] {
			files, err := tlsFiles()
			if err != nil {
				stopDeadline()
				_ = nc.Close()
				return nil, stop, err
			}
			c.tlsFiles = files
			tc, p, err := startTLS(ctx, nc, cfg.TLS, files, h)
			switch {
			case errors.Is(err, errServerNoTLS) && i+1 < len(methods) && !methods[i+1]:
				i++ // prefer: go on in plain text on this connection
			case errors.Is(err, errServerNoTLS):
				stopDeadline()
				_ = nc.Close()
				msg := fmt.Sprintf("server does not support SSL, but SSL was required (sslmode=%s from %s)", cfg.TLS.Mode, cfg.TLS.origin("sslmode"))
				if cfg.TLS.Mode == SSLAllow {
					msg = "server refused the session in plain text, and does not support SSL for the retry (sslmode=allow from " + cfg.TLS.origin("sslmode") + ")"
				}
				return nil, nextAddr, withEarlier(fail(StepTLS, &TLSError{Msg: msg}))
			case err != nil:
				stopDeadline()
				_ = nc.Close()
				step := StepTLS
				var certErr *CertError
				var cfgErr *ConfigError
				switch {
				case errors.As(err, &cfgErr):
					return nil, stop, cfgErr
				case errors.As(err, &certErr):
					step = StepVerify
				}
				ce := fail(step, err)
				if timedOut() {
					return nil, nextAddr, withEarlier(ce)
				}
				if errors.Is(err, errHandshake) && i+1 < len(methods) { // prefer: retry without TLS
					earlier = append(earlier, ce)
					continue
				}
				return nil, nextAddr, withEarlier(ce)
			default:
				c.nc, c.tls, probe = tc, true, p
				st := tc.ConnectionState()
				log.Info("tls established", "version", tls.VersionName(st.Version), "cipher", tls.CipherSuiteName(st.CipherSuite),
					"alpn", st.NegotiatedProtocol, "server_name", st.ServerName, "sslmode", cfg.TLS.Mode, "resumed", st.DidResume)
			}
		}
		c.fe = newFrontend(c.nc)
		c.rd = newMsgReader(c.nc)
		c.rd.setDeadline = c.nc.SetReadDeadline
		err = c.startup(ctx, probe)
		probe.close()
		if err == nil {
			if err = c.checkTarget(ctx, want); err != nil {
				stopDeadline()
				_ = c.Close()
				return nil, nextHost, withEarlier(err.(*ConnectError))
			}
		}
		if !stopDeadline() && err == nil {
			// The deadline may have been set just as startup finished.
			_ = c.nc.SetDeadline(time.Time{})
			if ctx.Err() != nil {
				err = ctx.Err()
			}
		}
		if err == nil {
			log.Info("connected", "address", t.addr, "server_version", c.params["server_version"], "backend_pid", c.pid,
				"auth", c.method, "tls", c.tls, "cancel_key", c.secret != nil, "elapsed", time.Since(started).Round(time.Microsecond))
			return c, 0, nil
		}
		log.Info("connection attempt failed", "address", t.addr, "tls", methods[i], "error", err.Error())
		_ = c.nc.Close()
		var ce *ConnectError
		switch {
		case errors.As(err, &ce):
		case isTLSAlert(err):
			// With TLS 1.3 the server checks our certificate after the
			// handshake has completed on our side.
			ce = fail(StepTLS, &TLSError{Msg: "the server ended the TLS session", Err: err})
		default:
			ce = fail(StepStartup, err)
		}
		if timedOut() {
			return nil, nextAddr, withEarlier(ce)
		}
		var pe *PgError
		isPg := errors.As(err, &pe)
		switch {
		case isPg && pe.Code == "57P03":
			return nil, nextHost, withEarlier(ce)
		case isPg && !c.authOK && i+1 < len(methods):
			earlier = append(earlier, ce) // the other encryption method may be accepted
			continue
		case ce.Step == StepAuth:
			return nil, stop, withEarlier(ce)
		case isPg:
			return nil, nextHost, withEarlier(ce)
		}
		return nil, nextAddr, withEarlier(ce)
	}
	return nil, stop, errors.New("unreachable: no encryption method left")
}

var errConnectTimeout = errors.New("connect_timeout expired")
