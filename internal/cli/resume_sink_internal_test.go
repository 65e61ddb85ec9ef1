package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/filter"
	"github.com/fraiseql/fraise/internal/output"
	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/query"
	"github.com/fraiseql/fraise/internal/wire"
	"github.com/klauspost/compress/zstd"
)

// errCut is the failure that ends the first run of the resume test.
var errCut = errors.New("cut")

// cutSink fails at row cut, as a run killed there.
type cutSink struct {
	wire.RowSink
	rows, cut int
}

func (c *cutSink) WriteValue(v []byte) error {
	if c.rows++; c.rows == c.cut {
		return errCut
	}
	return c.RowSink.WriteValue(v)
}

// TestResumeSinkContinues: a run sealing a segment every 7 rows that is
// cut at row 40 keeps the 35 rows of its sealed segments; the next run
// continues after the last sealed key and publishes; the file holds
// exactly the bytes of one uninterrupted run, without --jq and with a
// --jq that drops rows.
func TestResumeSinkContinues(t *testing.T) {
	srv := pgtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.Psql(ctx, `DROP TABLE IF EXISTS rsk CASCADE;
CREATE TABLE rsk (id int PRIMARY KEY, data jsonb);
INSERT INTO rsk SELECT g, jsonb_build_object('id', g, 's', repeat('é', g % 9)) FROM generate_series(100, 1, -1) g;
GRANT SELECT ON rsk TO PUBLIC;`); err != nil {
		t.Fatal(err)
	}
	cfg := trustConfig(t, srv)
	for _, expr := range []string{"", "select(.id % 3 != 0) | {id}"} {
		t.Run("jq "+expr, func(t *testing.T) {
			var f *filter.Filter
			if expr != "" {
				var err error
				if f, err = filter.Compile(expr, filter.Options{}); err != nil {
					t.Fatal(err)
				}
			}
			name := filepath.Join(t.TempDir(), "out.ndjson.zst")
			id := output.Identity{Hash: expr}
			// run streams rsk after the key after (none: "") into the
			// resumable output, cut at row cut (0: never).
			run := func(after string, cut int) error {
				seg, err := output.OpenSegments(name, output.Zstd, id, false, output.Run{})
				if err != nil {
					t.Fatal(err)
				}
				spec := query.Spec{Relation: query.Relation{Name: "rsk"}, Column: "data", OrderBy: "id", Limit: -1, Resume: &query.Resume{Check: true}}
				var params []string
				if after != "" {
					spec.Resume = &query.Resume{After: 1, Types: []string{"integer"}, Check: true}
					params = []string{after}
				}
				st, err := query.Build(spec)
				if err != nil {
					t.Fatal(err)
				}
				w := output.NewAsyncNDJSON(ctx, segmentTarget{seg}, output.Options{})
				var inner wire.RowSink = &ndjsonSink{w}
				var p *filter.Pipeline
				if f != nil {
					p = filter.NewPipeline(ctx, f, w, filter.PipelineOptions{Workers: 2, MaxRows: 5})
					inner = &filterSink{p: p}
				}
				rs := newResumeSink(&cutSink{RowSink: inner, cut: cut}, w, p, seg, 1)
				rs.maxRows = 7
				conn, err := wire.Connect(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				_, err = conn.Stream(wire.NewStop(ctx, nil), wire.Statement{SQL: st.SQL, Params: params, Extra: 2}, rs, wire.Observer{})
				if err == nil && p != nil {
					err = p.Close()
				}
				// As the run does: the writer flushed and closed, then the
				// last segment sealed after every line.
				if err == nil {
					err = w.Flush()
				}
				if cerr := w.Close(ctx); err == nil {
					err = cerr
				}
				if err == nil {
					err = rs.sealAt(w.Rows())
				}
				if err == nil {
					err = seg.Publish(nil)
				}
				seg.Close() // the seals under way end, the lock is let go
				return err
			}
			if err := run("", 40); !errors.Is(err, errCut) {
				t.Fatalf("first run: %v, want the cut", err)
			}
			seg, err := output.OpenSegments(name, output.Zstd, id, false, output.Run{})
			if err != nil {
				t.Fatal(err)
			}
			sealed := seg.Sealed()
			seg.Close()
			if len(sealed) != 5 || sealed[4].LastKey[0] != "35" {
				t.Fatalf("after the cut: %d segments, last %+v; want 5 ending at key 35", len(sealed), sealed[len(sealed)-1])
			}
			if err := run("35", 0); err != nil {
				t.Fatal(err)
			}
			got := decodeZstd(t, name)
			want := wholeRun(t, expr)
			if !bytes.Equal(got, want) {
				t.Errorf("resumed output %d bytes, one run %d:\n%q\n%q", len(got), len(want), got, want)
			}
		})
	}
}

// wholeRun is what one uninterrupted run writes: the rows in id order
// through expr ("" for none).
func wholeRun(t *testing.T, expr string) []byte {
	t.Helper()
	var b bytes.Buffer
	for id := 1; id <= 100; id++ {
		if expr != "" {
			if id%3 != 0 {
				b.WriteString(`{"id":` + strconv.Itoa(id) + "}\n")
			}
			continue
		}
		s := ""
		for range id % 9 {
			s += "é"
		}
		b.WriteString(`{"s": "` + s + `", "id": ` + strconv.Itoa(id) + "}\n")
	}
	return b.Bytes()
}

func decodeZstd(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nopSink takes values and forgets them.
type nopSink struct{ n int }

func (s *nopSink) Begin(wire.Column) error   { return nil }
func (s *nopSink) WriteValue(v []byte) error { s.n++; return nil }
func (s *nopSink) Flush() error              { return nil }

// TestResumeSinkRefusesKeys: a NULL key, or one not after the row before
// (the server says so, or the client sees it: equal texts, or integers out
// of order, ascending or descending, alone or in a row value), stops the
// run at that row, naming it, before its value is handed on.
func TestResumeSinkRefusesKeys(t *testing.T) {
	b := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, x := range s {
			if x != "NULL" {
				out[i] = []byte(x)
			}
		}
		return out
	}
	for _, tc := range []struct {
		kinds []keyKind
		desc  bool
		rows  [][][]byte
		want  string
	}{
		// The server checks the order.
		{nil, false, [][][]byte{b("1", "NULL"), b("NULL", "true")}, "row 2's key is NULL"},
		{nil, false, [][][]byte{b("1", "NULL"), b("1", "false")}, `row 2's key ["1"] is not after the key of the row before it`},
		// The client does.
		{[]keyKind{keyInteger}, false, [][][]byte{b("9"), b("10"), b("10")}, `row 3's key ["10"] is not after`},
		{[]keyKind{keyInteger}, false, [][][]byte{b("9"), b("10"), b("-11")}, `row 3's key ["-11"] is not after`},
		{[]keyKind{keyInteger}, true, [][][]byte{b("10"), b("9"), b("9")}, `row 3's key ["9"] is not after`},
		{[]keyKind{keyInteger}, true, [][][]byte{b("10"), b("9"), b("11")}, `row 3's key ["11"] is not after`},
		{[]keyKind{keyEqual, keyInteger}, false, [][][]byte{b("b", "2"), b("a", "1"), b("a", "1")}, `row 3's key ["a" "1"] is not after`},
		{[]keyKind{keyEqual, keyInteger}, false, [][][]byte{b("a", "1"), b("a", "2"), b("a", "0")}, `row 3's key ["a" "0"] is not after`},
		{[]keyKind{keyEqual}, false, [][][]byte{b("x"), b("y"), b("NULL")}, "row 3's key is NULL"},
	} {
		inner := &nopSink{}
		rs := newResumeSink(inner, nil, nil, nil, len(tc.rows[0])-map[bool]int{true: 1, false: 0}[tc.kinds == nil])
		rs.kinds, rs.desc = tc.kinds, tc.desc
		var err error
		for _, r := range tc.rows {
			if err = rs.WriteRow([]byte("{}"), r); err != nil {
				break
			}
		}
		var ke *resumeKeyError
		if want := len(tc.rows) - 1; !errors.As(err, &ke) || !strings.Contains(err.Error(), tc.want) || inner.n != want {
			t.Errorf("%q: %v after %d values; want %q after %d", tc.rows, err, inner.n, tc.want, want)
		}
	}
}

// trustConfig is the connection to srv as its trust role, parsed with
// nothing of this machine's environment: no PG* variables, no files.
func trustConfig(t *testing.T, srv *pgtest.Server) *wire.Config {
	t.Helper()
	cfg, err := wire.ParseConfig(srv.ConnString(pgtest.RoleTrust, false), wire.Environment{
		LookupEnv: func(string) (string, bool) { return "", false },
		Username:  func() (string, error) { return "nobody", nil },
		HomeDir:   func() (string, error) { return t.TempDir(), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
