package cli

import (
	"context"
	"os"
	"runtime/debug"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// TestJQGCPercentRestored: --jq sets its collector target for its run only
// (unless GOGC decides), and puts the previous one back.
func TestJQGCPercentRestored(t *testing.T) {
	srv := pgtest.Require(t)
	t.Setenv("GOGC", "") // restored at the end; unset meanwhile
	_ = os.Unsetenv("GOGC")
	const before = 123 // a target of the test's own, to see it come back
	defer debug.SetGCPercent(debug.SetGCPercent(before))
	var out, errb discardWriter
	code := Run(context.Background(), []string{"stream", "v_seq", "--limit", "10", "--jq", ".id",
		"-d", srv.ConnString(pgtest.RoleTrust, false)}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if after := debug.SetGCPercent(before); after != before {
		t.Errorf("GOGC after the run = %d, want %d", after, before)
	}
}

// TestTuneGC: under --jq the collector target is jqGCPercent unless GOGC
// is set; either way the previous target comes back.
func TestTuneGC(t *testing.T) {
	const mine = 77
	for _, tc := range []struct {
		name string
		gogc bool
		want int
	}{
		{"GOGC unset", false, jqGCPercent},
		{"GOGC set", true, mine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", "")
			if !tc.gogc {
				_ = os.Unsetenv("GOGC")
			}
			defer debug.SetGCPercent(debug.SetGCPercent(mine))
			restore := tuneGC()
			if got := debug.SetGCPercent(-1); got != tc.want {
				t.Errorf("during the run: GOGC %d, want %d", got, tc.want)
			} else {
				debug.SetGCPercent(got)
			}
			restore()
			if got := debug.SetGCPercent(mine); got != mine {
				t.Errorf("after the run: GOGC %d, want %d back", got, mine)
			}
		})
	}
}

type discardWriter struct{ n int }

func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// plainSink is a RowSink that cannot keep values.
type plainSink struct{ rows int }

func (s *plainSink) Begin(wire.Column) error { return nil }
func (s *plainSink) WriteValue([]byte) error { s.rows++; return nil }
func (s *plainSink) Flush() error            { return nil }

// keepingSink is a plainSink that keeps huge values.
type keepingSink struct {
	plainSink
	kept int
}

func (s *keepingSink) KeepValue([]byte) error { s.kept++; return nil }

// TestCountingKeepsOnlyForAKeeper: the counting sink offers the stream
// KeepValue exactly when the sink after it has it, and counts either way.
func TestCountingKeepsOnlyForAKeeper(t *testing.T) {
	stats := newRunStats(outputSettings{})
	plain := &plainSink{}
	if s, _ := counting(plain, stats); isKeeper(s) {
		t.Error("counting a plain sink offers KeepValue: a huge row's buffer would be given away for nothing")
	}
	keeper := &keepingSink{}
	s, c := counting(keeper, stats)
	k, ok := s.(wire.ValueKeeper)
	if !ok {
		t.Fatal("counting a keeper does not offer KeepValue")
	}
	if err := k.KeepValue(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteValue([]byte("1")); err != nil {
		t.Fatal(err)
	}
	if keeper.kept != 1 || keeper.rows != 1 || c.rows != 2 || c.bytes != 11 {
		t.Errorf("kept %d, written %d; counted %d rows, %d bytes; want 1, 1; 2, 11", keeper.kept, keeper.rows, c.rows, c.bytes)
	}
}

func isKeeper(s wire.RowSink) bool { _, ok := s.(wire.ValueKeeper); return ok }
