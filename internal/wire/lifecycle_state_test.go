package wire

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// cancelCatcher listens on loopback and reports each cancel request it
// receives, hanging up after it as a server does.
func cancelCatcher(t *testing.T) (addr string, got <-chan uint32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	ch := make(chan uint32, 4)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			b := pgproto3.NewBackend(nc, nc)
			if msg, err := b.ReceiveStartupMessage(); err == nil {
				if cr, ok := msg.(*pgproto3.CancelRequest); ok {
					ch <- cr.ProcessID
				}
			}
			_ = nc.Close()
		}
	}()
	return ln.Addr().String(), ch
}

// TestLifeStates drives one statement's life through each move of its
// state diagram (lifecycle.go) and checks the state it ends in, whether
// the server was asked to cancel and whether the socket was closed.
func TestLifeStates(t *testing.T) {
	cases := []struct {
		name       string
		noKey      bool
		abandon    bool
		moves      []string // "stop", "deliver" (which must report delivers), "event", "answer"
		delivers   bool     // what deliver reports
		stopping   bool     // what stopping says after the moves
		want       state    // the state before finish
		wantCancel int      // cancel requests sent
		wantClosed bool
	}{
		{name: "stopped while executing drains", moves: []string{"stop"}, stopping: true, want: draining, wantCancel: 1},
		{name: "a cause nobody waits for is abandoned", abandon: true, moves: []string{"stop"}, stopping: true, want: abandoned, wantCancel: 1, wantClosed: true},
		{name: "no cancel key closes at once", noKey: true, moves: []string{"stop"}, stopping: true, want: abandoned, wantClosed: true},
		{name: "delivered", moves: []string{"deliver"}, delivers: true, want: delivered},
		{name: "a stop during the last flush still delivers", moves: []string{"stop", "event", "deliver"}, delivers: true, want: delivered, wantCancel: 1},
		{name: "an abandoned statement is not delivered", abandon: true, moves: []string{"stop", "event", "deliver"}, stopping: true, want: abandoned, wantCancel: 1, wantClosed: true},
		{name: "a stop after delivery cancels nothing", moves: []string{"deliver", "stop", "event"}, delivers: true, want: delivered},
		{name: "executing, not stopped", want: executing},
		{name: "answered, then stopped", moves: []string{"answer", "stop", "event"}, stopping: true, want: draining, wantCancel: 1},
		// A pooler may drop the first cancel request, sent while the session
		// waited for a server connection: the first answer sends another.
		{name: "stopped before any answer, then answered", moves: []string{"stop", "event", "answer"}, stopping: true, want: draining, wantCancel: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, got := cancelCatcher(t)
			nc, peer := net.Pipe()
			defer peer.Close()
			go func() { _, _ = io.Copy(io.Discard, peer) }()
			c := &Conn{nc: nc, cfg: &Config{}, netw: "tcp", addr: addr, pid: 42, secret: []byte{1, 2, 3, 4}}
			if tc.noKey {
				c.secret = nil
			}
			ctx, stop := context.WithCancelCause(context.Background())
			defer stop(nil)
			l := c.live(ctx, Statement{}, func(error) bool { return tc.abandon })
			for _, m := range tc.moves {
				switch m {
				case "stop":
					stop(errors.New("interrupt"))
				case "deliver":
					if d := l.deliver(); d != tc.delivers {
						t.Errorf("deliver = %v, want %v", d, tc.delivers)
					}
				case "event":
					l.stop() // whether or not the watch got it first
				case "answer":
					l.firstAnswer()
				}
			}
			if s := l.stopping(); s != tc.stopping {
				t.Errorf("stopping = %v, want %v", s, tc.stopping)
			}
			if s := l.now(); s != tc.want {
				t.Errorf("state = %v, want %v", s, tc.want)
			}
			l.finish()
			stop(errors.New("after the return"))
			l.stop() // a stop once DONE changes nothing
			if s := l.now(); s != done {
				t.Errorf("after finish, state = %v, want done", s)
			}
			for range tc.wantCancel {
				if pid, err := awaitPID(got); err != nil || pid != 42 {
					t.Errorf("cancel request: pid %d, %v; want pid 42", pid, err)
				}
			}
			select {
			case pid := <-got:
				t.Errorf("unexpected cancel request for pid %d", pid)
			default:
			}
			_, err := nc.Write([]byte{0})
			if closed := errors.Is(err, io.ErrClosedPipe); closed != tc.wantClosed {
				t.Errorf("socket closed = %v (write: %v), want %v", closed, err, tc.wantClosed)
			}
		})
	}
}

// awaitPID waits for a cancel request: one written without waiting for the
// server's hang-up (an abandoned statement's) may arrive after finish.
func awaitPID(got <-chan uint32) (uint32, error) {
	select {
	case pid := <-got:
		return pid, nil
	case <-time.After(5 * time.Second):
		return 0, errors.New("no cancel request received in 5 s")
	}
}
