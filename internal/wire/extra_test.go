package wire_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/wire"
)

// keyed collects rows with their extra columns.
type keyed struct {
	collect
	extra [][]string
}

func (k *keyed) WriteRow(v []byte, extra [][]byte) error {
	row := make([]string, len(extra))
	for i, e := range extra {
		row[i] = "NULL"
		if e != nil {
			row[i] = string(e)
		}
	}
	k.extra = append(k.extra, row)
	return k.WriteValue(v)
}

// TestStreamExtraColumns: a statement with Extra columns before its json
// column hands each row's value and those columns' text to the sink (a
// resumable run's key), NULL as nil; the shape is checked as for one
// column, and a sink that cannot take them is refused before anything is
// sent.
func TestStreamExtraColumns(t *testing.T) {
	srv := pgtest.Require(t)
	cfg := config(t, srv.ConnString(pgtest.RoleTrust, false))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(sql string, extra int, sink wire.RowSink) error {
		conn, err := wire.Connect(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: sql, Extra: extra}, sink, wire.Observer{})
		return err
	}
	var k keyed
	sql := `SELECT g::text, CASE WHEN g = 2 THEN NULL ELSE 'k' || g END, ('{"g":' || g || '}')::jsonb FROM generate_series(1, 3) g ORDER BY g`
	if err := run(sql, 2, &k); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(k.extra); got != "[[1 k1] [2 NULL] [3 k3]]" {
		t.Errorf("extra columns %s", got)
	}
	if len(k.values) != 3 || !bytes.Equal(k.values[2], []byte(`{"g": 3}`)) {
		t.Errorf("values %q", k.values)
	}
	// A key may end in E; the json value is last, where a spliced
	// ErrorResponse would show.
	k = keyed{}
	if err := run(`SELECT 'ZOE', '{}'::json`, 1, &k); err != nil || fmt.Sprint(k.extra) != "[[ZOE]]" {
		t.Errorf("a key ending in E: %v, %v", err, k.extra)
	}
	var ce *wire.ColumnError
	if err := run(`SELECT '{}'::json, 'k'`, 1, &keyed{}); !errors.As(err, &ce) {
		t.Errorf("json column first: %v, want a ColumnError", err)
	}
	if err := run(`SELECT 'k', '{}'::json`, 0, &keyed{}); !errors.As(err, &ce) {
		t.Errorf("extra columns not asked for: %v, want a ColumnError", err)
	}
	if err := run(`SELECT 'k', '{}'::json`, 1, &collect{}); err == nil || !strings.Contains(err.Error(), "ExtraSink") {
		t.Errorf("a sink without WriteRow: %v", err)
	}
}
