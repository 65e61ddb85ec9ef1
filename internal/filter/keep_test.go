package filter

import (
	"testing"

	"github.com/fraiseql/fraise/internal/wire"
)

// TestDropRowBytesIsWireKeepMin: a row of wire.KeepMin bytes or more is
// handed to the pipeline uncopied (Keep), as a batch of its own; a batch
// buffer of dropRowBytes or more is dropped after use rather than kept for
// the next batch. The two must be one size, so that a row the wire reader
// gave away is never a later batch's buffer, and a huge row's memory goes
// back once it is written. filter does not import wire outside its tests,
// so the link is checked here.
func TestDropRowBytesIsWireKeepMin(t *testing.T) {
	if dropRowBytes != wire.KeepMin {
		t.Errorf("filter's dropRowBytes is %d, wire.KeepMin %d: make them equal again (pipeline.go), or a kept row may become a later batch's buffer", dropRowBytes, wire.KeepMin)
	}
}
