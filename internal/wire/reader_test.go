package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

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

// socketPair returns a connected pair of Unix stream sockets as net.Conns:
// the kind of descriptor fillNow reads without waiting.
func socketPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns[0], conns[1]
}

// TestFillNow checks that fillNow never waits: it reports an empty socket,
// a partial message and a whole one, pauses at most briefly in a fast
// stream, and reports the peer hanging up.
func TestFillNow(t *testing.T) {
	client, server := socketPair(t)
	// Were fillNow to wait, the deadline would end the test with an error
	// instead of a hang.
	if err := client.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	m := newMsgReader(client)
	if m.raw == nil {
		t.Fatal("a socket pair gave no raw descriptor")
	}
	if ok, err := m.fillNow(); ok || err != nil {
		t.Fatalf("empty socket: fillNow = %v, %v; want false, nil", ok, err)
	}
	row := encode(t, &pgproto3.DataRow{Values: [][]byte{[]byte(`{"a":1}`)}})
	if _, err := server.Write(row[:7]); err != nil {
		t.Fatal(err)
	}
	if ok, err := m.fillNow(); ok || err != nil {
		t.Fatalf("partial message: fillNow = %v, %v; want false, nil", ok, err)
	}
	if _, err := server.Write(row[7:]); err != nil {
		t.Fatal(err)
	}
	// The rest may take a moment to be readable; the deadline bounds this.
	for {
		ok, err := m.fillNow()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		runtime.Gosched()
	}
	if typ, body, err := m.next(); err != nil || typ != 'D' {
		t.Fatalf("next = %q, %v", typ, err)
	} else if v, _ := dataRowValue(body); string(v) != `{"a":1}` {
		t.Fatalf("value = %q", v)
	}

	// A large batch marks a fast stream; on the empty socket that
	// follows, fillNow pauses once and then gives up.
	big := encode(t, &pgproto3.DataRow{Values: [][]byte{bytes.Repeat([]byte("1"), 2*flowingRead)}})
	go func() { _, _ = server.Write(big) }()
	for got := 0; got < len(big); {
		before := m.wp
		if _, err := m.fillNow(); err != nil {
			t.Fatal(err)
		}
		got += m.wp - before
	}
	if _, _, err := m.next(); err != nil {
		t.Fatal(err)
	}
	if ok, err := m.fillNow(); ok || err != nil {
		t.Fatalf("empty socket after a fast batch: fillNow = %v, %v; want false, nil", ok, err)
	}

	server.Close()
	var err error
	for err == nil {
		_, err = m.fillNow()
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("after the peer closed: %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestFillNowAllocs: reading without waiting allocates nothing, so a long
// stream's memory does not grow with its length.
func TestFillNowAllocs(t *testing.T) {
	client, server := socketPair(t)
	m := newMsgReader(client)
	row := encode(t, &pgproto3.DataRow{Values: [][]byte{[]byte(`[1,2,3]`)}})
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := server.Write(row); err != nil {
			t.Fatal(err)
		}
		for !m.complete() {
			if _, err := m.fillNow(); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := m.next(); err != nil {
			t.Fatal(err)
		}
		if _, err := m.fillNow(); err != nil { // the empty socket
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("fillNow and next allocate %.1f times per row, want 0", allocs)
	}
}
