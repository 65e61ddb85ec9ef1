package cli

import (
	"testing"
	"time"
)

// SetStatementGrace shortens statementGrace for t.
func SetStatementGrace(t *testing.T, d time.Duration) {
	old := statementGrace
	statementGrace = d
	t.Cleanup(func() { statementGrace = old })
}

// SetParallelWithoutSnapshot makes --parallel's workers skip the
// snapshot import for t: what the consistency test must be seen to fail
// with.
func SetParallelWithoutSnapshot(t *testing.T) {
	importSnapshot = false
	t.Cleanup(func() { importSnapshot = true })
}

// SetSegmentBounds makes a resumable run seal its segments every rows
// rows or bytes bytes of values, for t (t nil: for the process, a child
// run as fraise).
func SetSegmentBounds(t *testing.T, rows, bytes int64) {
	oldRows, oldBytes := segmentRows, segmentBytes
	segmentRows, segmentBytes = rows, bytes
	if t != nil {
		t.Cleanup(func() { segmentRows, segmentBytes = oldRows, oldBytes })
	}
}

// SetBeforePublish has a resumable run call f once its output is recorded
// complete, just before it is published, for t.
func SetBeforePublish(t *testing.T, f func()) {
	old := beforePublish
	beforePublish = f
	t.Cleanup(func() { beforePublish = old })
}
