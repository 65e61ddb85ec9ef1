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

// sharedStartTimeout bounds the start of a shared server in Require and
// RequireTLS.
const sharedStartTimeout = 2 * time.Minute

// lazyServer is a server started on first use and kept for the rest of
// the test binary.
type lazyServer struct {
	opts Options
	once sync.Once
	mu   sync.Mutex // guards srv
	srv  *Server
	err  error
}

// The package's lazily started servers, one of each per test binary.
var (
	shared    = &lazyServer{opts: Options{}}
	sharedTLS = &lazyServer{opts: Options{TLS: true}}
)

// get starts the server on the first call, bounded by ctx, and returns
// the cached result, error included, on every call.
func (l *lazyServer) get(ctx context.Context) (*Server, error) {
	l.once.Do(func() {
		srv, err := Start(ctx, l.opts)
		if err == nil {
			err = attachPooler(ctx, srv)
		}
		l.mu.Lock()
		l.srv, l.err = srv, err
		l.mu.Unlock()
	})
	return l.srv, l.err
}

// require returns the server for tb, starting it within
// sharedStartTimeout, and skips or fails tb as Require documents.
func (l *lazyServer) require(tb testing.TB, what string) *Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sharedStartTimeout)
	defer cancel()
	srv, err := l.get(ctx)
	switch {
	case err == nil:
		return srv
	case errors.Is(err, ErrNoPostgres) && os.Getenv("CI") == "true":
		tb.Fatalf("pgtest: PostgreSQL is required when CI=true: %v", err)
	case errors.Is(err, ErrNoPostgres):
		tb.Skipf("pgtest: skipping, no PostgreSQL: %v", err)
	default:
		tb.Fatalf("pgtest: starting the %s: %v", what, err)
	}
	return nil
}

// close stops the server if it was started.
func (l *lazyServer) close() error {
	l.mu.Lock()
	srv := l.srv
	l.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
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
	return shared.get(ctx)
}

// SharedTLS is Shared for a second shared server, started with
// Options.TLS (and fixtures), separate from the one Shared returns.
func SharedTLS(ctx context.Context) (*Server, error) {
	return sharedTLS.get(ctx)
}

// Require returns the shared server for a test or benchmark, starting it
// within two minutes on first use. When no PostgreSQL server is installed
// it skips the test, or fails it when CI=true; any other start failure
// fails the test.
func Require(tb testing.TB) *Server {
	tb.Helper()
	return shared.require(tb, "shared PostgreSQL server")
}

// RequireTLS is Require for the shared TLS server of SharedTLS.
func RequireTLS(tb testing.TB) *Server {
	tb.Helper()
	return sharedTLS.require(tb, "shared TLS PostgreSQL server")
}

// RequireBinaries checks, without starting a server, that the PostgreSQL
// server binaries and psql can be found; when they cannot, it skips tb, or
// fails it when CI=true, as Require does. It is for tests of programs that
// start a server of their own, such as the demo and the sandbox.
func RequireBinaries(tb testing.TB) {
	tb.Helper()
	f := systemFinder()
	binDir, err := f.binDir()
	if err == nil {
		_, err = f.psqlPath(binDir)
	}
	switch {
	case err == nil:
	case os.Getenv("CI") == "true":
		tb.Fatalf("pgtest: PostgreSQL is required when CI=true: %v", err)
	default:
		tb.Skipf("pgtest: skipping, no PostgreSQL: %v", err)
	}
}

// RunMain runs the tests of m and then stops the shared servers (of Shared
// and SharedTLS) that were started, returning the exit code for os.Exit. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.RunMain(m)) }
//
// If the process receives SIGINT or SIGTERM meanwhile, it stops every
// server this package started (best effort) before dying of that signal.
func RunMain(m *testing.M) int {
	stopSignals := stopOnSignal()
	code := m.Run()
	stopSignals()
	if err := errors.Join(shared.close(), sharedTLS.close()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
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
			redeliver(sig)
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
