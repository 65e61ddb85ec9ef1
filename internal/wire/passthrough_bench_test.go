package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/jackc/pgx/v5/pgproto3"
)

// replayConn is a net.Conn that answers fraise's stream statements with
// canned responses and then the given number of identical data rows,
// generated as they are read: the per-row passthrough path without a
// network or a server.
type replayConn struct {
	net.Conn // nil: methods not overridden are never called
	row      []byte
	rows     int
	out      bytes.Buffer // responses waiting to be read
	left     int          // rows still to send after out
	off      int          // bytes of the current row already sent
	tail     []byte       // what follows the rows
	syncs    int
}

func newReplayConn(value []byte, rows int) *replayConn {
	row, _ := (&pgproto3.DataRow{Values: [][]byte{value}}).Encode(nil)
	return &replayConn{row: row, rows: rows}
}

func (c *replayConn) Write(p []byte) (int, error) {
	// Answer a pipelined stream: the BEGIN's Query, then the statement's
	// Sync, whose rows are generated as they are read, then the ROLLBACK.
	for rest := p; len(rest) >= 5; {
		typ, n := rest[0], int(binary.BigEndian.Uint32(rest[1:]))
		rest = rest[1+n:]
		if typ != 'Q' && typ != 'S' {
			continue
		}
		c.syncs++
		switch c.syncs {
		case 1: // BEGIN
			c.out.Write(encodeAll(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")}, &pgproto3.ReadyForQuery{TxStatus: 'T'}))
		case 2: // Parse, Describe, Bind, Execute, Sync: the rows follow
			c.out.Write(encodeAll(&pgproto3.ParseComplete{}, &pgproto3.ParameterDescription{},
				&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("data"), DataTypeOID: OIDJSONB, DataTypeSize: -1, TypeModifier: -1}}},
				&pgproto3.BindComplete{}))
			c.left = c.rows
			c.tail = append(c.tail, encodeAll(&pgproto3.CommandComplete{CommandTag: []byte("SELECT " + strconv.Itoa(c.rows))}, &pgproto3.ReadyForQuery{TxStatus: 'T'})...)
		default: // ROLLBACK
			c.tail = append(c.tail, encodeAll(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})...)
		}
	}
	return len(p), nil
}

// encodeAll encodes msgs one after the other.
func encodeAll(msgs ...pgproto3.BackendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		b, _ = m.Encode(b)
	}
	return b
}

func (c *replayConn) Read(p []byte) (int, error) {
	if c.out.Len() > 0 {
		return c.out.Read(p)
	}
	n := 0
	for c.left > 0 && n < len(p) {
		k := copy(p[n:], c.row[c.off:])
		n += k
		if c.off += k; c.off == len(c.row) {
			c.off = 0
			c.left--
		}
	}
	if n > 0 {
		return n, nil
	}
	if len(c.tail) > 0 {
		k := copy(p, c.tail)
		c.tail = c.tail[k:]
		return k, nil
	}
	return 0, io.EOF
}

func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }
func (c *replayConn) Close() error                     { return nil }

// ndjsonSink is the CLI's sink: rows into the NDJSON writer.
type ndjsonSink struct{ w *output.NDJSON }

func (s *ndjsonSink) Begin(col Column) error    { s.w.SetOneLine(col.KeepsInputText()); return nil }
func (s *ndjsonSink) WriteValue(v []byte) error { return s.w.WriteValue(v) }
func (s *ndjsonSink) Flush() error              { return s.w.Flush() }

// BenchmarkPassthrough measures the per-row path of a stream — framing,
// the DataRow check, the NDJSON copy — with one op per row, all rows in
// one stream (the few allocations of its set-up spread over b.N rows).
func BenchmarkPassthrough(b *testing.B) {
	for _, size := range []int{200, 2000} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			value := bytes.Repeat([]byte("x"), size)
			value[0], value[size-1] = '"', '"'
			nc := newReplayConn(value, b.N)
			c := &Conn{nc: nc, fe: pgproto3.NewFrontend(nil, nc), rd: newMsgReader(nc), cfg: &Config{}, params: map[string]string{}}
			w := output.NewNDJSON(io.Discard, output.Options{})
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			res, err := c.Stream(NewStop(context.Background(), nil), Statement{SQL: "SELECT data FROM v"}, &ndjsonSink{w}, Observer{})
			if err != nil {
				b.Fatal(err)
			}
			if res.Rows != int64(b.N) || w.Rows() != int64(b.N) {
				b.Fatalf("streamed %d rows, wrote %d, want %d", res.Rows, w.Rows(), b.N)
			}
		})
	}
}
