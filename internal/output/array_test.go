package output_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fraiseql/fraise/internal/output"
)

// TestArrayFormat: with Array, the values written one by one, as lines, or
// larger than the buffer, make one valid JSON array holding them in order,
// "[]" when there are none; synchronous and asynchronous alike.
func TestArrayFormat(t *testing.T) {
	big := `"` + strings.Repeat("b", 200) + `"`
	for _, tc := range []struct {
		name  string
		write func(w *output.NDJSON) error
		want  []string
	}{
		{"none", func(*output.NDJSON) error { return nil }, nil},
		{"values", func(w *output.NDJSON) error {
			for _, v := range []string{`{"a":1}`, `2`, `"x"`} {
				if err := w.WriteValue([]byte(v)); err != nil {
					return err
				}
			}
			return w.WriteValue(nil)
		}, []string{`{"a":1}`, `2`, `"x"`, `null`}},
		{"lines", func(w *output.NDJSON) error {
			if err := w.WriteLines([]byte("1\n{\"b\":[2]}\n"), 2); err != nil {
				return err
			}
			return w.WriteLines([]byte("3\n"), 1)
		}, []string{`1`, `{"b":[2]}`, `3`}},
		{"large values", func(w *output.NDJSON) error {
			for range 3 {
				if err := w.WriteValue([]byte(big)); err != nil {
					return err
				}
				if err := w.WriteValue([]byte(`0`)); err != nil {
					return err
				}
			}
			return nil
		}, []string{big, `0`, big, `0`, big, `0`}},
	} {
		for _, async := range []bool{false, true} {
			name := tc.name
			if async {
				name += "/async"
			}
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				opts := output.Options{Array: true, BufferSize: 64, ChunkRows: 2}
				w := output.NewNDJSON(&buf, opts)
				if async {
					w = output.NewAsyncNDJSON(context.Background(), &buf, opts)
				}
				if err := tc.write(w); err != nil {
					t.Fatal(err)
				}
				if err := w.Finish(); err != nil {
					t.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				var got []json.RawMessage
				if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
					t.Fatalf("not a JSON array: %v\n%s", err, buf.Bytes())
				}
				if len(got) != len(tc.want) {
					t.Fatalf("%d elements, want %d:\n%s", len(got), len(tc.want), buf.Bytes())
				}
				for i := range got {
					if string(got[i]) != tc.want[i] {
						t.Errorf("element %d = %s, want %s", i, got[i], tc.want[i])
					}
				}
				if !bytes.HasSuffix(buf.Bytes(), []byte("]\n")) {
					t.Errorf("output does not end with a newline after ]: %q", buf.Bytes())
				}
				if len(tc.want) == 0 && buf.String() != "[]\n" {
					t.Errorf("empty array written as %q, want \"[]\\n\"", buf.String())
				}
			})
		}
	}
}
