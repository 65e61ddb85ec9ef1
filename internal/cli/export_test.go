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
