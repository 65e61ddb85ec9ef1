//go:build unix

package output

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// watchHangGuard bounds the waits for gone, so that a watch that never
// fires fails the test instead of hanging it. It orders nothing.
const watchHangGuard = 30 * time.Second

// readerPair makes a file to watch (the writer's end) and the reader's end.
type readerPair func(t *testing.T) (w, r *os.File)

func pipePair(t *testing.T) (w, r *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	return w, r
}

func socketPair(typ int) readerPair {
	return func(t *testing.T) (w, r *os.File) {
		t.Helper()
		fds, err := syscall.Socketpair(syscall.AF_UNIX, typ, 0)
		if err != nil {
			if typ != syscall.SOCK_STREAM {
				t.Skipf("socketpair type %d: %v", typ, err)
			}
			t.Fatal(err)
		}
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
		w = os.NewFile(uintptr(fds[0]), "socket-w")
		r = os.NewFile(uintptr(fds[1]), "socket-r")
		t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
		return w, r
	}
}

var readerPairs = []struct {
	name string
	pair readerPair
}{
	{"pipe", pipePair},
	{"unix stream socket", socketPair(syscall.SOCK_STREAM)},
	{"unix seqpacket socket", socketPair(syscall.SOCK_SEQPACKET)},
}

func awaitGone[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(watchHangGuard):
		t.Fatalf("hang guard: gone not called within %s", watchHangGuard)
	}
	var zero T
	return zero
}

func TestWatchReaderCallsGoneWhenReaderLeaves(t *testing.T) {
	for _, tt := range readerPairs {
		t.Run(tt.name, func(t *testing.T) {
			w, r := tt.pair(t)
			var calls atomic.Int32
			gone := make(chan struct{}, 2)
			stop := WatchReader(w, func() {
				calls.Add(1)
				gone <- struct{}{}
			})
			defer stop()
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			awaitGone(t, gone)
			stop()
			stop() // more than once is fine
			if n := calls.Load(); n != 1 {
				t.Errorf("gone called %d times, want once", n)
			}
		})
	}
}

// TestWatchReaderQuietWhileReaderReads: data going through, the pipe
// filling up and draining, is no reason to call gone; the reader leaving
// afterwards is, which shows the watch was alive all along.
func TestWatchReaderQuietWhileReaderReads(t *testing.T) {
	for _, tt := range readerPairs {
		t.Run(tt.name, func(t *testing.T) {
			w, r := tt.pair(t)
			var readerClosed atomic.Bool
			gone := make(chan bool, 2) // whether the reader was closed when gone ran
			stop := WatchReader(w, func() { gone <- readerClosed.Load() })
			defer stop()

			const chunk, total = 4 << 10, 1 << 20 // more than a pipe holds
			data := bytes.Repeat([]byte("0123456789abcdef"), total/16)
			readErr := make(chan error, 1)
			go func() {
				got := make([]byte, 0, total)
				buf := make([]byte, chunk)
				for len(got) < total {
					n, err := r.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						readErr <- err
						return
					}
				}
				if !bytes.Equal(got, data) {
					readErr <- errors.New("read other bytes than written")
					return
				}
				readErr <- nil
			}()
			for off := 0; off < total; off += chunk {
				if _, err := w.Write(data[off : off+chunk]); err != nil {
					t.Fatal(err)
				}
			}
			if err := awaitGone(t, readErr); err != nil {
				t.Fatal(err)
			}

			readerClosed.Store(true)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if closed := awaitGone(t, gone); !closed {
				t.Error("gone called while the reader was still reading")
			}
		})
	}
}

// TestWatchReaderStop: a watch stopped before the reader leaves never
// calls gone.
//
// stop does not wait for the watching goroutine to end, so "never" cannot
// be awaited. What the test can wait for is proof that the reader's
// departure is visible to poll: a second watch of the same file, started
// after the reader left, fires. By then the first goroutine, had stop
// not reached it, would have been woken by the same condition. The code
// makes the rest certain: every poll that returns after stop sees the wake
// pipe's hangup, which is tested before POLLERR/POLLHUP on the file.
func TestWatchReaderStop(t *testing.T) {
	for _, tt := range readerPairs {
		t.Run(tt.name, func(t *testing.T) {
			w, r := tt.pair(t)
			var calls atomic.Int32
			stop := WatchReader(w, func() { calls.Add(1) })
			stop()
			stop() // idempotent
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}

			gone := make(chan struct{})
			stop2 := WatchReader(w, func() { close(gone) })
			defer stop2()
			awaitGone(t, gone)
			if n := calls.Load(); n != 0 {
				t.Errorf("gone called %d times after stop", n)
			}
		})
	}
}

// TestWatchReaderOtherFiles: only pipes and sockets are watched; for any
// other file WatchReader starts nothing and its stop does nothing.
func TestWatchReaderOtherFiles(t *testing.T) {
	regular := func(t *testing.T) *os.File {
		f, err := os.Create(filepath.Join(t.TempDir(), "out.ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	devNull := func(t *testing.T) *os.File {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			t.Skip(err)
		}
		return f
	}
	pipeW := func(t *testing.T) *os.File { w, _ := pipePair(t); return w }
	socket := func(t *testing.T) *os.File { w, _ := socketPair(syscall.SOCK_STREAM)(t); return w }
	tests := []struct {
		name    string
		open    func(t *testing.T) *os.File
		watched bool
	}{
		{"regular file", regular, false},
		{"character device", devNull, false},
		{"pipe", pipeW, true},
		{"socket", socket, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.open(t)
			if _, ok := pipeOrSocket(f); ok != tt.watched {
				t.Fatalf("pipeOrSocket = %t, want %t", ok, tt.watched)
			}
			if tt.watched {
				return
			}
			var calls atomic.Int32
			stop := WatchReader(f, func() { calls.Add(1) })
			if _, err := io.WriteString(f, "{}\n"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			stop()
			stop()
			if n := calls.Load(); n != 0 {
				t.Errorf("gone called %d times for a file that is not watched", n)
			}
		})
	}
}
