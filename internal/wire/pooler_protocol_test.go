package wire_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TestProtocolRowCutByAPooler: when the server's connection ends in the
// middle of a DataRow PgBouncer is passing on, PgBouncer (session mode)
// writes its own ErrorResponse, "server conn crashed?" (08P01), after the
// part it had, and closes. The client, waiting for the rest of the row,
// reads that error's bytes as the value. The value is refused (its NUL
// bytes), so that no line of garbage is written: the rows before are
// handed on whole, and the stream fails with a ProtocolError.
func TestProtocolRowCutByAPooler(t *testing.T) {
	crashed, err := fakeError("FATAL", "08P01", "server conn crashed?").Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	part := []byte(`{"id": 2, "name": "4a007b`)
	row, err := (&pgproto3.DataRow{Values: [][]byte{append(bytes.Clone(part), crashed...)}}).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	cut := row[:len(row)-len(crashed)] // the row as far as the server sent it
	fs := startFake(t, fakeSeq(fakeUpToExecute(fakeKey), fakeSend(fakeRows([]byte(`{"id": 1}`))...),
		fakeRaw(append(bytes.Clone(cut), crashed...)),
		func(b *pgproto3.Backend, c net.Conn) error { return fakeExpectClose(b, c) }))
	conn := fakeConnectTo(t, fs)
	var sink fakeSink
	ctx, cancel := context.WithTimeout(context.Background(), fakeTimeout)
	defer cancel()
	_, err = conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: "SELECT j FROM t"}, &sink, wire.Observer{})
	_ = conn.Close()
	fs.wait()
	var pe *wire.ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "holds a NUL byte") {
		t.Errorf("Stream = %v (%T), want a ProtocolError about a NUL byte", err, err)
	}
	if len(sink.values) != 1 || string(sink.values[0]) != `{"id": 1}` {
		t.Errorf("sink got %q, want the first row alone", sink.values)
	}
}
