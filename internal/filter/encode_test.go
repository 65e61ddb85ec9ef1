package filter

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/itchyny/gojq"
)

// encodeCases are values gojq can emit, with the edge cases of its encoder.
func encodeCases() []any {
	big1, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)
	return []any{
		nil, true, false, 0, -1, math.MaxInt, math.MinInt, big1,
		0.0, math.Copysign(0, -1), 1.5, 1e-7, 1e-6, 123456789.125, 1e20, 1e21, -1e21, 1.7976931348623157e308,
		math.NaN(), math.Inf(1), math.Inf(-1), 5e-324,
		json.Number("1.10"), json.Number("-0"), json.Number("1e40"),
		"", "plain", `quote " backslash \ slash /`, "\b\f\n\r\t\x00\x01\x1f\x7f", "<>&", "\u2028\u2029",
		"Zoë 日本語 🍓", "bad \xff utf8 \xc3", "\xed\xa0\x80",
		[]any{}, []any{1, "a", nil, []any{true}},
		map[string]any{}, map[string]any{"b": 1, "a": map[string]any{"z": []any{}, "y": map[string]any{"k": "v"}}, "": 0, "é": 2, "B": 3},
	}
}

// TestEncodeMatchesGojq checks the encoder byte for byte against
// gojq.Marshal, which writes what jq writes.
func TestEncodeMatchesGojq(t *testing.T) {
	var e encoder
	for _, v := range encodeCases() {
		want, err := gojq.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.appendValue(nil, v)
		if err != nil || string(got) != string(want) {
			t.Errorf("appendValue(%#v) = %s, %v; want %s", v, got, err, want)
		}
	}
}

// TestEncodeRejectsForeignTypes checks that a type gojq never emits is an
// error, not a panic or a silent null.
func TestEncodeRejectsForeignTypes(t *testing.T) {
	var e encoder
	for _, v := range []any{int64(1), float32(1), struct{}{}, map[string]int{}} {
		if b, err := e.appendValue(nil, v); err == nil {
			t.Errorf("appendValue(%T) = %s, want an error", v, b)
		}
	}
}

// FuzzEncode checks the encoder against gojq.Marshal on decoded JSON.
func FuzzEncode(f *testing.F) {
	for _, s := range decodeValid {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := DecodeJSON(text)
		if err != nil {
			return
		}
		want, _ := gojq.Marshal(v)
		var e encoder
		got, err := e.appendValue(nil, v)
		if err != nil || string(got) != string(want) {
			t.Fatalf("%q: appendValue = %s, %v; gojq.Marshal = %s", text, got, err, want)
		}
	})
}

// TestEncodeDepthLimit: a value an expression builds deeper than a row may
// be is refused as the row's error, not written by a recursion that would
// overflow the stack; up to the limit it is written.
func TestEncodeDepthLimit(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		fails      bool
	}{
		{"arrays at the limit", `reduce range(9999) as $i ([]; [.])`, false},
		{"arrays past the limit", `reduce range(10000) as $i ([]; [.])`, true},
		{"objects past the limit", `reduce range(10000) as $i ({}; {a: .})`, true},
		{"a million arrays", `reduce range(1000000) as $i (null; [.])`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, _, err := runFilter(t, tc.expr, Options{}, []string{`null`}, Fail, 1)
			if tc.fails {
				var re *RowError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), "nested more than 10000 levels deep, too deep to write") {
					t.Errorf("error %v (%T), want a *RowError saying the value is too deep to write", err, err)
				}
				return
			}
			if err != nil || len(lines) != 1 || !strings.HasPrefix(lines[0], "[[[") {
				t.Errorf("lines %.40q, error %v; want the value written", lines, err)
			}
		})
	}
}
