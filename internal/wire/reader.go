// Reading backend messages: our own framing over one large buffer, so
// that a stream of rows costs few system calls and no copies, with
// pgproto3 decoding every message but DataRow.

package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

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
)

// msgReader frames backend messages. A message's body is a slice of the
// reader's buffer, valid until the next call.
type msgReader struct {
	r        io.Reader
	buf      []byte
	rp, wp   int    // read and write positions in buf
	authType uint32 // of the last Authentication message
}

func newMsgReader(r io.Reader) *msgReader {
	return &msgReader{r: r, buf: make([]byte, readBufSize)}
}

// buffered returns how many bytes have been read from the socket but not
// yet consumed: zero means the next message needs a read that may wait.
func (m *msgReader) buffered() int { return m.wp - m.rp }

// next returns the next message's type and body.
func (m *msgReader) next() (byte, []byte, error) {
	if m.wp-m.rp < 5 {
		if err := m.fill(5); err != nil {
			return 0, nil, err
		}
	}
	typ := m.buf[m.rp]
	n := int64(int32(binary.BigEndian.Uint32(m.buf[m.rp+1:])))
	if n < 4 || n-4 > maxMessageSize {
		return 0, nil, &ProtocolError{Msg: fmt.Sprintf("message %q with invalid length %d", typ, n)}
	}
	size := 1 + int(n)
	if m.wp-m.rp < size {
		if err := m.fill(size); err != nil {
			return 0, nil, err
		}
	}
	body := m.buf[m.rp+5 : m.rp+size : m.rp+size]
	m.rp += size
	return typ, body, nil
}

// fill reads until at least n unconsumed bytes are buffered, moving them
// to the front of the buffer, or to a larger one, when they do not fit.
func (m *msgReader) fill(n int) error {
	if len(m.buf)-m.rp < n {
		buf := m.buf
		if n > len(buf) {
			buf = make([]byte, max(n, 2*len(m.buf)))
		}
		m.wp = copy(buf, m.buf[m.rp:m.wp])
		m.rp = 0
		m.buf = buf
	}
	for m.wp-m.rp < n {
		k, err := m.r.Read(m.buf[m.wp:])
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

// dataRowValue returns the single value of a DataRow body (nil for NULL),
// without copying.
func dataRowValue(body []byte) ([]byte, error) {
	if len(body) < 2 {
		return nil, &ProtocolError{Msg: "malformed DataRow: too short"}
	}
	if n := binary.BigEndian.Uint16(body); n != 1 {
		return nil, &ProtocolError{Msg: fmt.Sprintf("data row with %d values, expected 1", n)}
	}
	if len(body) < 6 {
		return nil, &ProtocolError{Msg: "malformed DataRow: too short"}
	}
	n := int32(binary.BigEndian.Uint32(body[2:]))
	switch {
	case n == -1 && len(body) == 6:
		return nil, nil
	case n >= 0 && int(n) == len(body)-6:
		return body[6:], nil
	}
	return nil, &ProtocolError{Msg: fmt.Sprintf("malformed DataRow: value length %d in a %d-byte message", n, len(body))}
}
