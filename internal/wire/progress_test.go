package wire_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// progressCall is one call of Observer.Progress, with the rows the sink
// had been handed by then.
type progressCall struct{ rows, bytes, handed int64 }

// TestProgress: the observer is told the rows and value bytes received at
// the first row, every 256 rows and before waits, never more than the
// sink was handed, and the Result has the final counts; rows a sink keeps
// (ValueKeeper) are counted as the others are.
func TestProgress(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false))
	huge := wire.KeepMin + 10
	tests := []struct {
		name string
		rows int64
		sql  string
	}{
		{"small rows", 600, `SELECT to_jsonb(i) AS data FROM generate_series(1, 600) i`},
		{"some kept", 7, fmt.Sprintf(`SELECT to_jsonb(repeat('x', CASE WHEN i %% 2 = 0 THEN %d ELSE 3 END)) AS data FROM generate_series(1, 7) i`, huge)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			conn, err := wire.Connect(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var sink keeper
			var calls []progressCall
			obs := wire.Observer{Progress: func(rows, bytes int64) {
				calls = append(calls, progressCall{rows, bytes, int64(len(sink.values))})
			}}
			res, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: tc.sql}, &sink, obs)
			if err != nil {
				t.Fatal(err)
			}
			var bytes int64
			for _, v := range sink.values {
				bytes += int64(len(v))
			}
			if res.Rows != tc.rows || int64(len(sink.values)) != tc.rows || res.Bytes != bytes {
				t.Fatalf("Result %d rows, %d bytes; the sink got %d rows, %d bytes; want %d rows", res.Rows, res.Bytes, len(sink.values), bytes, tc.rows)
			}
			checkProgressCalls(t, calls, tc.rows)
		})
	}
}

// checkProgressCalls checks what the observer was told over a stream of
// rows rows.
func checkProgressCalls(t *testing.T, calls []progressCall, rows int64) {
	t.Helper()
	if len(calls) == 0 || calls[0].rows != 1 {
		t.Fatalf("calls %v: want the first at the first row", calls)
	}
	told := map[int64]bool{}
	for i, c := range calls {
		told[c.rows] = true
		if c.rows > c.handed+1 || c.rows < c.handed {
			t.Errorf("call %d told %d rows with %d handed to the sink", i, c.rows, c.handed)
		}
		if i > 0 && (c.rows < calls[i-1].rows || c.bytes < calls[i-1].bytes) {
			t.Errorf("call %d went back: %v after %v", i, c, calls[i-1])
		}
	}
	for n := int64(256); n <= rows; n += 256 {
		if !told[n] {
			t.Errorf("not told at row %d: %v", n, calls)
		}
	}
}
