package wire

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/jackc/pgx/v5/pgproto3"
)

func encode(t *testing.T, msgs ...pgproto3.BackendMessage) []byte {
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

// TestMsgReaderFraming reads the same messages through readers that
// return one byte at a time, half the data, or all of it, with values
// smaller and larger than the buffer.
func TestMsgReaderFraming(t *testing.T) {
	big := bytes.Repeat([]byte("y"), 3*readBufSize+7)
	msgs := []pgproto3.BackendMessage{
		&pgproto3.ParameterStatus{Name: "server_version", Value: "15.18"},
		&pgproto3.DataRow{Values: [][]byte{[]byte(`{"a":1}`)}},
		&pgproto3.DataRow{Values: [][]byte{nil}},
		&pgproto3.DataRow{Values: [][]byte{{}}},
		&pgproto3.DataRow{Values: [][]byte{big}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 4")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'},
	}
	data := encode(t, msgs...)
	readers := map[string]func() io.Reader{
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"all":      func() io.Reader { return bytes.NewReader(data) },
		"data+eof": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
	}
	for name, r := range readers {
		t.Run(name, func(t *testing.T) {
			m := newMsgReader(r())
			var values [][]byte
			for range msgs {
				typ, body, err := m.next()
				if err != nil {
					t.Fatal(err)
				}
				if typ == 'D' {
					v, err := dataRowValue(body)
					if err != nil {
						t.Fatal(err)
					}
					values = append(values, bytes.Clone(v))
					if v == nil {
						values[len(values)-1] = nil
					}
					continue
				}
				msg, err := m.decode(typ, body)
				if err != nil {
					t.Fatal(err)
				}
				if cc, ok := msg.(*pgproto3.CommandComplete); ok && string(cc.CommandTag) != "SELECT 4" {
					t.Errorf("tag = %q", cc.CommandTag)
				}
			}
			if len(values) != 4 || string(values[0]) != `{"a":1}` || values[1] != nil ||
				values[2] == nil || len(values[2]) != 0 || !bytes.Equal(values[3], big) {
				t.Errorf("values wrong: %d values", len(values))
			}
			if _, _, err := m.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("after the last message: %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

// TestMsgReaderMalformed: broken frames and rows are protocol errors, and
// a stream cut inside a message is an unexpected EOF.
func TestMsgReaderMalformed(t *testing.T) {
	row := encode(t, &pgproto3.DataRow{Values: [][]byte{[]byte("[1]")}})
	tests := []struct {
		name     string
		data     []byte
		protocol bool // else io.ErrUnexpectedEOF
	}{
		{"length below 4", []byte{'D', 0, 0, 0, 3}, true},
		{"negative length", []byte{'D', 0xff, 0xff, 0xff, 0xf0}, true},
		{"length above 1 GiB", []byte{'D', 0x7f, 0xff, 0xff, 0xff}, true},
		{"cut header", []byte{'D', 0, 0}, false},
		{"cut body", row[:len(row)-1], false},
		{"unknown type", []byte{'!', 0, 0, 0, 4}, true},
		{"copy data", []byte{'d', 0, 0, 0, 4}, true},
		{"unknown auth", []byte{'R', 0, 0, 0, 8, 0, 0, 0, 99}, true},
		{"short auth", []byte{'R', 0, 0, 0, 6, 0, 0}, true},
		{"bad ready", []byte{'Z', 0, 0, 0, 4}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newMsgReader(bytes.NewReader(tt.data)).receive()
			var pe *ProtocolError
			if tt.protocol && !errors.As(err, &pe) {
				t.Errorf("err = %v (%T), want a *ProtocolError", err, err)
			}
			if !tt.protocol && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("err = %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

func TestDataRowValue(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want []byte
		null bool
		ok   bool
	}{
		{"value", []byte{0, 1, 0, 0, 0, 2, '[', ']'}, []byte("[]"), false, true},
		{"empty", []byte{0, 1, 0, 0, 0, 0}, []byte{}, false, true},
		{"null", []byte{0, 1, 0xff, 0xff, 0xff, 0xff}, nil, true, true},
		{"two columns", []byte{0, 2, 0, 0, 0, 0, 0, 0, 0, 0}, nil, false, false},
		{"no columns", []byte{0, 0}, nil, false, false},
		{"too short", []byte{0}, nil, false, false},
		{"length past end", []byte{0, 1, 0, 0, 0, 3, '[', ']'}, nil, false, false},
		{"trailing bytes", []byte{0, 1, 0, 0, 0, 1, '1', '2'}, nil, false, false},
		{"null with bytes", []byte{0, 1, 0xff, 0xff, 0xff, 0xff, 'x'}, nil, false, false},
		{"negative length", []byte{0, 1, 0xff, 0xff, 0xff, 0xfe}, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := dataRowValue(tt.body)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if !tt.ok {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Errorf("err is %T, want *ProtocolError", err)
				}
				return
			}
			if (v == nil) != tt.null || !bytes.Equal(v, tt.want) {
				t.Errorf("value = %q (nil %v), want %q (nil %v)", v, v == nil, tt.want, tt.null)
			}
		})
	}
}

// TestMsgReaderGrowth: a row the stream's --max-row-size allows is read
// into one buffer of its size, as it arrives, without buffers in between;
// any other claim — a header with no limit behind it, as before startup —
// gets memory only as its bytes arrive.
func TestMsgReaderGrowth(t *testing.T) {
	const n = 20 << 20
	row := encode(t, &pgproto3.DataRow{Values: [][]byte{bytes.Repeat([]byte("x"), n)}})
	for _, tc := range []struct {
		name    string
		maxBody int64
		data    []byte
		most    uint64 // bytes the reader may allocate
	}{
		{"a row within --max-row-size", 64 << 20, row, n + 2*readBufSize},
		{"a header claiming 1 GiB, with 100 bytes behind it", 0,
			append([]byte{'D', 0x40, 0, 0, 4}, make([]byte, 100)...), 2 * readBufSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMsgReader(iotest.HalfReader(bytes.NewReader(tc.data)))
			m.maxBody = tc.maxBody
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := m.next()
			runtime.ReadMemStats(&after)
			if tc.maxBody > 0 && err != nil {
				t.Fatalf("next: %v", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > tc.most {
				t.Errorf("the reader allocated %d bytes, want at most %d", got, tc.most)
			}
		})
	}
}
