// Compression of the output: gzip (RFC 1952), compressed in parallel
// blocks by klauspost/pgzip, and zstd (RFC 8878) by klauspost/compress.
// Both compress on goroutines of their own, off the network path.

package output

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// Compression is a compression format for the output.
type Compression int

// The compression formats.
const (
	None Compression = iota
	Gzip
	Zstd
)

// String returns the format's name as --compress takes it.
func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return "none"
}

// Compressions are the formats, in the order --compress lists them.
var Compressions = []Compression{Gzip, Zstd, None}

// alias is the format's short name, its file name suffix without the
// dot; "" for none.
func (c Compression) alias() string {
	switch c {
	case Gzip:
		return "gz"
	case Zstd:
		return "zst"
	}
	return ""
}

// ParseCompression reads a format name, as String gives it or short:
// gzip (gz), zstd (zst) or none; "" is none.
func ParseCompression(s string) (Compression, error) {
	lower := strings.ToLower(s)
	names := make([]string, len(Compressions))
	for i, c := range Compressions {
		if lower == c.String() || lower == c.alias() {
			return c, nil
		}
		names[i] = c.String()
	}
	n := len(names)
	return None, fmt.Errorf("unknown compression %q; use %s or %s", s, strings.Join(names[:n-1], ", "), names[n-1])
}

// CompressionFor returns the format a file name's suffix asks for: .gz is
// gzip, .zst zstd, anything else none.
func CompressionFor(name string) Compression {
	ext := strings.ToLower(filepath.Ext(name))
	for _, c := range Compressions {
		if a := c.alias(); a != "" && ext == "."+a {
			return c
		}
	}
	return None
}

// compressBlock is the size of pgzip's blocks: large enough for a good
// ratio, small enough that the blocks in flight stay a few MiB.
const compressBlock = 1 << 20

// compressor returns a writer compressing into w. Close writes the end of
// the stream but does not close w.
func (c Compression) compressor(w io.Writer) (io.WriteCloser, error) {
	workers := compressWorkers()
	switch c {
	case Gzip:
		zw := pgzip.NewWriter(w)
		if err := zw.SetConcurrency(compressBlock, workers); err != nil {
			return nil, err
		}
		return zw, nil
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(workers))
	}
	return nil, errors.New("no compression")
}

// compressWorkers is how many goroutines a compressor uses at most.
func compressWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// reset has enc, one of compressor's, start a new stream on w, with the
// settings compressor gave it (pgzip's Reset would reset its concurrency
// to GOMAXPROCS blocks).
func (c Compression) reset(enc interface{ Reset(io.Writer) }, w io.Writer) {
	enc.Reset(w)
	if zw, ok := enc.(*pgzip.Writer); ok {
		_ = zw.SetConcurrency(compressBlock, compressWorkers())
	}
}

// Dest is where the lines go: stdout or a File, compressed or not.
type Dest struct {
	file *File          // nil for a stream
	comp io.WriteCloser // nil when not compressing
	w    io.Writer      // what the lines are written to
	// written counts the bytes that reached the stream or file, after
	// compression.
	written atomic.Int64
}

// OpenDest opens the destination: the stream out when name is "" or "-",
// else the file name (see CreateFile). With a compression, the lines are
// compressed on their way.
func OpenDest(name string, out io.Writer, c Compression) (*Dest, error) {
	d := &Dest{}
	var sink io.Writer = streamWriter{out}
	if name != "" && name != "-" {
		f, err := CreateFile(name)
		if err != nil {
			return nil, err
		}
		d.file, sink = f, f
	}
	counted := &countingWriter{w: sink, n: &d.written}
	d.w = counted
	if c != None {
		zw, err := c.compressor(counted)
		if err != nil {
			d.Abort()
			return nil, fmt.Errorf("cannot start %s compression: %w", c, err)
		}
		d.comp, d.w = zw, zw
	}
	return d, nil
}

// Writer returns the writer the lines go to.
func (d *Dest) Writer() io.Writer { return d.w }

// File returns the output file, or nil for a stream.
func (d *Dest) File() *File { return d.file }

// Written returns the bytes that reached the destination so far, after
// compression.
func (d *Dest) Written() int64 { return d.written.Load() }

// Commit ends the compressed stream, if any, and publishes the file, if
// any. Every line must have been written to Writer first.
func (d *Dest) Commit() error {
	if d.comp != nil {
		if err := d.comp.Close(); err != nil {
			d.Abort()
			return asWriteError(err)
		}
	}
	if d.file != nil {
		return d.file.Commit()
	}
	return nil
}

// Fail ends a run that failed: a file is given up (see Abort); a
// compressed stream is ended after what was written, so that it
// decompresses to whole lines, when drained says nothing is still being
// written to it.
func (d *Dest) Fail(drained bool) {
	if d.file != nil {
		d.Abort()
		return
	}
	if d.comp != nil && drained {
		_ = d.comp.Close()
	}
}

// Abort gives the output up: a file's temporary file is removed and a
// previous file is left untouched. Safe to call more than once, from any
// goroutine, and after Commit (when it does nothing).
func (d *Dest) Abort() {
	if d.file != nil {
		d.file.Abort()
	}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// streamWriter names standard output in its errors and says what to do,
// and whether the destination took part of the write that failed: then
// it may end mid-line, which only -o can rule out. A closed pipe (EPIPE)
// is left as it is: it is a normal end.
type streamWriter struct{ w io.Writer }

func (s streamWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err == nil || IsBrokenPipe(err) {
		return n, err
	}
	err = unwrapPath(err)
	advice := spaceAdvice(err)
	if advice == "" {
		advice = "; check where standard output goes"
	}
	msg := "cannot write to standard output: " + err.Error() + advice
	if n > 0 && n < len(p) {
		msg += "; the destination took only part of a write, so the output may end with a cut line (-o FILE never leaves one)"
	}
	return n, &WriteError{Err: err, Msg: msg}
}
