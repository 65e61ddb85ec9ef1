package cli

import (
	"encoding/json"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
)

// runStats are a stream's counters, read by --stats at the end and by the
// progress display while the stream runs.
type runStats struct {
	start    time.Time
	firstRow atomic.Int64 // UnixNano of the first row; 0 before it
	rows     atomic.Int64 // rows received, published every few rows
	bytes    atomic.Int64 // their value bytes
	estimate atomic.Int64 // the planner's row estimate; -1 unknown

	// Set once the run's parts exist.
	out    *output.NDJSON
	dest   *output.Dest
	pipe   *filter.Pipeline
	server string
	target outputSettings
}

func newRunStats(target outputSettings) *runStats {
	s := &runStats{start: time.Now(), target: target}
	s.estimate.Store(-1)
	return s
}

// statsLine is the --stats summary, one JSON object; the README documents
// every field.
type statsLine struct {
	RowsRead        int64    `json:"rows_read"`
	RowsWritten     int64    `json:"rows_written"`
	RowsFiltered    int64    `json:"rows_filtered"`
	RowsSkipped     int64    `json:"rows_skipped"`
	BytesRead       int64    `json:"bytes_read"`
	BytesWritten    int64    `json:"bytes_written"`
	BytesCompressed *int64   `json:"bytes_compressed,omitempty"`
	TimeToFirstRow  *float64 `json:"time_to_first_row_ms"`
	ElapsedMS       float64  `json:"elapsed_ms"`
	RowsPerSec      float64  `json:"rows_per_sec"`
	ServerVersion   string   `json:"server_version"`
	Output          string   `json:"output"`
	Format          string   `json:"format"`
	Compression     string   `json:"compression"`
	ExitCode        int      `json:"exit_code"`
}

// line returns the summary of the run as it ended with code.
func (s *runStats) line(code int) statsLine {
	elapsed := time.Since(s.start)
	l := statsLine{
		RowsRead:      s.rows.Load(),
		BytesRead:     s.bytes.Load(),
		ElapsedMS:     ms(elapsed),
		ServerVersion: s.server,
		Output:        s.target.display(),
		Format:        s.target.format,
		Compression:   s.target.comp.String(),
		ExitCode:      code,
	}
	if at := s.firstRow.Load(); at != 0 {
		t := ms(time.Unix(0, at).Sub(s.start))
		l.TimeToFirstRow = &t
	}
	if sec := elapsed.Seconds(); sec > 0 {
		l.RowsPerSec = math.Round(float64(l.RowsRead)/sec*10) / 10
	}
	if s.out != nil {
		l.RowsWritten, l.BytesWritten = s.out.Rows(), s.out.Bytes()
	}
	if s.pipe != nil {
		c := s.pipe.Counts()
		l.RowsFiltered, l.RowsSkipped = c.Filtered, c.Skipped
	}
	if s.dest != nil && s.target.comp != output.None {
		n := s.dest.Written()
		l.BytesCompressed = &n
	}
	return l
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// write prints the summary as one line.
func (s *runStats) write(w io.Writer, code int) {
	b, _ := json.Marshal(s.line(code))
	// The server's version string is the server's: a C1 control in it,
	// which JSON leaves as it is, is escaped, as JSON allows.
	_, _ = io.WriteString(w, safeText(string(b))+"\n")
}

// countSink counts the rows on their way to the next sink. It keeps its
// counts in plain fields and publishes them every publishEvery rows and
// at every flush, so the hot path pays no atomic operation per row.
type countSink struct {
	next  wire.RowSink
	stats *runStats
	rows  int64
	bytes int64
}

const publishEvery = 256

func (s *countSink) Begin(col wire.Column) error { return s.next.Begin(col) }

func (s *countSink) WriteValue(v []byte) error {
	s.count(v)
	return s.next.WriteValue(v)
}

func (s *countSink) count(v []byte) {
	s.rows++
	s.bytes += int64(len(v))
	if s.rows == 1 {
		s.stats.firstRow.Store(time.Now().UnixNano())
	}
	if s.rows%publishEvery == 0 {
		s.publish()
	}
}

func (s *countSink) Flush() error {
	s.publish()
	return s.next.Flush()
}

// countKeeper is a countSink whose next sink keeps huge values: the
// stream hands them on without a copy.
type countKeeper struct {
	*countSink
	keeper wire.ValueKeeper
}

func (s countKeeper) KeepValue(v []byte) error {
	s.count(v)
	return s.keeper.KeepValue(v)
}

// counting returns a sink that counts rows on their way to next, and
// keeps huge values when next does.
func counting(next wire.RowSink, stats *runStats) (wire.RowSink, *countSink) {
	c := &countSink{next: next, stats: stats}
	if k, ok := next.(wire.ValueKeeper); ok {
		return countKeeper{c, k}, c
	}
	return c, c
}

func (s *countSink) publish() {
	s.stats.rows.Store(s.rows)
	s.stats.bytes.Store(s.bytes)
}
