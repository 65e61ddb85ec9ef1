// Reading backend messages: our own framing over one large buffer, so
// that a stream of rows costs few system calls and no copies, with
// pgproto3 decoding every message but DataRow.

package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

const (
	// readBufSize is the reader's buffer, and so the most one read from
	// the socket can return. pgproto3 reads 8 KiB at a time; a stream
	// that outpaces its client fills the socket far beyond that.
	readBufSize = 256 << 10
	// maxMessageSize bounds one message's body: a field value can be at
	// most 1 GB, and a row of one value is a few bytes more.
	maxMessageSize = 1<<30 + 64
	// minReadRoom is the least free space fillNow reads into before it
	// moves the buffered bytes to the front.
	minReadRoom = 64 << 10
	// flowingRead is the size of a read without waiting that marks a fast
	// stream, where an empty socket is worth a pause.
	flowingRead = 32 << 10
	// growFactor bounds the buffer, while a large message arrives, to
	// this many times the bytes of it buffered (and at least
	// readBufSize): a header alone claims up to maxMessageSize, and must
	// not make the reader allocate that before the bytes come.
	growFactor = 16
)

// flowPause is how long fillNow waits for a fast stream to refill an empty
// socket before the reader goes to sleep on it. Measured on v_small_json
// and v_medium_json (bench/): 50 and 100 µs do equally well, 200 µs and
// more let the server's socket buffer fill up and stall it.
const flowPause = 100 * time.Microsecond

// msgReader frames backend messages. A message's body is a slice of the
// reader's buffer, valid until the next call.
type msgReader struct {
	r        io.Reader
	raw      syscall.RawConn // r's descriptor, for reads that must not wait; nil if none
	feed     *tlsFeed        // beneath r, a TLS session, for reads that must not wait; nil if none
	buf      []byte
	rp, wp   int    // read and write positions in buf
	authType uint32 // of the last Authentication message
	flowing  bool   // the last read without waiting brought a large batch

	// tryRead's state: the read function is made once, as a closure
	// made per call would be an allocation per read.
	readFn  func(fd uintptr) bool
	readBuf []byte
	readN   int
	readErr error

	// maxBody, when above zero, refuses a DataRow whose value is longer
	// with a *RowTooLargeError, before its body is read.
	maxBody int64
	// idle, when above zero, bounds every read that waits for data; the
	// read fails with os.ErrDeadlineExceeded. setDeadline sets r's.
	idle        time.Duration
	setDeadline func(time.Time) error
}

func newMsgReader(r io.Reader) *msgReader {
	m := &msgReader{r: r, buf: make([]byte, readBufSize), feed: feedOf(r)}
	if raw := nowaitConn(r); raw != nil {
		m.raw = raw
		m.readFn = func(fd uintptr) bool {
			m.readN, m.readErr = readNow(fd, m.readBuf)
			return true
		}
	}
	return m
}

// complete reports whether a whole message is buffered, so that next will
// not read.
func (m *msgReader) complete() bool {
	if m.wp-m.rp < 5 {
		return false
	}
	n := int64(int32(binary.BigEndian.Uint32(m.buf[m.rp+1:])))
	return n < 4 || int64(m.wp-m.rp) >= 1+n // an invalid length is next's to report
}

// fillNow reads what the socket holds without waiting for more. When the
// socket is empty in the middle of a fast stream it first pauses briefly:
// a client that sleeps on an empty socket makes the server wake it for
// every packet it sends, and on a busy machine those wake-ups cost more
// than the pause. It returns whether a whole message is now buffered.
func (m *msgReader) fillNow() (bool, error) {
	if m.raw == nil && m.feed == nil {
		return m.complete(), nil
	}
	if len(m.buf)-m.wp < minReadRoom {
		m.compact(0, false)
		if len(m.buf)-m.wp < minReadRoom {
			return false, nil // a large message: next grows the buffer
		}
	}
	for pass := 0; ; pass++ {
		n, err := m.readNow(m.buf[m.wp:])
		if n > 0 {
			m.wp += n
			m.flowing = n >= flowingRead
			return m.complete(), nil
		}
		if errors.Is(err, io.EOF) {
			return false, io.ErrUnexpectedEOF
		}
		if err != nil && !errors.Is(err, syscall.EAGAIN) {
			return false, err
		}
		if pass > 0 || !m.flowing {
			m.flowing = false
			return false, nil
		}
		pause(flowPause)
	}
}

// fillWithin waits at most d for a whole message, reading what arrives
// meanwhile. It returns false, and no error, when the time runs out first,
// when the connection has no deadlines, or over TLS, where the wait cost
// more CPU than the flushes it saved (bench/results/2026-12-07T043848Z.md:
// v_small over TLS 0.86 s of CPU against 0.70 s without it).
func (m *msgReader) fillWithin(d time.Duration) (bool, error) {
	if m.setDeadline == nil || m.feed != nil || (m.idle > 0 && m.idle < d) {
		return m.complete(), nil
	}
	if len(m.buf)-m.wp < minReadRoom {
		m.compact(0, false)
		if len(m.buf)-m.wp < minReadRoom {
			return false, nil // a large message: next grows the buffer
		}
	}
	_ = m.setDeadline(time.Now().Add(d))
	defer func() { _ = m.setDeadline(time.Time{}) }()
	for !m.complete() && len(m.buf)-m.wp > 0 {
		n, err := m.r.Read(m.buf[m.wp:])
		m.wp += n
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return m.complete(), nil
		case errors.Is(err, io.EOF):
			return false, io.ErrUnexpectedEOF
		case err != nil:
			return false, err
		}
	}
	return m.complete(), nil
}

// readNow reads what has arrived without waiting: io.EOF at end of
// stream, EAGAIN when nothing is there.
func (m *msgReader) readNow(p []byte) (int, error) {
	if m.feed != nil {
		return m.readTLSNow(p)
	}
	return m.tryRead(p)
}

// readTLSNow decrypts every record that has arrived, as far as p holds
// them: crypto/tls returns one record a read, and its feed reads the
// socket without waiting while this runs.
func (m *msgReader) readTLSNow(p []byte) (int, error) {
	m.feed.nowait = true
	n := 0
	var err error
	for n < len(p) && err == nil {
		var k int
		k, err = m.r.Read(p[n:])
		n += k
	}
	m.feed.nowait = false
	switch {
	case errors.Is(err, errWouldBlock) && n > 0:
		return n, nil
	case errors.Is(err, errWouldBlock):
		return 0, syscall.EAGAIN
	}
	return n, err
}

// tryRead is one read(2) that does not wait: io.EOF at end of stream,
// EAGAIN when nothing is there.
func (m *msgReader) tryRead(p []byte) (int, error) {
	m.readBuf = p
	rerr := m.raw.Read(m.readFn)
	m.readBuf = nil
	if rerr != nil {
		return 0, rerr
	}
	n, err := m.readN, m.readErr
	if n < 0 {
		n = 0
	}
	switch {
	case n == 0 && err == nil:
		err = io.EOF
	case err != nil && !errors.Is(err, syscall.EAGAIN):
		err = os.NewSyscallError("read", err) // as a blocking read reports it
	}
	return n, err
}

// next returns the next message's type and body.
func (m *msgReader) next() (byte, []byte, error) {
	if m.wp-m.rp < 5 {
		if err := m.fill(5, false); err != nil {
			return 0, nil, err
		}
	}
	typ := m.buf[m.rp]
	n := int64(int32(binary.BigEndian.Uint32(m.buf[m.rp+1:])))
	if n < 4 || n-4 > maxMessageSize {
		return 0, nil, &ProtocolError{Msg: fmt.Sprintf("message %q with invalid length %d", typ, n)}
	}
	// A row's value follows a count and a length: 6 bytes.
	if typ == 'D' && m.maxBody > 0 && n-4-6 > m.maxBody {
		return typ, nil, &RowTooLargeError{Size: n - 4 - 6, Limit: m.maxBody}
	}
	size := 1 + int(n)
	if m.wp-m.rp < size {
		// A row's claim is trusted up to the stream's --max-row-size,
		// the memory the user allows one row; any other claim is met as
		// its bytes arrive.
		if err := m.fill(size, typ == 'D' && m.maxBody > 0); err != nil {
			return 0, nil, err
		}
	}
	body := m.buf[m.rp+5 : m.rp+size : m.rp+size]
	m.rp += size
	return typ, body, nil
}

// fill reads until at least n unconsumed bytes are buffered, moving them
// to the front of the buffer, or to a larger one, when they do not fit
// (sized for all n bytes at once when trusted, see compact).
func (m *msgReader) fill(n int, trusted bool) error {
	for m.wp-m.rp < n {
		if len(m.buf)-m.rp < n && (m.rp > 0 || len(m.buf)-m.wp < minReadRoom) {
			m.compact(n, trusted)
		}
		k, err := m.read(m.buf[m.wp:])
		m.wp += k
		if err != nil {
			if m.wp-m.rp >= n {
				break
			}
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// read is one read that may wait, for at most the idle time when one is
// set. The deadline is cleared afterwards, so that it never fires on a
// later read without waiting.
func (m *msgReader) read(p []byte) (int, error) {
	if m.idle <= 0 || m.setDeadline == nil {
		return m.r.Read(p)
	}
	_ = m.setDeadline(time.Now().Add(m.idle))
	n, err := m.r.Read(p)
	_ = m.setDeadline(time.Time{})
	return n, err
}

// compact moves the unconsumed bytes to the front of the buffer, or to a
// larger buffer when fewer than n bytes would fit. The larger buffer holds
// the message and the next read, but no more (the largest row decides the
// memory used, and twice a huge row is too much). Unless the claim of n
// bytes is trusted, it is also no more than growFactor times the bytes
// buffered, and fill grows it again as the message arrives: a header
// alone must not make the reader allocate a gigabyte.
func (m *msgReader) compact(n int, trusted bool) {
	buf := m.buf
	if n > len(buf) {
		size := n + minReadRoom
		if !trusted {
			size = min(size, max(readBufSize, growFactor*(m.wp-m.rp)))
		}
		if size > len(buf) {
			buf = make([]byte, size)
		}
	}
	m.wp = copy(buf, m.buf[m.rp:m.wp])
	m.rp = 0
	m.buf = buf
}

// detach gives the reader a buffer of its own, leaving the old one, and
// every message body returned from it, to whoever still holds them.
func (m *msgReader) detach() {
	buf := make([]byte, len(m.buf))
	m.wp = copy(buf, m.buf[m.rp:m.wp])
	m.rp = 0
	m.buf = buf
}

// release hands the buffer, and every message body returned from it, to
// whoever holds them, and goes on in a buffer of the usual size: after a
// huge message, one that is not copied.
func (m *msgReader) release() {
	buf := make([]byte, max(readBufSize, m.wp-m.rp+minReadRoom))
	m.wp = copy(buf, m.buf[m.rp:m.wp])
	m.rp = 0
	m.buf = buf
}

// receive returns the next message, decoded. The message and the slices
// it holds are valid until the next call.
func (m *msgReader) receive() (pgproto3.BackendMessage, error) {
	typ, body, err := m.next()
	if err != nil {
		return nil, err
	}
	return m.decode(typ, body)
}

// decode decodes a message that next returned.
func (m *msgReader) decode(typ byte, body []byte) (pgproto3.BackendMessage, error) {
	msg, err := m.message(typ, body)
	if err != nil {
		return nil, err
	}
	if err := msg.Decode(body); err != nil {
		return nil, &ProtocolError{Msg: fmt.Sprintf("malformed %T: %v", msg, err)}
	}
	return msg, nil
}

// message returns an empty message of the type the header names.
func (m *msgReader) message(typ byte, body []byte) (pgproto3.BackendMessage, error) {
	switch typ {
	case '1':
		return &pgproto3.ParseComplete{}, nil
	case '2':
		return &pgproto3.BindComplete{}, nil
	case '3':
		return &pgproto3.CloseComplete{}, nil
	case 'A':
		return &pgproto3.NotificationResponse{}, nil
	case 'C':
		return &pgproto3.CommandComplete{}, nil
	case 'D':
		return &pgproto3.DataRow{}, nil
	case 'E':
		return &pgproto3.ErrorResponse{}, nil
	case 'I':
		return &pgproto3.EmptyQueryResponse{}, nil
	case 'K':
		return &pgproto3.BackendKeyData{}, nil
	case 'n':
		return &pgproto3.NoData{}, nil
	case 'N':
		return &pgproto3.NoticeResponse{}, nil
	case 'R':
		return m.authMessage(body)
	case 's':
		return &pgproto3.PortalSuspended{}, nil
	case 'S':
		return &pgproto3.ParameterStatus{}, nil
	case 't':
		return &pgproto3.ParameterDescription{}, nil
	case 'T':
		return &pgproto3.RowDescription{}, nil
	case 'Z':
		return &pgproto3.ReadyForQuery{}, nil
	case 'v':
		return &pgproto3.NegotiateProtocolVersion{}, nil
	case 'G', 'H', 'W', 'c', 'd', 'V':
		return nil, &ProtocolError{Msg: fmt.Sprintf("unexpected message %q (COPY or function call), which fraise never asks for", typ)}
	}
	return nil, &ProtocolError{Msg: fmt.Sprintf("unknown message type %q", typ)}
}

// authMessage picks the Authentication message the body's code names.
func (m *msgReader) authMessage(body []byte) (pgproto3.BackendMessage, error) {
	if len(body) < 4 {
		return nil, &ProtocolError{Msg: "authentication message too short"}
	}
	m.authType = binary.BigEndian.Uint32(body)
	switch m.authType {
	case pgproto3.AuthTypeOk:
		return &pgproto3.AuthenticationOk{}, nil
	case pgproto3.AuthTypeCleartextPassword:
		return &pgproto3.AuthenticationCleartextPassword{}, nil
	case pgproto3.AuthTypeMD5Password:
		return &pgproto3.AuthenticationMD5Password{}, nil
	case pgproto3.AuthTypeGSS:
		return &pgproto3.AuthenticationGSS{}, nil
	case pgproto3.AuthTypeGSSCont:
		return &pgproto3.AuthenticationGSSContinue{}, nil
	case pgproto3.AuthTypeSASL:
		return &pgproto3.AuthenticationSASL{}, nil
	case pgproto3.AuthTypeSASLContinue:
		return &pgproto3.AuthenticationSASLContinue{}, nil
	case pgproto3.AuthTypeSASLFinal:
		return &pgproto3.AuthenticationSASLFinal{}, nil
	}
	return nil, &ProtocolError{Msg: fmt.Sprintf("unknown authentication request %d", m.authType)}
}
