package cli

import "github.com/fraiseql/fraise/internal/filter"

// maxRangeSkipKinds bounds the kinds of jq failure a range keeps apart
// for --on-jq-error skip's report; more are counted as other errors. The
// report shows 20 kinds, the first in the whole output, whose counts may
// come from any range: a range keeps many more than 20 so that the
// summary is one connection's but for a range with more kinds than this.
const maxRangeSkipKinds = 1024

// rangeSkips are the rows --on-jq-error skip dropped in one range, kept
// small: each kind of failure (filter.SkipGroup: its first row, that
// row's message and values, its count), in the order they first came,
// and the rest counted.
type rangeSkips struct {
	kinds  []filter.SkipGroup
	index  map[string]int
	others int64
}

// add records a skipped row (filter.PipelineOptions.OnSkip), row counted
// from 1 in the range.
func (r *rangeSkips) add(row int64, msg string) {
	kind := filter.SkipKind(msg)
	if i, ok := r.index[kind]; ok {
		r.kinds[i].N++
		return
	}
	if len(r.kinds) >= maxRangeSkipKinds {
		r.others++
		return
	}
	if r.index == nil {
		r.index = map[string]int{}
	}
	r.index[kind] = len(r.kinds)
	r.kinds = append(r.kinds, filter.NewSkipGroup(row, msg))
}

// replay adds the range's skips to report, its rows numbered after
// before rows of the ranges written ahead of it, and lets them go: a run
// keeps the skips of the ranges not yet written only, so that their
// memory is bounded by the connections, not by the ranges.
func (r *rangeSkips) replay(report *filter.SkipReport, before int64) {
	for _, g := range r.kinds {
		g.Row += before
		report.AddGroup(g)
	}
	report.AddOthers(r.others)
	*r = rangeSkips{}
}
