package wire_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// TestStopAt: Cancel records when the stop came, and its first cause; a
// Cancel after Close is not a stop.
func TestStopAt(t *testing.T) {
	first, second := errors.New("first"), errors.New("second")
	tests := []struct {
		name    string
		stop    func(s *wire.Stop)
		stopped bool
		cause   error
	}{
		{"running", func(*wire.Stop) {}, false, nil},
		{"stopped", func(s *wire.Stop) { s.Cancel(first) }, true, first},
		{"first cause wins", func(s *wire.Stop) { s.Cancel(first); s.Cancel(second) }, true, first},
		{"closed, then stopped", func(s *wire.Stop) { s.Close(); s.Cancel(first) }, false, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := wire.NewStop(context.Background(), nil)
			defer s.Close()
			before := time.Now()
			tc.stop(s)
			at, ok := s.At()
			if ok != tc.stopped || ok && (at.Before(before) || at.After(time.Now())) {
				t.Errorf("At() = %v, %t; want stopped %t, between %v and now", at, ok, tc.stopped, before)
			}
			if cause := context.Cause(s.Context()); !errors.Is(cause, tc.cause) && !(tc.cause == nil && cause == nil) {
				t.Errorf("cause %v, want %v", cause, tc.cause)
			}
		})
	}
}

// slowRows is a statement whose rows come slowly: the stop finds every
// session mid-stream. Each row fills the server's send buffer
// (8 KiB) on its own, so that the first reaches the client at once.
const slowRows = `SELECT to_jsonb(repeat('x', 9000)) AS data FROM generate_series(1, 100000) i WHERE pg_sleep(0.001) IS NOT NULL`

// firstRowSink signals its first row.
type firstRowSink struct {
	collect
	first chan struct{}
}

func (s *firstRowSink) WriteValue(v []byte) error {
	if len(s.values) == 0 {
		close(s.first)
	}
	return s.collect.WriteValue(v)
}

// TestStopSharedBySessions: sessions streaming under one Stop all end on
// its cause: drained and usable afterwards, or, for a cause the Stop
// abandons, closed at once.
func TestStopSharedBySessions(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false))
	gone := errors.New("nobody reads")
	for _, tc := range []struct {
		name    string
		abandon bool
	}{{"drained", false}, {"abandoned", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var abandon func(error) bool
			if tc.abandon {
				abandon = func(err error) bool { return errors.Is(err, gone) }
			}
			stop := wire.NewStop(ctx, abandon)
			defer stop.Close()
			const sessions = 3
			conns := make([]*wire.Conn, sessions)
			errs := make(chan error, sessions)
			for i := range conns {
				conn, err := wire.Connect(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conns[i] = conn
				sink := &firstRowSink{first: make(chan struct{})}
				go func() {
					_, err := conn.Stream(stop, wire.Statement{SQL: slowRows}, sink, wire.Observer{})
					errs <- err
				}()
				<-sink.first
			}
			stop.Cancel(gone)
			for range sessions {
				if err := <-errs; !errors.Is(err, gone) {
					t.Errorf("a session ended with %v, want the stop's cause", err)
				}
			}
			for i, conn := range conns {
				err := conn.QueryText(ctx, "SELECT 1", nil, func([][]byte) error { return nil })
				if usable := err == nil; usable == tc.abandon {
					t.Errorf("session %d after the stop: QueryText error %v; want it usable: %t", i, err, !tc.abandon)
				}
			}
		})
	}
}
