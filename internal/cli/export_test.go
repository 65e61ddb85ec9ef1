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
