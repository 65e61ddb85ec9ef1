package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sharedStartTimeout bounds the start of the shared server in Require.
const sharedStartTimeout = 2 * time.Minute

// shared is the package's lazily started server, one per test binary.
var shared struct {
	once sync.Once
	mu   sync.Mutex // guards srv
	srv  *Server
	err  error
}

// live holds every server started and not yet closed, so a signal can
// stop them all.
var live struct {
	mu      sync.Mutex
	servers map[*Server]struct{}
}

// track records a server being started.
func track(s *Server) {
	live.mu.Lock()
	defer live.mu.Unlock()
	if live.servers == nil {
		live.servers = make(map[*Server]struct{})
	}
	live.servers[s] = struct{}{}
}

// untrack forgets a closed server.
func untrack(s *Server) {
	live.mu.Lock()
	defer live.mu.Unlock()
	delete(live.servers, s)
}

// closeAll closes every live server, best effort.
func closeAll() {
	live.mu.Lock()
	servers := make([]*Server, 0, len(live.servers))
	for s := range live.servers {
		servers = append(servers, s)
	}
	live.mu.Unlock()
	for _, s := range servers {
		_ = s.Close()
	}
}

// Shared returns the process's shared server (with fixtures), starting it
// on the first call; ctx bounds that start. The result, error included, is
// cached, so every later call returns it at once. Test binaries using it
// should wrap TestMain with RunMain, which stops it.
func Shared(ctx context.Context) (*Server, error) {
	shared.once.Do(func() {
		srv, err := Start(ctx, Options{})
		shared.mu.Lock()
		shared.srv, shared.err = srv, err
		shared.mu.Unlock()
	})
	return shared.srv, shared.err
}

// Require returns the shared server for a test or benchmark, starting it
// within two minutes on first use. When no PostgreSQL server is installed
// it skips the test, or fails it when CI=true; any other start failure
// fails the test.
func Require(tb testing.TB) *Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	srv, err := Shared(ctx)
	switch {
	case err == nil:
		return srv
	case errors.Is(err, ErrNoPostgres) && os.Getenv("CI") == "true":
		tb.Fatalf("pgtest: PostgreSQL is required when CI=true: %v", err)
	case errors.Is(err, ErrNoPostgres):
		tb.Skipf("pgtest: skipping, no PostgreSQL: %v", err)
	default:
		tb.Fatalf("pgtest: starting the shared PostgreSQL server: %v", err)
	}
	return nil
}

// RunMain runs the tests of m and then stops the shared server, if one was
// started, returning the exit code for os.Exit. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.RunMain(m)) }
//
// If the process receives SIGINT or SIGTERM meanwhile, it stops every
// server this package started (best effort) before dying of that signal.
func RunMain(m *testing.M) int {
	stopSignals := stopOnSignal()
	code := m.Run()
	stopSignals()
	if err := closeShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// closeShared stops the shared server if it was started.
func closeShared() error {
	shared.mu.Lock()
	srv := shared.srv
	shared.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// stopOnSignal makes SIGINT and SIGTERM stop all live servers and then
// re-deliver the signal with its default action. The returned function
// uninstalls the handler.
func stopOnSignal() (stop func()) {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			closeAll()
			signal.Reset(sig)
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(os.Getpid(), s)
			}
			os.Exit(1) // in case the signal is ignored
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
		})
	}
}
