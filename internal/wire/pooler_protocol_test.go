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
	for _, tc := range []struct {
		name  string
		part  string // the row as far as the server sent it
		short bool   // one byte short: only the ErrorResponse's type is taken into the value, no NUL
		want  string
	}{
		{"cut inside a string", `{"id": 2, "name": "4a007b`, false, "holds a NUL byte"},
		{"cut one byte short", `{"id": 2, "score": 518`, true, "ends in 'E'"},
	} {
		t.Run(tc.name, func(t *testing.T) { rowCutByAPooler(t, []byte(tc.part), tc.short, tc.want) })
	}
}

// rowCutByAPooler streams a row whose value is part and then, spliced into
// it, PgBouncer's ErrorResponse (only its type byte when short), and checks
// the ProtocolError says want.
func rowCutByAPooler(t *testing.T, part []byte, short bool, want string) {
	crashed, err := fakeError("FATAL", "08P01", "server conn crashed?").Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if short {
		crashed = crashed[:1] // the value's length ends after the type byte
	}
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
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
		t.Errorf("Stream = %v (%T), want a ProtocolError saying %q", err, err, want)
	}
	if len(sink.values) != 1 || string(sink.values[0]) != `{"id": 1}` {
		t.Errorf("sink got %q, want the first row alone", sink.values)
	}
}
