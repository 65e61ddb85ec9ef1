// The TCP connection beneath a TLS session, as TLS reads it: in large
// reads, and, while the message reader asks, without waiting, so that a
// stream over TLS is read in batches and its output flushed only before a
// real wait, as over a plain socket (see msgReader.fillNow).

package wire

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
)

// tlsFeedSize is the most one read from the socket beneath TLS takes: many
// records (16 KiB of plaintext each at most) in one system call.
const tlsFeedSize = 256 << 10

// errWouldBlock is what a tlsFeed in no-wait mode returns when the socket
// is empty. crypto/tls keeps a session whose read failed with a temporary
// net.Error usable (as after a read deadline), and the bytes of a record
// read so far stay in its buffer for the next read.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "read would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// tlsFeed is the net.Conn a tls.Client reads from. It reads the socket
// tlsFeedSize at a time into a buffer of its own, and, while nowait is
// set, returns errWouldBlock rather than wait for bytes to arrive.
type tlsFeed struct {
	net.Conn
	raw    syscall.RawConn // nil: this system has no reads without waiting
	buf    []byte
	r, w   int
	nowait bool

	// tryRead's state, as msgReader's: one closure made once.
	readFn func(fd uintptr) bool
	readN  int
	rerr   error
}

func newTLSFeed(nc net.Conn) *tlsFeed {
	f := &tlsFeed{Conn: nc, raw: nowaitConn(nc)}
	if f.raw != nil {
		f.readFn = func(fd uintptr) bool {
			f.readN, f.rerr = readNow(fd, f.buf)
			return true
		}
	}
	return f
}

// Read gives TLS the bytes buffered, reading the socket when there are
// none.
func (f *tlsFeed) Read(p []byte) (int, error) {
	if f.r == f.w {
		if err := f.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, f.buf[f.r:f.w])
	f.r += n
	return n, nil
}

// fill reads the socket once into the emptied buffer: without waiting in
// no-wait mode (errWouldBlock when nothing is there), else as the
// connection reads, deadlines included. Bytes read come before an error,
// which the next read meets again.
func (f *tlsFeed) fill() error {
	if f.buf == nil {
		f.buf = make([]byte, tlsFeedSize)
	}
	f.r, f.w = 0, 0
	if f.nowait && f.raw != nil {
		if err := f.raw.Read(f.readFn); err != nil {
			return err
		}
		n, err := max(f.readN, 0), f.rerr
		switch {
		case n > 0:
			f.w = n
			return nil
		case err == nil:
			return io.EOF
		case errors.Is(err, syscall.EAGAIN):
			return errWouldBlock
		}
		return &net.OpError{Op: "read", Net: "tcp", Err: err}
	}
	n, err := f.Conn.Read(f.buf)
	f.w = n
	if n > 0 {
		return nil
	}
	return err
}

// feedOf returns the tlsFeed beneath r, a TLS session started over one,
// when reads without waiting are possible there; else nil.
func feedOf(r io.Reader) *tlsFeed {
	tc, ok := r.(*tls.Conn)
	if !ok {
		return nil
	}
	f, ok := tc.NetConn().(*tlsFeed)
	if !ok || f.raw == nil {
		return nil
	}
	return f
}
