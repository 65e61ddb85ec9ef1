package wire_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// keeper is a ValueKeeper that keeps huge values as they are given and
// copies the others.
type keeper struct {
	collect
	kept []bool // per row: it came through KeepValue
}

func (k *keeper) WriteValue(v []byte) error {
	k.kept = append(k.kept, false)
	return k.collect.WriteValue(v)
}

func (k *keeper) KeepValue(v []byte) error {
	k.kept = append(k.kept, true)
	k.values = append(k.values, v) // no copy: the stream must not reuse it
	return nil
}

// TestHugeValuesAreHandedOverUncopied streams rows of a few bytes between
// rows above wire.KeepMin: the large ones must reach KeepValue, and their
// memory must stay untouched while the stream reads on.
func TestHugeValuesAreHandedOverUncopied(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false))
	huge := wire.KeepMin + wire.KeepMin/2
	const rows = 9
	sql := fmt.Sprintf(`SELECT to_jsonb(repeat(chr(97 + i %% 26), CASE WHEN i %% 3 = 0 THEN %d ELSE 10 END)) AS data FROM generate_series(1, %d) i ORDER BY i`, huge, rows)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := wire.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sink keeper
	res, err := conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: sql}, &sink, wire.Observer{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != rows || len(sink.values) != rows {
		t.Fatalf("%d rows counted, %d received, want %d", res.Rows, len(sink.values), rows)
	}
	for i, v := range sink.values {
		n := i + 1
		size := 10
		if n%3 == 0 {
			size = huge
		}
		want := `"` + string(bytes.Repeat([]byte{byte('a' + n%26)}, size)) + `"`
		if string(v) != want {
			t.Errorf("row %d: %d bytes starting %.20q, want %d bytes of %q", n, len(v), v, len(want), rune('a'+n%26))
		}
		if sink.kept[i] != (size == huge) {
			t.Errorf("row %d of %d bytes: through KeepValue %v, want %v", n, len(v), sink.kept[i], size == huge)
		}
	}
}
