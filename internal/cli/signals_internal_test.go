package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestNothingHappensBeforeTheSignalHandlers: the signal handlers are
// installed on a goroutine of their own while the command line is parsed;
// a run has created no file and opened no connection when it first waits
// for them, so that a signal can never end the process before it has
// cleaned up what it created. The test's unbuffered send completes exactly
// when the run waits.
func TestNothingHappensBeforeTheSignalHandlers(t *testing.T) {
	clearPGEnv(t)
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, ".s.PGSQL.5432"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	out := filepath.Join(dir, "out.ndjson")
	signals := make(chan struct{})
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		args := []string{"stream", "v", "-o", out, "-d", "host=" + dir + " port=5432 user=u dbname=d"}
		done <- run(context.Background(), args, &stdout, &stderr, signals)
	}()
	signals <- struct{}{} // the run waits for the handlers
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || accepted.Load() != 0 {
		t.Errorf("before the signal handlers: %d entries in the output directory (want only the socket), %d connections", len(entries), accepted.Load())
	}
	close(signals)
	if code := <-done; code != ExitConnection {
		t.Errorf("exit %d, want %d (the fake server hangs up): %s", code, ExitConnection, stderr.String())
	}
	if accepted.Load() == 0 {
		t.Error("the run never connected once the handlers were in place")
	}
}
