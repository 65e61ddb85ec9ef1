package wire_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TestProtocolCancelWaitsForTheHangUp: a client that cancels keeps the
// cancel connection open until the server hangs up, even when nobody waits
// for the statement any more (a reader gone, a sink failed for good), as
// libpq does. PgBouncer 1.18, which Debian and Ubuntu ship, exits on a
// fatal error (disconnect_client: bad client state 0,
// pgbouncer/pgbouncer#801) when a client closes its cancel connection
// while the pooler is still passing the request on: every session through
// it would go.
func TestProtocolCancelWaitsForTheHangUp(t *testing.T) {
	defer wire.SetDrainTimeout(time.Hour)()
	gone := errors.New("the reader went away")
	for _, tc := range []struct {
		name    string
		abandon bool // the stop's cause is one nobody waits for
		failAt  int  // the sink fails on this row with gone; 0: the context stops
	}{
		{name: "drained stop"},
		{name: "abandoned stop", abandon: true},
		{name: "sink failed, abandoned", abandon: true, failAt: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t)
			// Long enough for a client that closes at once to be seen
			// doing so; one that waits closes after the fake hangs up.
			fs.CancelWatch = 300 * time.Millisecond
			rowSent, cancelSeen := make(chan struct{}), make(chan struct{})
			fs.start(fakeSeq(fakeUpToExecute(fakeKey), fakeSend(fakeRows([]byte(`1`))...),
				func(b *pgproto3.Backend, c net.Conn) error {
					close(rowSent)
					if !tc.abandon {
						// A drained stop waits for the cancel's answer.
						<-cancelSeen
						cancelled := fakeError("ERROR", "57014", "canceling statement due to user request")
						return fakeSeq(fakeSend(cancelled, &pgproto3.ReadyForQuery{TxStatus: 'E'}), fakeRollback, fakeExpectClose)(b, c)
					}
					return fakeExpectClose(b, c)
				}))
			conn := fakeConnectTo(t, fs)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			stop := wire.NewStop(ctx, func(err error) bool { return tc.abandon && errors.Is(err, gone) })
			defer stop.Close()
			sink := fakeSink{failAt: tc.failAt, failErr: gone}
			returned := make(chan error, 1)
			go func() {
				_, err := conn.Stream(stop, wire.Statement{SQL: "SELECT j FROM t"}, &sink, wire.Observer{})
				returned <- err
			}()
			<-rowSent
			if tc.failAt == 0 {
				cancel(gone)
			}
			if err := checkCancel(fs.cancelRequest()); err != nil {
				t.Error(err)
			}
			close(cancelSeen)
			select {
			case <-returned:
			case <-time.After(fakeTimeout):
				t.Fatal("Stream did not return")
			}
			_ = conn.Close()
			fs.wait()
			if n := fs.ClosedFirst.Load(); n != 0 {
				t.Errorf("%d cancel connections closed by the client before the server hung up", n)
			}
		})
	}
}
