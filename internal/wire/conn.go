package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Conn is an open session with one server. It is not safe for concurrent
// use, except Cancel.
type Conn struct {
	nc     net.Conn
	fe     *pgproto3.Frontend
	rd     *msgReader
	cfg    *Config
	host   Host
	addr   string // dialled address, for cancel requests
	netw   string // "tcp" or "unix"
	pid    uint32
	secret []byte
	params map[string]string
	method string // authentication method used

	passwordFromFile bool
	closed           bool
}

// Connect opens a session, trying each configured address in order. An
// authentication failure stops the search: another host would most likely
// refuse the same credentials, and trying them everywhere helps nobody.
func Connect(ctx context.Context, cfg *Config) (*Conn, error) {
	var failures []*ConnectError
	for _, h := range cfg.Hosts {
		targets, err := resolve(ctx, h)
		if err != nil {
			failures = append(failures, &ConnectError{Host: h.String(), User: cfg.User, Step: StepDial, Err: err})
			continue
		}
		for _, t := range targets {
			c, err := connectOne(ctx, cfg, h, t)
			if err == nil {
				return c, nil
			}
			var ce *ConnectError
			if !errors.As(err, &ce) {
				ce = &ConnectError{Host: h.String(), Addr: t.addr, User: cfg.User, Step: StepDial, Err: err}
			}
			if ce.Step == StepAuth || ctx.Err() != nil {
				ce.Others = failures
				return nil, ce
			}
			failures = append(failures, ce)
		}
	}
	last := failures[len(failures)-1]
	last.Others = failures[:len(failures)-1]
	return nil, last
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

func connectOne(ctx context.Context, cfg *Config, h Host, t target) (*Conn, error) {
	if cfg.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.ConnectTimeout)
		defer cancel()
	}
	fail := func(step Step, err error) error {
		if ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("timed out (connect_timeout %s): %w", cfg.ConnectTimeout, ctx.Err())
		}
		return &ConnectError{Host: h.String(), Addr: t.addr, User: cfg.User, Step: step, Err: err}
	}
	d := net.Dialer{KeepAlive: -1}
	if cfg.Keepalives && t.network == "tcp" {
		d.KeepAlive = cfg.KeepalivesIdle // 0 = Go's default period
		if d.KeepAlive == 0 {
			d.KeepAlive = 15 * time.Second
		}
	}
	nc, err := d.DialContext(ctx, t.network, t.addr)
	if err != nil {
		return nil, fail(StepDial, err)
	}
	c := &Conn{nc: nc, cfg: cfg, host: h, addr: t.addr, netw: t.network, params: map[string]string{}}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c.fe = pgproto3.NewFrontend(nil, nc) // sends only: rd reads
	c.rd = newMsgReader(nc)
	if err := c.startup(); err != nil {
		_ = nc.Close()
		var ce *ConnectError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fail(StepStartup, err)
	}
	if !stop() {
		// The deadline may have been set just as startup finished.
		_ = nc.SetDeadline(time.Time{})
		if ctx.Err() != nil {
			_ = nc.Close()
			return nil, fail(StepStartup, ctx.Err())
		}
	}
	return c, nil
}

// ServerParam returns a parameter the server reported with ParameterStatus,
// such as "server_version".
func (c *Conn) ServerParam(name string) string { return c.params[name] }

// AuthMethod returns the authentication method the server asked for:
// "trust", "password", "md5" or "scram-sha-256".
func (c *Conn) AuthMethod() string { return c.method }

// Host returns the host the session is connected to.
func (c *Conn) Host() Host { return c.host }

// Close ends the session politely (Terminate) and closes the socket. It is
// safe to call more than once.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.fe.Send(&pgproto3.Terminate{})
	_ = c.fe.Flush()
	return c.nc.Close()
}

// abort closes the socket without a goodbye, after the stream is out of
// sync or the server is unreachable.
func (c *Conn) abort() {
	if !c.closed {
		c.closed = true
		_ = c.nc.Close()
	}
}
