package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/wire"
)

// checkLimitUsageError checks that err is a usage error (exit code 2)
// whose message holds every one of want.
func checkLimitUsageError(t *testing.T, err error, want ...string) {
	t.Helper()
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v (%T) is not a *usageError", err, err)
	}
	if code := exitCode(err); code != ExitUsage {
		t.Errorf("exit code %d, want %d", code, ExitUsage)
	}
	for _, s := range want {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr []string // parts of the message; nil: no error
	}{
		{"", 0, nil},
		{"0", 0, nil},
		{"  ", 0, nil},
		{"0s", 0, nil},
		{"30s", 30 * time.Second, nil},
		{" 30s ", 30 * time.Second, nil},
		{"1m30s", 90 * time.Second, nil},
		{"500ms", 500 * time.Millisecond, nil},
		{"1.5h", 90 * time.Minute, nil},
		{"5", 0, []string{"needs a unit", "5s"}},
		{"1.5", 0, []string{"needs a unit", "1.5s"}},
		{"-1s", 0, []string{"must not be negative", "-1s"}},
		{"abc", 0, []string{"not a duration", `"abc"`}},
		{"00", 0, nil},
		{"0.0", 0, nil},
		{"inf", 0, []string{"not a duration", `"inf"`}},
		{"1e3", 0, []string{"not a duration", `"1e3"`}},
		{"5 s", 0, []string{"not a duration"}},
		{"10d", 0, []string{"not a duration"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := parseDuration("connect-timeout", tt.in)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if got != tt.want {
					t.Errorf("= %s, want %s", got, tt.want)
				}
				return
			}
			checkLimitUsageError(t, err, append([]string{"--connect-timeout"}, tt.wantErr...)...)
			if got != 0 {
				t.Errorf("= %s with the error, want 0", got)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr []string // parts of the message; nil: no error
	}{
		{"256MiB", 256 << 20, nil},
		{"1GB", 1 << 30, nil}, // PostgreSQL's units: GB is 1024³
		{"1gib", 1 << 30, nil},
		{"64kB", 64 << 10, nil},
		{"64k", 64 << 10, nil},
		{"2M", 2 << 20, nil},
		{"1048576", 1048576, nil},
		{"100b", 100, nil},
		{"10 MB", 10 << 20, nil},
		{" 2 GiB ", 2 << 30, nil},
		{"0", 0, nil}, // refused by parseLimits, not here
		{"9223372036854775807", math.MaxInt64, nil},
		{"8589934591GiB", (1<<33 - 1) << 30, nil}, // the largest that fits
		{"8589934592GiB", 0, []string{"too large"}},
		{"99999999999999999999GB", 0, []string{`"99999999999999999999GB"`, "too large"}},
		{"1.5GB", 0, []string{"not a size", `"1.5GB"`}},
		{"", 0, []string{"not a size"}},
		{"xyz", 0, []string{"not a size", `"xyz"`}},
		{"GB", 0, []string{"not a size"}},
		{"-1MB", 0, []string{"not a size"}},
		{"1TB", 0, []string{"not a size"}},
		{"1 M B", 0, []string{"not a size"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := parseSize("max-row-size", tt.in)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if got != tt.want {
					t.Errorf("= %d, want %d", got, tt.want)
				}
				return
			}
			checkLimitUsageError(t, err, append([]string{"--max-row-size"}, tt.wantErr...)...)
			if got != 0 {
				t.Errorf("= %d with the error, want 0", got)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name    string
		flags   map[string]string
		want    limits
		wantErr []string
	}{
		{"defaults", map[string]string{"max-row-size": defaultMaxRowSize}, limits{maxRow: 256 << 20}, nil},
		{"all set", map[string]string{"statement-timeout": "1m", "idle-timeout": "30s", "max-row-size": "1GB"},
			limits{statement: time.Minute, idle: 30 * time.Second, maxRow: 1 << 30}, nil},
		{"largest statement-timeout", map[string]string{"statement-timeout": "596h", "max-row-size": "1"}, limits{statement: 596 * time.Hour, maxRow: 1}, nil},
		{"statement-timeout past PostgreSQL's", map[string]string{"statement-timeout": "597h", "max-row-size": "1"}, limits{}, []string{"--statement-timeout", "PostgreSQL's largest"}},
		{"bad idle-timeout", map[string]string{"idle-timeout": "-2s", "max-row-size": "1"}, limits{}, []string{"--idle-timeout"}},
		{"max-row-size 0", map[string]string{"max-row-size": "0"}, limits{}, []string{"--max-row-size", "at least 1 byte"}},
		{"max-row-size empty", map[string]string{"max-row-size": ""}, limits{}, []string{"--max-row-size", "not a size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testSettings(tt.flags)
			got, err := parseLimits(v)
			if tt.wantErr != nil {
				checkLimitUsageError(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if got != tt.want {
				t.Errorf("= %+v, want %+v", got, tt.want)
			}
		})
	}
}

// stuckWriter blocks every write until released.
type stuckWriter struct{ release chan struct{} }

func (w stuckWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}

// TestFinishOutputGraceAfterALateStop: the run's query is over and only
// the output is left, stuck on a reader that stopped reading, when the
// signal comes. The wait for the output then ends outputGrace after the
// signal, with the signal's cause, while the write is still stuck.
func TestFinishOutputGraceAfterALateStop(t *testing.T) {
	defer func(g time.Duration) { outputGrace = g }(outputGrace)
	outputGrace = 10 * time.Millisecond
	run := wire.NewStop(context.Background(), nil)
	defer run.Close()
	ctx := run.Context()
	w := stuckWriter{release: make(chan struct{})}
	defer close(w.release)
	out := output.NewAsyncNDJSON(ctx, w, output.Options{})
	if err := out.WriteValue([]byte(`1`)); err != nil {
		t.Fatal(err)
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- finishOutput(run, out, nil) }()
	sig := &signalError{syscall.SIGINT}
	run.Cancel(sig)
	select {
	case err := <-done:
		if !errors.Is(err, sig) {
			t.Errorf("finishOutput = %v, want the signal", err)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing check
		t.Fatal("finishOutput still waits for the stuck write after the grace")
	}
}
