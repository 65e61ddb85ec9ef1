//go:build unix

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
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

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
