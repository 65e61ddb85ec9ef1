package cli

import (
	"math"
	"sync"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
)

// parallelStats are the --stats of a parallel run: how the rows were
// split and what each connection streamed. The README documents every
// field.
type parallelStats struct {
	mu      sync.Mutex
	conns   int
	ranges  int
	key     string
	how     string
	spilled int
	workers []workerStats
}

// workerStats is what one connection streamed.
type workerStats struct {
	Rows   int64 `json:"rows"`
	Bytes  int64 `json:"bytes"`
	Ranges int   `json:"ranges"`
}

// parallelLine is parallelStats in the --stats line.
type parallelLine struct {
	Connections   int           `json:"connections"`
	Ranges        int           `json:"ranges"`
	SplitKey      string        `json:"split_key"`
	SplitBy       string        `json:"split_from"`
	Skew          float64       `json:"skew"`
	SpilledRanges int           `json:"spilled_ranges"`
	Workers       []workerStats `json:"workers"`
}

func newParallelStats(conns, ranges int, key, how string) *parallelStats {
	return &parallelStats{conns: conns, ranges: ranges, key: key, how: how, workers: make([]workerStats, conns)}
}

// add counts a range that worker streamed.
func (s *parallelStats) add(worker int, res wire.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &s.workers[worker]
	w.Rows += res.Rows
	w.Bytes += res.Bytes
	w.Ranges++
}

// setSpilled records how many ranges went to disk.
func (s *parallelStats) setSpilled(n int) {
	s.mu.Lock()
	s.spilled = n
	s.mu.Unlock()
}

// summary is the line's parallel object. Skew is the busiest connection's
// rows over the mean: 1 when the rows were spread evenly.
func (s *parallelStats) summary() *parallelLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &parallelLine{Connections: s.conns, Ranges: s.ranges, SplitKey: s.key, SplitBy: s.how,
		SpilledRanges: s.spilled, Workers: append([]workerStats(nil), s.workers...), Skew: 1}
	var total, most int64
	for _, w := range s.workers {
		total += w.Rows
		most = max(most, w.Rows)
	}
	if total > 0 {
		l.Skew = math.Round(float64(most)/(float64(total)/float64(len(s.workers)))*100) / 100
	}
	return l
}

// spilledParts counts the parts that went to disk.
func spilledParts(parts []*output.Part) int {
	n := 0
	for _, p := range parts {
		if p.Spilled() > 0 {
			n++
		}
	}
	return n
}
