package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
)

// Segment bounds of a resumable run (issue 23): a segment is sealed once
// it holds this many rows, or this many bytes of values, whichever comes
// first. (Variables for tests.)
var (
	segmentRows  int64 = 50_000
	segmentBytes int64 = 8 << 20
)

// resumeKeyError stops a resumable run on a row whose key cannot carry
// it: NULL, or not after the row before in the server's order (not
// unique): a segment sealed on it could lose or repeat rows.
type resumeKeyError struct {
	row  int64
	key  []string
	null bool
}

func (e *resumeKeyError) Error() string {
	if e.null && e.row == 0 {
		return "--resume: a row has a NULL key; the --order-by key must never be NULL to continue after it (the rows after the last sealed key would leave it out)"
	}
	if e.null {
		return fmt.Sprintf("--resume: row %d's key is NULL; the --order-by key must never be NULL to continue after it", e.row)
	}
	return fmt.Sprintf("--resume: row %d's key %q is not after the key of the row before it: the --order-by key is not unique, and continuing after it could lose or repeat rows", e.row, e.key)
}

// resumeSink takes a resumable run's rows (wire.Statement.Extra: the
// key's texts and, when the server checks it, whether it comes after the
// previous row's; then the value): it checks the key, hands the value on,
// and seals a segment every maxRows rows or maxBytes bytes of values,
// between rows. Counted in rows and values, the segments end at the same
// rows whatever the timing, so that a compressed output's frames, and its
// bytes, are the same however often a run was cut.
type resumeSink struct {
	inner wire.RowSink
	// w is the writer the values' lines go to, through the jq pipeline p
	// when there is one; the sealing runs on w's goroutine, after the
	// lines (NDJSON.Then). w nil: a parallel run's range, which checks
	// its keys and seals nothing.
	w    *output.NDJSON
	p    *filter.Pipeline
	seg  *output.Segments
	keys int

	maxRows, maxBytes int64
	rows              int64 // rows of this run
	// segRows and segBytes count the open segment's rows and values;
	// segLines the lines before it. full: the segment is to be sealed
	// before the next row, once its key is checked.
	segRows, segBytes, segLines int64
	full                        bool
	// last is the key of the last row written, in buffers reused from
	// row to row (no allocation per row).
	last [][]byte
	// onStart, when set, is told the start time of the statement's
	// transaction, as its first row gives it (when the server checks the
	// key).
	onStart func(string)
	// kinds, when set, have the client check the key's order (the
	// server's ORDER BY is desc).
	kinds []keyKind
	desc  bool
}

// newResumeSink returns the sink of a run whose key has keys items.
func newResumeSink(inner wire.RowSink, w *output.NDJSON, p *filter.Pipeline, seg *output.Segments, keys int) *resumeSink {
	return &resumeSink{inner: inner, w: w, p: p, seg: seg, keys: keys, maxRows: segmentRows, maxBytes: segmentBytes,
		last: make([][]byte, keys)}
}

func (s *resumeSink) Begin(col wire.Column) error { return s.inner.Begin(col) }
func (s *resumeSink) Flush() error                { return s.inner.Flush() }

// WriteValue is not called: the statement has the key's columns.
func (s *resumeSink) WriteValue([]byte) error {
	return errors.New("internal error: a resumable run's row came without its key")
}

// WriteRow checks a row's key, hands its value on, and seals the segment
// when it is full.
func (s *resumeSink) WriteRow(v []byte, extra [][]byte) error {
	s.rows++
	for _, k := range extra[:s.keys] {
		if k == nil {
			return &resumeKeyError{row: s.rows, null: true}
		}
	}
	if err := s.check(extra); err != nil {
		return err
	}
	// A full segment is sealed only now that this row's key is known to
	// come after its last: a segment ending between two rows of one key
	// would have the next run skip the second.
	if s.full {
		if err := s.seal(); err != nil {
			return err
		}
	}
	if err := s.inner.WriteValue(v); err != nil {
		return err
	}
	for i, k := range extra[:s.keys] {
		s.last[i] = append(s.last[i][:0], k...)
	}
	s.segRows++
	s.segBytes += int64(len(v)) + 1
	s.full = s.seg != nil && (s.segRows >= s.maxRows || s.segBytes >= s.maxBytes)
	return nil
}

// check checks that a row's key comes after the one before: by the
// server's answer, or by the client (kinds).
func (s *resumeSink) check(extra [][]byte) error {
	if s.kinds != nil {
		if s.rows > 1 && !after(s.kinds, s.desc, extra[:s.keys], s.last) {
			return &resumeKeyError{row: s.rows, key: texts(extra[:s.keys])}
		}
		return nil
	}
	switch a := extra[s.keys]; string(a) {
	case "true":
	case "false":
		return &resumeKeyError{row: s.rows, key: texts(extra[:s.keys])}
	default:
		// The first row: the time its transaction (snapshot) began.
		if s.onStart != nil {
			s.onStart(string(a))
		}
	}
	return nil
}

// seal has the segment sealed after the rows so far, once their lines
// are written, on the writer's goroutine: the rows go on meanwhile.
func (s *resumeSink) seal() error {
	if s.segRows == 0 {
		return nil
	}
	if s.p != nil {
		// Every row so far through the pipeline: its lines are w's.
		if err := s.p.Sync(); err != nil {
			return err
		}
	}
	key, rows, lines, before := texts(s.last), s.segRows, s.w.Rows(), s.segLines
	s.segRows, s.segBytes, s.segLines, s.full = 0, 0, lines, false
	return s.w.Then(func() error { return s.seg.Seal(key, rows, lines-before) })
}

// sealAt seals the segment after the rows so far, lines the lines written
// in all, once the writer is closed: every line is in the segment.
func (s *resumeSink) sealAt(lines int64) error {
	if s.segRows == 0 {
		return nil
	}
	if err := s.seg.Seal(texts(s.last), s.segRows, lines-s.segLines); err != nil {
		return err
	}
	s.segRows, s.segBytes, s.segLines, s.full = 0, 0, lines, false
	return nil
}

// texts copies values into strings.
func texts(values [][]byte) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// segmentTarget is the writer beneath a resumable run's NDJSON writer:
// whatever segment is open.
type segmentTarget struct{ seg *output.Segments }

func (t segmentTarget) Write(p []byte) (int, error) {
	w, err := t.seg.Writer()
	if err != nil {
		return 0, err
	}
	return w.Write(p)
}

var _ io.Writer = segmentTarget{}
