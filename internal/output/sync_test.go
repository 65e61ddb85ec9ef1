package output_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/fraiseql/fraise/internal/output"
)

// syncGate blocks its first write until released, saying when it
// starts.
type syncGate struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *syncGate) Write(p []byte) (int, error) {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

// TestNDJSONSync: Sync returns only once every line given to an
// asynchronous writer has reached the destination: not while the
// destination is still taking the first of them.
func TestNDJSONSync(t *testing.T) {
	g := &syncGate{entered: make(chan struct{}), release: make(chan struct{})}
	w := output.NewAsyncNDJSON(context.Background(), g, output.Options{ChunkRows: 3})
	var want strings.Builder
	for i := range 10 {
		want.WriteString(`"` + strings.Repeat("x", i) + `"` + "\n")
	}
	synced := make(chan error, 1)
	go func() {
		// The writes wait too once both buffers are taken.
		for i := range 10 {
			if err := w.WriteValue([]byte(`"` + strings.Repeat("x", i) + `"`)); err != nil {
				synced <- err
				return
			}
		}
		synced <- w.Sync()
	}()
	<-g.entered
	select {
	case err := <-synced:
		t.Fatalf("Sync returned (%v) while the destination was still writing", err)
	default:
	}
	close(g.release)
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	got := g.buf.String()
	g.mu.Unlock()
	if got != want.String() {
		t.Errorf("after Sync the destination holds %q, want %q", got, want.String())
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
