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
// cleaned up what it created.
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
	first := true
	var files, conns int
	signals := func() { // called on the run's goroutine, which waits meanwhile
		if first {
			first = false
			entries, _ := os.ReadDir(dir)
			files, conns = len(entries)-1, int(accepted.Load()) // the socket aside
		}
	}
	var stdout, stderr bytes.Buffer
	args := []string{"stream", "v", "-o", out, "-d", "host=" + dir + " port=5432 user=u dbname=d"}
	if code := run(context.Background(), args, &stdout, &stderr, signals); code != ExitConnection {
		t.Errorf("exit %d, want %d (the fake server hangs up): %s", code, ExitConnection, stderr.String())
	}
	if first || files != 0 || conns != 0 {
		t.Errorf("when the run first waited for the signal handlers (waited: %v): %d files, %d connections; want none", !first, files, conns)
	}
	if accepted.Load() == 0 {
		t.Error("the run never connected once the handlers were in place")
	}
}
