package wire_test

import (
	"context"
	"net"
	"slices"
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeQueries reads n simple queries, sending their text to seen, and
// only then answers with reply: the client must have sent them together.
func fakeQueries(seen chan<- string, n int, reply ...pgproto3.BackendMessage) fakeScript {
	return func(b *pgproto3.Backend, conn net.Conn) error {
		for range n {
			q, err := fakeRecv[*pgproto3.Query](b)
			if err != nil {
				return err
			}
			seen <- q.String
		}
		return fakeSend(reply...)(b, conn)
	}
}

// TestTransactionClientCheckRefused: Stream, QueryText and Ping open their
// transaction one way. A server that refuses the client check gets the
// aborted transaction's ROLLBACK and the BEGIN again without the check,
// sent together, and the connection's later transactions go without it.
func TestTransactionClientCheckRefused(t *testing.T) {
	ok := func(tag string, s byte) []pgproto3.BackendMessage {
		return []pgproto3.BackendMessage{&pgproto3.CommandComplete{CommandTag: []byte(tag)}, &pgproto3.ReadyForQuery{TxStatus: s}}
	}
	refused := []pgproto3.BackendMessage{fakeError("ERROR", "55P02", `parameter "client_connection_check_interval" cannot be changed now`), &pgproto3.ReadyForQuery{TxStatus: 'E'}}
	streamRows := fakeSeq(fakeDescribe(fakeField("j", wire.OIDJSONB)), fakeExecute,
		fakeSend(fakeMsgs([]pgproto3.BackendMessage{&pgproto3.BindComplete{}}, fakeRows([]byte(`1`)), fakeDone(1))...))
	textRow := func(b *pgproto3.Backend, conn net.Conn) error {
		if err := fakeRecvRequest(b); err != nil {
			return err
		}
		return fakeSend(fakeMsgs([]pgproto3.BackendMessage{&pgproto3.ParseComplete{}, &pgproto3.BindComplete{}, fakeTextRow([]byte("1"))}, fakeDone(1))...)(b, conn)
	}
	for _, tc := range []struct {
		name   string
		stream bool
		run    func(conn *wire.Conn) error
	}{
		{"Stream", true, func(conn *wire.Conn) error {
			_, err := conn.Stream(wire.NewStop(context.Background(), nil), wire.Statement{SQL: "SELECT j FROM t"}, &fakeSink{}, wire.Observer{})
			return err
		}},
		{"QueryText", false, func(conn *wire.Conn) error {
			return conn.QueryText(context.Background(), "SELECT 1", nil, func([][]byte) error { return nil })
		}},
		{"Ping", false, func(conn *wire.Conn) error {
			_, err := conn.Ping(context.Background(), 1)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(chan string, 8)
			// After the refused BEGIN: QueryText and Ping send ROLLBACK and
			// BEGIN together; a stream's statement, pipelined behind the
			// BEGIN, fails in the aborted transaction, its ROLLBACK ends it,
			// and the stream runs again.
			first, rows := fakeSeq(fakeQueries(seen, 2, append(ok("ROLLBACK", 'I'), ok("BEGIN", 'T')...)...), textRow), textRow
			if tc.stream {
				first = fakeSeq(func(b *pgproto3.Backend, _ net.Conn) error { return fakeRecvRequest(b) },
					fakeSend(fakeError("ERROR", "25P02", "current transaction is aborted"), &pgproto3.ReadyForQuery{TxStatus: 'E'}),
					fakeQueries(seen, 1, ok("ROLLBACK", 'I')...), fakeQueries(seen, 1, ok("BEGIN", 'T')...), streamRows)
				rows = streamRows
			}
			fs := startFake(t, fakeSeq(fakeTrust(fakeKey), fakeQueries(seen, 1, refused...), first, fakeQueries(seen, 1, ok("ROLLBACK", 'I')...),
				fakeQueries(seen, 1, ok("BEGIN", 'T')...), rows, fakeQueries(seen, 1, ok("ROLLBACK", 'I')...), fakeExpectClose))
			conn := fakeConnectTo(t, fs)
			for i := range 2 {
				if err := tc.run(conn); err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
			}
			_ = conn.Close()
			fs.wait()
			close(seen)
			var got []string
			for q := range seen {
				got = append(got, q)
			}
			check := wire.BeginSQL + "; SET LOCAL client_connection_check_interval = 1000"
			want := []string{check, "ROLLBACK", wire.BeginSQL, "ROLLBACK", wire.BeginSQL, "ROLLBACK"}
			if !slices.Equal(got, want) {
				t.Errorf("queries\n%q\nwant\n%q", got, want)
			}
		})
	}
}
