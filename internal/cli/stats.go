package cli

import (
	"encoding/json"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
)

// runStats are a stream's counters, read by --stats at the end and by the
// progress display while the stream runs.
type runStats struct {
	start    time.Time
	firstRow atomic.Int64 // UnixNano of the first row; 0 before it
	rows     atomic.Int64 // rows received, told every few rows
	bytes    atomic.Int64 // their value bytes
	estimate atomic.Int64 // the planner's row estimate; -1 unknown

	// Set once the run's parts exist.
	out      *output.NDJSON
	dest     *output.Dest
	resume   *resumeOptions // with --resume
	server   string
	target   outputSettings
	parallel *parallelStats // nil on one connection

	mu    sync.Mutex
	pipes []*filter.Pipeline // --jq's, one per statement run
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
	// Parallel is there with --parallel 2 or more.
	Parallel *parallelLine `json:"parallel,omitempty"`
	// Resume is there with --resume: the rows each run sealed, and its
	// snapshot's time.
	Resume *resumeLine `json:"resume,omitempty"`
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
	s.mu.Lock()
	for _, p := range s.pipes {
		c := p.Counts()
		l.RowsFiltered += c.Filtered
		l.RowsSkipped += c.Skipped
	}
	s.mu.Unlock()
	if s.parallel != nil {
		l.Parallel = s.parallel.summary()
	}
	if s.resume != nil && s.resume.seg != nil {
		l.Resume = s.resume.summary()
		if s.target.comp != output.None {
			n := s.resume.seg.Written()
			l.BytesCompressed = &n
		}
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
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // a split key's "->>" stays readable
	_ = enc.Encode(s.line(code))
	// The server's version string is the server's: a C1 control in it,
	// which JSON leaves as it is, is escaped, as JSON allows.
	_, _ = io.WriteString(w, safeText(strings.TrimSuffix(b.String(), "\n"))+"\n")
}

// progress records the rows received so far and their value bytes, as
// the stream tells them (wire.Observer.Progress) and as its Result gives
// them at the end, and when the first row came.
func (s *runStats) progress(rows, bytes int64) {
	s.sawRows(rows)
	s.rows.Store(rows)
	s.bytes.Store(bytes)
}

// addProgress adds rows and value bytes received by one of several
// sessions.
func (s *runStats) addProgress(rows, bytes int64) {
	s.sawRows(rows)
	s.rows.Add(rows)
	s.bytes.Add(bytes)
}

// sawRows records when the first row came, once rows have.
func (s *runStats) sawRows(rows int64) {
	if rows > 0 && s.firstRow.Load() == 0 {
		s.firstRow.CompareAndSwap(0, time.Now().UnixNano())
	}
}

// addPipe counts p's filtered and skipped rows in the summary.
func (s *runStats) addPipe(p *filter.Pipeline) {
	s.mu.Lock()
	s.pipes = append(s.pipes, p)
	s.mu.Unlock()
}
