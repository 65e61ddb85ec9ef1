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

// TestSinksKeepOnlyWhereMeant: the --jq pipeline's sink takes huge rows
// without a copy (KeepValue); the plain path's does not offer it, or a
// huge row's read buffer would be given away for nothing. (The stream
// counts kept rows as the others: wire's TestProgress.)
func TestSinksKeepOnlyWhereMeant(t *testing.T) {
	var filtered wire.RowSink = &filterSink{}
	if _, ok := filtered.(wire.ValueKeeper); !ok {
		t.Error("the --jq sink does not offer KeepValue: huge rows are copied")
	}
	var plain wire.RowSink = &ndjsonSink{}
	if _, ok := plain.(wire.ValueKeeper); ok {
		t.Error("the plain sink offers KeepValue: a huge row's buffer would be given away for nothing")
	}
}
