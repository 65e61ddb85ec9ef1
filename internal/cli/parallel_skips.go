package cli

import "github.com/fraiseql/fraise/internal/filter"

// maxRangeSkipKinds bounds the kinds of jq failure a range keeps apart
// for --on-jq-error skip's report; more are counted as other errors. The
// report shows 20 kinds, the first in the whole output, whose counts may
// come from any range: a range keeps many more than 20 so that the
// summary is one connection's but for a range with more kinds than this.
const maxRangeSkipKinds = 1024

// rangeSkips are the rows --on-jq-error skip dropped in one range, kept
// small: each kind of failure with its first row and its count, in the
// order they first came, and the rest counted.
type rangeSkips struct {
	kinds  []skipKind
	index  map[string]int
	others int64
}

type skipKind struct {
	msg   string
	first int64 // row number in the range, from 1
	n     int64
}

// add records a skipped row (filter.PipelineOptions.OnSkip).
func (r *rangeSkips) add(row int64, msg string) {
	if i, ok := r.index[msg]; ok {
		r.kinds[i].n++
		return
	}
	if len(r.kinds) >= maxRangeSkipKinds {
		r.others++
		return
	}
	if r.index == nil {
		r.index = map[string]int{}
	}
	r.index[msg] = len(r.kinds)
	r.kinds = append(r.kinds, skipKind{msg: msg, first: row, n: 1})
}

// replay adds the range's skips to report, its rows numbered after
// before rows of the ranges written ahead of it.
func (r *rangeSkips) replay(report *filter.SkipReport, before int64) {
	for _, k := range r.kinds {
		report.Add(before+k.first, k.msg, k.n)
	}
	report.AddOthers(r.others)
}
