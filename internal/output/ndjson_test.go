package output_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/output"
)

// recorder keeps every Write call separately.
type recorder struct{ writes [][]byte }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (r *recorder) all() string {
	var b bytes.Buffer
	for _, w := range r.writes {
		b.Write(w)
	}
	return b.String()
}

func TestNDJSONValues(t *testing.T) {
	tests := []struct {
		name    string
		oneLine bool
		values  [][]byte
		want    string
	}{
		{"objects", false, [][]byte{[]byte(`{"a":1}`), []byte(`[1,2]`)}, "{\"a\":1}\n[1,2]\n"},
		{"sql null", false, [][]byte{nil, []byte(`null`)}, "null\nnull\n"},
		{"empty json string", false, [][]byte{[]byte(`""`)}, "\"\"\n"},
		{"one line", true, [][]byte{[]byte("{\n\t\"a\": [1,\r\n2]\n}")}, "{  \"a\": [1,  2] }\n"},
		{"escapes untouched", true, [][]byte{[]byte(`{"s":"a\nb\tc"}`)}, "{\"s\":\"a\\nb\\tc\"}\n"},
		{"without one line raw bytes stay", false, [][]byte{[]byte("[1,\n2]")}, "[1,\n2]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec recorder
			w := output.NewNDJSON(&rec, output.Options{OneLine: tt.oneLine})
			for _, v := range tt.values {
				if err := w.WriteValue(v); err != nil {
					t.Fatal(err)
				}
			}
			if len(rec.writes) != 0 {
				t.Errorf("wrote %d times before Flush, want buffered", len(rec.writes))
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := rec.all(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if w.Rows() != int64(len(tt.values)) || w.Bytes() != int64(len(tt.want)) {
				t.Errorf("Rows, Bytes = %d, %d; want %d, %d", w.Rows(), w.Bytes(), len(tt.values), len(tt.want))
			}
		})
	}
}

func TestNDJSONCopiesValue(t *testing.T) {
	var rec recorder
	w := output.NewNDJSON(&rec, output.Options{})
	v := []byte(`{"a":1}`)
	if err := w.WriteValue(v); err != nil {
		t.Fatal(err)
	}
	copy(v, "XXXXXXX")
	_ = w.Flush()
	if got := rec.all(); got != "{\"a\":1}\n" {
		t.Errorf("value reused by caller changed output: %q", got)
	}
}

func TestNDJSONWritesWholeLines(t *testing.T) {
	var rec recorder
	w := output.NewNDJSON(&rec, output.Options{BufferSize: 64, ChunkRows: 1 << 20})
	var want strings.Builder
	for i := 0; i < 200; i++ {
		v := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", i%30))
		want.WriteString(v + "\n")
		if err := w.WriteValue([]byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, p := range rec.writes {
		if len(p) > 64 {
			t.Errorf("write %d is %d bytes, larger than the buffer", i, len(p))
		}
		if p[len(p)-1] != '\n' {
			t.Errorf("write %d does not end a line: %q", i, p)
		}
	}
	if rec.all() != want.String() {
		t.Error("output differs from the lines written")
	}
}

func TestNDJSONChunkRows(t *testing.T) {
	var rec recorder
	w := output.NewNDJSON(&rec, output.Options{ChunkRows: 3})
	for i := 0; i < 7; i++ {
		if err := w.WriteValue([]byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.writes) != 2 || string(rec.writes[0]) != "1\n1\n1\n" {
		t.Fatalf("writes = %q, want two of three rows", rec.writes)
	}
}

func TestNDJSONLargeValue(t *testing.T) {
	var rec recorder
	w := output.NewNDJSON(&rec, output.Options{BufferSize: 16, OneLine: true})
	big := "[" + strings.Repeat("1,\n", 20) + "1]"
	for _, v := range []string{"1", big, "2"} {
		if err := w.WriteValue([]byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Flush()
	want := "1\n" + strings.ReplaceAll(big, "\n", " ") + "\n2\n"
	if got := rec.all(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !strings.HasSuffix(string(rec.writes[0]), "\n") {
		t.Errorf("lines before a large value were not flushed first: %q", rec.writes[0])
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct {
	n   int
	got bytes.Buffer
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.got.Len()+len(p) > f.n {
		return 0, f.err
	}
	f.got.Write(p)
	return len(p), nil
}

func TestNDJSONErrorsKeepWholeLinesAndStick(t *testing.T) {
	dst := &failAfter{n: 40, err: syscall.ENOSPC}
	w := output.NewNDJSON(dst, output.Options{BufferSize: 32})
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = w.WriteValue([]byte(fmt.Sprintf(`{"row":%d}`, i)))
	}
	var we *output.WriteError
	if !errors.As(err, &we) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error = %v, want a WriteError wrapping ENOSPC", err)
	}
	if s := dst.got.String(); s != "" && !strings.HasSuffix(s, "\n") {
		t.Errorf("destination holds a partial line: %q", s)
	}
	if err2 := w.WriteValue([]byte("1")); !errors.Is(err2, syscall.ENOSPC) {
		t.Errorf("write after failure = %v, want the same error", err2)
	}
	if err2 := w.Flush(); !errors.Is(err2, syscall.ENOSPC) {
		t.Errorf("flush after failure = %v, want the same error", err2)
	}
}

func TestIsBrokenPipe(t *testing.T) {
	if !output.IsBrokenPipe(&output.WriteError{Err: fmt.Errorf("write: %w", syscall.EPIPE)}) {
		t.Error("EPIPE not recognised")
	}
	if output.IsBrokenPipe(&output.WriteError{Err: io.ErrShortWrite}) {
		t.Error("short write taken for EPIPE")
	}
}

func BenchmarkNDJSONWriteValue(b *testing.B) {
	w := output.NewNDJSON(io.Discard, output.Options{})
	v := []byte(`{"id":123,"name":"user-123","email":"user-123@example.com","active":true,"age":42,"tags":["a","b"]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(v) + 1))
	for b.Loop() {
		if err := w.WriteValue(v); err != nil {
			b.Fatal(err)
		}
	}
}
