package cli

import (
	"context"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
)

// A resumable parallel run (--resume --parallel N): the ranges of the
// split key, the first --order-by expression, come out in key order, so
// a segment is sealed between two ranges, once the ranges written since
// the last seal hold segmentRows rows or segmentBytes bytes, after the
// key of the last row written. Each range checks its rows' keys as one
// connection does; ranges are disjoint and in order, so the keys of the
// whole output are. A resumed run cuts only the rows after the last
// sealed key into ranges.

// snapshotTimeSQL is the exported snapshot's transaction's start.
const snapshotTimeSQL = "SELECT pg_catalog.now()::text"

// parallelResume is a resumable parallel run's seals.
type parallelResume struct {
	r *resumeOptions
	w *output.NDJSON
	// last is each range's last key, nil while it has none; written
	// under parallelRun.mu.
	last [][]string
	// key is the key of the last row written out; segRows and segLines
	// the rows since the last seal and the lines before it.
	key               []string
	segRows, segLines int64
}

// prepareResume makes the run's statement resumable, and records the
// exported snapshot's time.
func (pr *parallelRun) prepareResume(ctx context.Context, r *resumeOptions) error {
	server := pr.stats.server
	if err := r.prepare(ctx, pr.snap.Query, pr.o, server); err != nil {
		return err
	}
	var at string
	err := pr.snap.Query(ctx, snapshotTimeSQL, nil, func(v [][]byte) error {
		at = string(v[0])
		return nil
	})
	if err != nil {
		return err
	}
	r.seg.SetRun(output.Run{Server: server, Snapshot: at})
	pr.resume = &parallelResume{r: r}
	return nil
}

// start readies the seals of ranges written into w.
func (p *parallelResume) start(ranges int, w *output.NDJSON) {
	p.last, p.w = make([][]string, ranges), w
	p.r.final = p.seal
}

// sink wraps a range's sink with the check of its keys; ended records
// the range's last key.
func (p *parallelResume) sink(inner wire.RowSink) *resumeSink {
	rs := newResumeSink(inner, nil, nil, nil, len(p.r.keys))
	rs.kinds, rs.desc = p.r.kinds, p.r.keys[0].Desc
	return rs
}

// wrapJQ has a range's jq pipeline fed through the check of its keys.
func (p *parallelResume) wrapJQ(jq *jqSettings, rs **resumeSink) {
	jq.wrap = func(inner wire.RowSink, _ *filter.Pipeline) wire.RowSink {
		*rs = p.sink(inner)
		return *rs
	}
}

// ranged records range i's last key, once its rows are read; under
// parallelRun.mu.
func (p *parallelResume) ranged(i int, rs *resumeSink) {
	if rs != nil && rs.rows > 0 {
		p.last[i] = texts(rs.last)
	}
}

// written is told that range i, of rows rows, is written out: the
// segment is sealed after it when full.
func (p *parallelResume) written(i int, rows int64, last []string) error {
	p.segRows += rows
	if last != nil {
		p.key = last
	}
	if p.segRows < segmentRows && p.r.seg.Size() < segmentBytes {
		return nil
	}
	key, rows, lines, before := p.key, p.segRows, p.w.Rows(), p.segLines
	p.segRows, p.segLines = 0, lines
	return p.w.Then(func() error { return p.r.seg.Seal(key, rows, lines-before) })
}

// seal seals the segment after the rows written so far, lines in all,
// once the writer is closed.
func (p *parallelResume) seal(lines int64) error {
	if p.segRows == 0 {
		return nil
	}
	err := p.r.seg.Seal(p.key, p.segRows, lines-p.segLines)
	p.segRows, p.segLines = 0, lines
	return err
}
