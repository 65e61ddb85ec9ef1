//go:build !unix

package wire

import (
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestFillNowWithoutDescriptor: where sockets give no descriptor to read
// without waiting, fillNow never reads and reports only what is buffered.
func TestFillNowWithoutDescriptor(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	m := newMsgReader(client)
	if m.raw != nil {
		t.Fatal("got a descriptor for reads without waiting, want none on this system")
	}
	row := encode(t, &pgproto3.DataRow{Values: [][]byte{[]byte(`{"a":1}`)}})
	if _, err := server.Write(row); err != nil {
		t.Fatal(err)
	}
	if ok, err := m.fillNow(); ok || err != nil {
		t.Fatalf("nothing buffered: fillNow = %v, %v; want false, nil", ok, err)
	}
	if typ, _, err := m.next(); err != nil || typ != 'D' {
		t.Fatalf("next = %q, %v", typ, err)
	}
}
