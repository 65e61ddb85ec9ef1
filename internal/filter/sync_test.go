package filter

import (
	"context"
	"strconv"
	"sync"
	"testing"
)

// gateLines is a LineWriter whose first write waits until released.
type gateLines struct {
	mu      sync.Mutex
	lines   int
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gateLines) WriteLines(p []byte, lines int) error {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lines += lines
	return nil
}

func (g *gateLines) Flush() error { return nil }

// TestPipelineSync: Sync returns only once the output of every row
// written before it has reached the writer, whatever the number of
// workers, and the pipeline goes on after it.
func TestPipelineSync(t *testing.T) {
	for _, workers := range []int{0, 1, 3} {
		f, err := Compile(`., .`, Options{})
		if err != nil {
			t.Fatal(err)
		}
		g := &gateLines{entered: make(chan struct{}), release: make(chan struct{})}
		p := NewPipeline(context.Background(), f, g, PipelineOptions{Workers: workers, MaxRows: 4})
		write := func(from, to int) {
			for i := from; i < to; i++ {
				if err := p.Write([]byte(strconv.Itoa(i))); err != nil {
					t.Fatal(err)
				}
			}
		}
		synced := make(chan error, 1)
		go func() {
			write(0, 10) // at level 0 the first write already waits
			synced <- p.Sync()
		}()
		<-g.entered
		select {
		case err := <-synced:
			t.Fatalf("workers %d: Sync returned (%v) while the writer was still writing", workers, err)
		default:
		}
		close(g.release)
		if err := <-synced; err != nil {
			t.Fatal(err)
		}
		g.mu.Lock()
		lines := g.lines
		g.mu.Unlock()
		if lines != 20 {
			t.Errorf("workers %d: %d lines written after Sync, want 20", workers, lines)
		}
		write(10, 15)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if g.lines != 30 {
			t.Errorf("workers %d: %d lines in all, want 30", workers, g.lines)
		}
		if err := p.Sync(); err != nil {
			t.Errorf("workers %d: Sync after Close: %v", workers, err)
		}
	}
}
