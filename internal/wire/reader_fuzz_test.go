package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// chunkReader returns at most n bytes per Read (all it has when n is 0),
// and counts what it returned.
type chunkReader struct {
	r    *bytes.Reader
	n    int
	read int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.n > 0 && len(p) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.read += k
	return k, err
}

// backendSeeds are real server messages, one stream each, for the fuzz
// targets of the reader.
func backendSeeds(t testing.TB) [][]byte {
	return [][]byte{
		stream(t, &pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}}),
		stream(t, &pgproto3.AuthenticationOk{}, &pgproto3.ParameterStatus{Name: "server_version", Value: "15.18"},
			&pgproto3.BackendKeyData{ProcessID: 7, SecretKey: []byte{0, 0, 0, 99}}, &pgproto3.ReadyForQuery{TxStatus: 'I'}),
		stream(t, &pgproto3.ParseComplete{}, &pgproto3.BindComplete{},
			&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("data"), DataTypeOID: OIDJSONB, DataTypeSize: -1, TypeModifier: -1}}},
			&pgproto3.DataRow{Values: [][]byte{[]byte(`{"a":1}`)}}, &pgproto3.DataRow{Values: [][]byte{nil}},
			&pgproto3.CommandComplete{CommandTag: []byte("SELECT 2")}, &pgproto3.ReadyForQuery{TxStatus: 'T'}),
		stream(t, &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "42601",
			Message: `syntax error at or near "x"`, Position: 30, Hint: "h", Detail: "d", File: "scan.l", Line: 1244, Routine: "scanner_yyerror"}),
		stream(t, &pgproto3.NoticeResponse{Severity: "NOTICE", Code: "00000", Message: "n"},
			&pgproto3.NotificationResponse{PID: 1, Channel: "c", Payload: "p"}, &pgproto3.EmptyQueryResponse{}),
		stream(t, &pgproto3.DataRow{Values: [][]byte{[]byte("public"), []byte("v_user"), []byte("v"), nil, []byte("42")}}),
		{'D', 0x7f, 0xff, 0xff, 0xff}, {'E', 0x3f, 0xff, 0xff, 0xff, 'S'}, {'R', 0, 0, 0, 8, 0, 0, 0, 10},
	}
}

// stream encodes msgs one after the other, as a server sends them.
func stream(t testing.TB, msgs ...pgproto3.BackendMessage) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// FuzzMsgReader feeds any bytes, in reads of any size, as a server's stream
// to the message reader: it never panics; each message is returned with
// the body its header claims, or a *ProtocolError, a *RowTooLargeError
// (a row above maxBody, refused before its body is read) or
// io.ErrUnexpectedEOF; its buffer grows no faster than the bytes that
// arrive (a header claiming a gigabyte is not a gigabyte); every body
// decodes to a message or a *ProtocolError, a row's value is the tail of
// its body, and an ErrorResponse survives a round trip.
func FuzzMsgReader(f *testing.F) {
	for _, s := range backendSeeds(f) {
		f.Add(s, uint16(0), uint32(0))
		f.Add(s, uint16(1), uint32(4))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, maxBody uint32) {
		src := &chunkReader{r: bytes.NewReader(data), n: int(chunk)}
		m := newMsgReader(src)
		m.maxBody = int64(maxBody)
		off := 0 // where the next message starts in data
		for {
			typ, body, err := m.next()
			if limit := max(readBufSize, growFactor*src.read); len(m.buf) > limit {
				t.Fatalf("buffer of %d bytes after %d bytes read, more than %d", len(m.buf), src.read, limit)
			}
			if err != nil {
				checkReadError(t, err, m.maxBody)
				return
			}
			if cap(body) != len(body) {
				t.Fatalf("body of %d bytes has capacity %d: appending would write over the next message", len(body), cap(body))
			}
			// The framing, checked against the stream itself.
			if n := int(binary.BigEndian.Uint32(data[off+1:])); typ != data[off] || n != 4+len(body) || !bytes.Equal(body, data[off+5:off+1+n]) {
				t.Fatalf("message at byte %d: %q with a %d-byte body, the stream has %q with length %d", off, typ, len(body), data[off], n)
			}
			off += 5 + len(body)
			if typ == 'D' {
				checkDataRow(t, body, m.maxBody)
				continue
			}
			msg, err := m.decode(typ, body)
			var pe *ProtocolError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("decode %q: %v (%T), want a *ProtocolError", typ, err, err)
			}
			if er, ok := msg.(*pgproto3.ErrorResponse); ok {
				checkErrorResponse(t, er)
			}
		}
	})
}

func checkReadError(t *testing.T, err error, maxBody int64) {
	t.Helper()
	var pe *ProtocolError
	var tl *RowTooLargeError
	switch {
	case errors.As(err, &pe), errors.Is(err, io.ErrUnexpectedEOF):
	case errors.As(err, &tl):
		if maxBody <= 0 || tl.Size <= maxBody || tl.Limit != maxBody {
			t.Fatalf("%v with maxBody %d", err, maxBody)
		}
	default:
		t.Fatalf("read error %v (%T), want a typed one", err, err)
	}
}

func checkDataRow(t *testing.T, body []byte, maxBody int64) {
	t.Helper()
	if maxBody > 0 && int64(len(body))-6 > maxBody {
		t.Fatalf("a row of %d bytes passed maxBody %d", len(body)-6, maxBody)
	}
	checkRowValue(t, body)
	checkRowValues(t, body)
}

// checkErrorResponse checks that the server's error, as fraise keeps it,
// encodes and decodes back to itself, and prints.
func checkErrorResponse(t *testing.T, er *pgproto3.ErrorResponse) {
	t.Helper()
	pe := pgErrorFrom(er)
	_ = pe.Error()
	_ = pe.fatal()
	b, err := er.Encode(nil)
	if err != nil {
		return // pgproto3 refuses to encode what it decoded: not fraise's
	}
	var back pgproto3.ErrorResponse
	if err := back.Decode(b[5:]); err != nil {
		t.Fatalf("re-encoded ErrorResponse does not decode: %v", err)
	}
	if got := pgErrorFrom(&back); !reflect.DeepEqual(got, pe) {
		t.Fatalf("ErrorResponse round trip: %+v, want %+v", got, pe)
	}
}

// checkRowValue checks dataRowValue on a body: a value is the body's
// tail, as long as its length says, and re-encodes to the body.
func checkRowValue(t *testing.T, body []byte) {
	t.Helper()
	v, err := dataRowValue(body)
	if err != nil {
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("dataRowValue: %v (%T), want a *ProtocolError", err, err)
		}
		return
	}
	if v != nil && (len(v) != len(body)-6 || (len(v) > 0 && &v[0] != &body[6])) {
		t.Fatalf("value of %d bytes is not the tail of the %d-byte body", len(v), len(body))
	}
	b, err := (&pgproto3.DataRow{Values: [][]byte{v}}).Encode(nil)
	if err != nil || !bytes.Equal(b[5:], body) {
		t.Fatalf("value %q re-encodes to %q, body %q", v, b, body)
	}
}

// checkRowValues checks dataRowValues (the catalog's rows): each value is
// a piece of the body capped at its own length, and the values re-encode
// to the body.
func checkRowValues(t *testing.T, body []byte) {
	t.Helper()
	vals, err := dataRowValues(body, nil)
	if err != nil {
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Fatalf("dataRowValues: %v (%T), want a *ProtocolError", err, err)
		}
		return
	}
	if len(vals) != int(binary.BigEndian.Uint16(body)) {
		t.Fatalf("%d values, the row says %d", len(vals), binary.BigEndian.Uint16(body))
	}
	for i, v := range vals {
		if cap(v) != len(v) {
			t.Fatalf("value %d: capacity %d beyond its %d bytes", i, cap(v), len(v))
		}
		if len(v) > 0 && !inside(v, body) {
			t.Fatalf("value %d is not a piece of the body", i)
		}
	}
	b, err := (&pgproto3.DataRow{Values: vals}).Encode(nil)
	if err != nil || !bytes.Equal(b[5:], body) {
		t.Fatalf("values re-encode to %q, body %q", b, body)
	}
}

// inside reports whether the non-empty v lies within body's bytes.
func inside(v, body []byte) bool {
	for i := range body {
		if &body[i] == &v[0] {
			return i+len(v) <= len(body)
		}
	}
	return false
}

// FuzzDataRowValue checks the stream's row splitting on any body.
func FuzzDataRowValue(f *testing.F) {
	for _, b := range [][]byte{{0, 1, 0, 0, 0, 2, '[', ']'}, {0, 1, 0xff, 0xff, 0xff, 0xff}, {0, 1, 0, 0, 0, 0}, {0, 2, 0, 0, 0, 0, 0, 0, 0, 0}, {0}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkRowValue(t, body)
	})
}

// FuzzDataRowValues checks the catalog's row splitting (fraise views,
// ping) on any body.
func FuzzDataRowValues(f *testing.F) {
	for _, s := range backendSeeds(f) {
		if len(s) > 5 && s[0] == 'D' {
			f.Add(s[5:])
		}
	}
	f.Add([]byte{0, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 't', 0, 0, 0, 0})
	f.Add([]byte{0, 2, 0, 0, 0, 9, 'x'})
	f.Fuzz(func(t *testing.T, body []byte) {
		checkRowValues(t, body)
	})
}

// FuzzErrorResponse decodes any body as an ErrorResponse the way the
// reader does: a *ProtocolError, or a PgError that round-trips.
func FuzzErrorResponse(f *testing.F) {
	for _, s := range backendSeeds(f) {
		if len(s) > 5 && (s[0] == 'E' || s[0] == 'N') {
			f.Add(s[5:])
		}
	}
	f.Add([]byte("SERROR\x00C42P01\x00Mrelation \"x\" does not exist\x00P15\x00\x00"))
	f.Add([]byte("Px\x00\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		m := newMsgReader(bytes.NewReader(nil))
		msg, err := m.decode('E', body)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("decode: %v (%T), want a *ProtocolError", err, err)
			}
			return
		}
		checkErrorResponse(t, msg.(*pgproto3.ErrorResponse))
	})
}
