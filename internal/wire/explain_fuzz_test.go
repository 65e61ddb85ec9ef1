package wire

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzPlanRows reads any text as EXPLAIN (FORMAT JSON)'s output: the
// estimate is the top plan's "Plan Rows" as encoding/json reads it, or a
// *ProtocolError that quotes a bounded part of the text. An estimate out
// of range (negative, beyond int64) is clamped to [0, 2^62].
func FuzzPlanRows(f *testing.F) {
	for _, s := range []string{
		`[{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 1234, "Plans": [{"Plan Rows": 5}]}}]` + "\n",
		`[{"Plan": {"Plan Rows": 1e300}}]`, `[{"Plan": {"Plan Rows": -1}}]`, `[{"Plan": {}}]`, `[]`, `{}`, ``, `[{"Plan": {"Plan Rows": "7"}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		n, err := planRows(text)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("planRows: %v (%T), want a *ProtocolError", err, err)
			}
			if len(err.Error()) > 4096 {
				t.Fatalf("the error quotes %d bytes", len(err.Error()))
			}
			return
		}
		var out []struct {
			Plan struct {
				Rows float64 `json:"Plan Rows"`
			} `json:"Plan"`
		}
		if json.Unmarshal(text, &out) != nil || len(out) == 0 {
			t.Fatalf("planRows(%q) = %d for text encoding/json does not read", text, n)
		}
		if want := int64(min(max(out[0].Plan.Rows, 0), 1<<62)); n != want {
			t.Fatalf("planRows(%q) = %d, want %d: the estimate, clamped to [0, 2^62]", text, n, want)
		}
	})
}
