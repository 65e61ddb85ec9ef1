package wire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// selfSigned is a throwaway server certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestFillNowReadsEveryRecordThatArrived: over TLS, fillNow takes every
// record that has arrived, many at a time, without waiting — as it takes
// everything a plain socket holds — so that output is flushed only before
// a real wait, not after each 16 KiB record.
func TestFillNowReadsEveryRecordThatArrived(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// 200 rows of 1 KiB: about 13 TLS records.
	var payload []byte
	for range 200 {
		payload, _ = (&pgproto3.DataRow{Values: [][]byte{make([]byte, 1024)}}).Encode(payload)
	}
	written := make(chan error, 1)
	release := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			written <- err
			return
		}
		defer c.Close()
		sc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
		_, err = sc.Write(payload)
		written <- err
		<-release
	}()
	defer close(release)
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Room for all of it in the socket, so that it has all arrived once
	// the server's write returns.
	_ = nc.(*net.TCPConn).SetReadBuffer(4 << 20)
	tc := tls.Client(newTLSFeed(nc), &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	m := newMsgReader(tc)
	if m.feed == nil {
		t.Fatal("no feed beneath the TLS session")
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	reads := 0
	deadline := time.Now().Add(10 * time.Second)
	for m.wp < len(payload) && time.Now().Before(deadline) {
		before := m.wp
		if _, err := m.fillNow(); err != nil {
			t.Fatal(err)
		}
		if m.wp > before {
			reads++
		}
	}
	if m.wp != len(payload) {
		t.Fatalf("fillNow buffered %d of the %d bytes that arrived", m.wp, len(payload))
	}
	if records := len(payload)/(16<<10) + 1; reads > records/2 {
		t.Errorf("fillNow took %d calls for %d records: want them read in batches", reads, records)
	}
	for i := range 200 {
		typ, body, err := m.next()
		if err != nil || typ != 'D' || len(body) != 2+4+1024 {
			t.Fatalf("message %d: %q, %d bytes, %v", i, typ, len(body), err)
		}
	}
}
