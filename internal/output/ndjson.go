package output

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"syscall"
)

// DefaultBufferSize is the size of the write buffer: large enough that a
// fast stream costs few write calls, small enough to stay in cache.
const DefaultBufferSize = 64 << 10

// DefaultChunkRows is the default number of rows after which buffered lines
// are written out even when the buffer is not full.
const DefaultChunkRows = 1000

// nullText is written for an absent value (SQL NULL).
var nullText = []byte("null")

// WriteError reports that the destination refused a write. Nothing after
// the last complete line is promised to have reached it.
type WriteError struct {
	// Err is the error from the destination.
	Err error
	// Msg, when set, is the whole message: what failed on which file,
	// and what to do.
	Msg string
}

func (e *WriteError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return "cannot write output: " + e.Err.Error()
}

// Unwrap returns the destination's error.
func (e *WriteError) Unwrap() error { return e.Err }

// asWriteError returns err as a *WriteError, wrapping it unless it is one.
func asWriteError(err error) *WriteError {
	var we *WriteError
	if errors.As(err, &we) {
		return we
	}
	return &WriteError{Err: err}
}

// IsBrokenPipe reports whether err means the reader of the output went away
// (EPIPE), which a pipeline such as "| head" causes on purpose.
func IsBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE)
}

// ErrReaderGone is the cause a run stops with when WatchReader sees the
// reader of the output leave. Like a write that meets EPIPE, it is a
// normal end for a pipeline ("| head").
var ErrReaderGone = &WriteError{Err: fmt.Errorf("the reader of the output went away: %w", syscall.EPIPE)}

// Options tune an NDJSON writer.
type Options struct {
	// BufferSize is the write buffer size in bytes; 0 means DefaultBufferSize.
	BufferSize int
	// ChunkRows is how many rows may wait in the buffer before they are
	// written out; 0 means DefaultChunkRows.
	ChunkRows int
	// OneLine replaces raw CR, LF and TAB with spaces. JSON allows those
	// bytes only as insignificant whitespace between tokens (never inside
	// strings), so the value stays the same while fitting on one line. Set
	// it for sources that keep their input text (PostgreSQL json).
	OneLine bool
	// Array writes one JSON array instead of lines: "[", the values
	// separated by ",\n", and "]" once Finish is called. Until then the
	// text is not a complete array.
	Array bool
	// Continues says that the array was begun, with values, before this
	// writer (a resumed run's): its first value is preceded by a comma.
	Continues bool
}

// NDJSON writes one JSON value per line. It is not safe for concurrent use.
type NDJSON struct {
	w       io.Writer
	out     *asyncOut // nil: writes happen in the caller's goroutine
	buf     []byte
	pending int // rows in buf
	chunk   int
	oneLine bool
	array   bool
	// continues: an array begun before this writer (Options.Continues).
	continues bool
	err       error

	rows   int64
	bytes  int64
	closed bool
}

// NewNDJSON returns a writer of lines to w.
func NewNDJSON(w io.Writer, opts Options) *NDJSON {
	size := opts.BufferSize
	if size <= 0 {
		size = DefaultBufferSize
	}
	chunk := opts.ChunkRows
	if chunk <= 0 {
		chunk = DefaultChunkRows
	}
	return &NDJSON{w: w, buf: make([]byte, 0, size), chunk: chunk, oneLine: opts.OneLine, array: opts.Array, continues: opts.Continues}
}

// NewAsyncNDJSON returns a writer of lines to w whose writes to w happen
// on a goroutine of its own, so that the caller goes on while the
// destination takes its time, with one buffer filling while another is
// written. When ctx is done, calls stop waiting for the destination and
// return ctx's cause, and nothing more is written. Close must be called to
// wait for the writes and learn their outcome.
func NewAsyncNDJSON(ctx context.Context, w io.Writer, opts Options) *NDJSON {
	n := NewNDJSON(w, opts)
	n.out = startAsync(ctx, w, cap(n.buf))
	return n
}

// Close waits until every line flushed has been written, or until ctx is
// done, and returns the first error writing them. It does not flush. For a
// writer made with NewNDJSON it only returns the last error.
func (n *NDJSON) Close(ctx context.Context) error {
	if n.out == nil {
		return n.err
	}
	if n.closed {
		return n.out.failed()
	}
	n.closed = true
	return n.out.close(ctx)
}

// Drained reports whether nothing is being written any more: always for a
// synchronous writer; for an asynchronous one, once Close has seen its
// writes end.
func (n *NDJSON) Drained() bool {
	if n.out == nil {
		return true
	}
	select {
	case <-n.out.done:
		return true
	default:
		return false
	}
}

// SetOneLine changes the OneLine option; the stream's source is known only
// once the server has described it.
func (n *NDJSON) SetOneLine(on bool) { n.oneLine = on }

// WriteValue writes value and a newline. A nil value is written as null.
// The caller may reuse value when WriteValue returns, except after an
// error wrapping ErrRetained: an asynchronous writer stopped while
// writing it, and value's memory stays in use. After an error every call
// returns the same error.
func (n *NDJSON) WriteValue(value []byte) error {
	if n.err != nil {
		return n.err
	}
	if value == nil {
		value = nullText
	}
	need := len(value) + 2
	if len(n.buf)+need > cap(n.buf) {
		if err := n.Flush(); err != nil {
			return err
		}
		if need > cap(n.buf) {
			return n.writeLarge(value)
		}
	}
	if n.array {
		n.buf = append(n.buf, n.separator()...)
	}
	start := len(n.buf)
	n.buf = append(n.buf, value...)
	if n.oneLine {
		flatten(n.buf[start:])
	}
	if !n.array {
		n.buf = append(n.buf, '\n')
	}
	n.rows++
	n.pending++
	if n.pending >= n.chunk {
		return n.Flush()
	}
	return nil
}

// WriteLines writes p, which holds lines complete lines (each ending in a
// newline), as it is. It counts towards the chunk like lines written one by
// one. p may be reused as WriteValue's value may.
func (n *NDJSON) WriteLines(p []byte, lines int) error {
	if n.err != nil {
		return n.err
	}
	if n.array {
		return n.writeArrayLines(p)
	}
	if len(n.buf)+len(p) > cap(n.buf) {
		if err := n.Flush(); err != nil {
			return err
		}
		if len(p) > cap(n.buf) {
			if err := n.write(p); err != nil {
				return err
			}
			n.rows += int64(lines)
			return nil
		}
	}
	n.buf = append(n.buf, p...)
	n.rows += int64(lines)
	n.pending += lines
	if n.pending >= n.chunk {
		return n.Flush()
	}
	return nil
}

// separator is what goes before the next value of an array.
func (n *NDJSON) separator() string {
	if n.rows == 0 && !n.continues {
		return "[\n"
	}
	return ",\n"
}

// writeArrayLines writes lines, each one JSON value ending in a newline,
// as elements of the array.
func (n *NDJSON) writeArrayLines(p []byte) error {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			i = len(p)
		}
		if err := n.WriteValue(p[:i]); err != nil {
			return err
		}
		p = p[min(i+1, len(p)):]
	}
	return nil
}

// ArrayEnd is what ends a JSON array, after values or none.
func ArrayEnd(values bool) string {
	if values {
		return "\n]\n"
	}
	return "[]\n"
}

// Finish ends the output: for an array, its closing bracket ("[]" when
// there were no values). It does not flush. Call it only when the output
// is complete; after a failure an array is left open, and so not valid.
func (n *NDJSON) Finish() error {
	if n.err != nil || !n.array {
		return n.err
	}
	end := ArrayEnd(n.rows > 0 || n.continues)

	if len(n.buf)+len(end) > cap(n.buf) {
		if err := n.Flush(); err != nil {
			return err
		}
	}
	n.buf = append(n.buf, end...)
	return nil
}

// writeLarge writes a value larger than the buffer straight to the
// destination. The buffer is empty when it is called.
func (n *NDJSON) writeLarge(value []byte) error {
	if n.oneLine && needsFlatten(value) {
		// Rare: a huge json value spread over lines. Copy it once.
		value = append([]byte(nil), value...)
		flatten(value)
	}
	if n.array {
		n.buf = append(n.buf, n.separator()...)
		if err := n.Flush(); err != nil {
			return err
		}
		if n.out != nil {
			if err := n.out.writeBorrowed(value, false); err != nil {
				n.err = err
				return err
			}
		} else if err := n.write(value); err != nil {
			return err
		}
		n.rows++
		return nil
	}
	if n.out != nil {
		// The line's end goes with it: a line is never left open.
		if err := n.out.writeBorrowed(value, true); err != nil {
			n.err = err
			return err
		}
		n.rows++
		return nil
	}
	if err := n.write(value); err != nil {
		return err
	}
	n.buf = append(n.buf, '\n')
	n.rows++
	n.pending++
	return n.Flush()
}

// Flush writes the buffered lines to the destination; an asynchronous
// writer hands them over to be written next.
func (n *NDJSON) Flush() error {
	if n.err != nil {
		return n.err
	}
	if len(n.buf) == 0 {
		return nil
	}
	n.pending = 0
	if n.out != nil {
		buf, err := n.out.swap(n.buf)
		n.buf = buf
		if err != nil {
			n.err = err
		}
		return err
	}
	err := n.write(n.buf)
	n.buf = n.buf[:0]
	return err
}

// Sync writes the buffered lines and waits until every line handed over
// has reached the destination writer: after it, nothing of this writer's
// is on its way, and a resumable run can seal its segment (Segments).
func (n *NDJSON) Sync() error {
	if err := n.Flush(); err != nil {
		return err
	}
	if n.out == nil {
		return nil
	}
	// Written in order on the writer's goroutine: an empty write is done
	// when every one before it is.
	return n.write(nil)
}

// Then writes the buffered lines and has fn run once every line handed
// over before it has reached the destination writer, on the writer's
// goroutine, without waiting for it (a resumable run seals its segment
// there, while the caller goes on); fn's error is the writer's. A writer
// made with NewNDJSON runs fn at once.
func (n *NDJSON) Then(fn func() error) error {
	if err := n.Flush(); err != nil {
		return err
	}
	if n.out == nil {
		if err := fn(); err != nil {
			n.err = asWriteError(err)
			return n.err
		}
		return nil
	}
	if err := n.out.then(fn); err != nil {
		n.err = err
		return err
	}
	return nil
}

// write writes p, a value or lines too large for the buffer, and waits
// for it. The buffer is empty, or handed over, when it is called.
func (n *NDJSON) write(p []byte) error {
	if n.out != nil {
		if err := n.out.writeBorrowed(p, false); err != nil {
			n.err = err
			return err
		}
		return nil
	}
	m, err := n.w.Write(p)
	n.bytes += int64(m)
	if err == nil && m < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		n.err = asWriteError(err)
		return n.err
	}
	return nil
}

// Rows returns the number of lines accepted so far.
func (n *NDJSON) Rows() int64 { return n.rows }

// Bytes returns the number of bytes the destination has accepted.
func (n *NDJSON) Bytes() int64 {
	if n.out != nil {
		return n.out.bytes.Load()
	}
	return n.bytes
}

// TAB, LF and CR are rare in JSON text: only whitespace between tokens
// may be one of them, and most values have none. flatten first looks for
// each with bytes.IndexByte, which runs in vector instructions (2.5 times
// the speed of testing eight bytes at a time on a 1.6 KB value, see
// BenchmarkFlatten); from the first one found, which may well be followed
// by many more (a pretty-printed value), it tests words.

// needsFlatten reports whether p holds a TAB, LF or CR.
func needsFlatten(p []byte) bool { return firstControl(p) >= 0 }

// firstControl is the index of the first TAB, LF or CR in p, or -1.
func firstControl(p []byte) int {
	i := bytes.IndexByte(p, '\n')
	for _, c := range []byte{'\r', '\t'} {
		end := len(p)
		if i >= 0 {
			end = i // only an earlier one matters
		}
		if j := bytes.IndexByte(p[:end], c); j >= 0 {
			i = j
		}
	}
	return i
}

// flatten replaces TAB, LF and CR in p with spaces.
func flatten(p []byte) {
	if i := firstControl(p); i >= 0 {
		flattenWords(p[i:])
	}
}

// ones has 0x01 in every byte.
const ones = 0x0101010101010101

// hasControl reports whether any byte of x is below 0x20 (the classic
// "hasless" bit trick: exact for the word as a whole).
func hasControl(x uint64) bool {
	return (x-0x20*ones)&^x&(0x80*ones) != 0
}

// flattenWords is flatten testing 32, then eight, bytes at a time for a
// byte below 0x20, and looking closer only when the test fires.
func flattenWords(p []byte) {
	i := 0
	for ; i+32 <= len(p); i += 32 {
		a := binary.LittleEndian.Uint64(p[i:])
		b := binary.LittleEndian.Uint64(p[i+8:])
		c := binary.LittleEndian.Uint64(p[i+16:])
		d := binary.LittleEndian.Uint64(p[i+24:])
		const k, h = 0x20 * ones, 0x80 * ones
		if ((a-k)&^a|(b-k)&^b|(c-k)&^c|(d-k)&^d)&h != 0 {
			flattenSlow(p[i : i+32])
		}
	}
	for ; i+8 <= len(p); i += 8 {
		if hasControl(binary.LittleEndian.Uint64(p[i:])) {
			flattenSlow(p[i : i+8])
		}
	}
	flattenSlow(p[i:])
}

func flattenSlow(p []byte) {
	for i, c := range p {
		if c == '\n' || c == '\r' || c == '\t' {
			p[i] = ' '
		}
	}
}
