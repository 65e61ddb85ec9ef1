package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/itchyny/gojq"
)

// stdDecode decodes text with encoding/json and UseNumber: the reference.
func stdDecode(text string) (any, error) {
	if !json.Valid([]byte(text)) {
		return nil, errors.New("not valid JSON")
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// encodeForTest encodes v as fraise writes outputs.
func encodeForTest(t testing.TB, v any) string {
	t.Helper()
	var e encoder
	b, err := e.appendValue(nil, v)
	if err != nil {
		t.Fatalf("encode %#v: %v", v, err)
	}
	return string(b)
}

var decodeValid = []string{
	`null`, `true`, `false`, `0`, `-1`, `42`, ` 7 `, "\t[1,\n2]\r\n",
	`123456789012345678`, `1234567890123456789`, `-123456789012345678`,
	`123456789012345678901234567890`, `9007199254740993`, `-0`, `-0.0`, `1.10`, `1e40`, `1E+2`, `0.1e-5`, `2.5E-3`,
	`""`, `"a"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9\u20AC"`, `"\ud83c\udf53"`, `"\ud83c"`, `"\udf53x"`, `"\ud83cx\u0041"`,
	`"Zoë 日本語 🍓"`, `"\u0000"`, `"a\u005cb"`,
	`[]`, `{}`, `[[],[{}]]`, `{"a":1,"a":2}`, `{"": ""}`, `{"k\"ey": [1, "2", {"x": null}]}`,
	`{"id": 1, "tags": ["a", "b"], "user": {"name": "Zoë", "geo": [47.37100000000000000000, 8.54]}}`,
}

var decodeInvalid = []string{
	``, ` `, `nul`, `truth`, `[1,]`, `[1 2]`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,}`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`,
	`+1`, `"abc`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\nb\"", "\"\x01\"", `[`, `{`, `{"a":1`, `1 2`, `[1]]`, `"a"x`, `NaN`, `Infinity`,
}

// TestDecodeMatchesEncodingJSON checks the decoder against encoding/json:
// the same values (compared through the encoder) and the same verdicts.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, text := range decodeValid {
		want, err := stdDecode(text)
		if err != nil {
			t.Fatalf("reference rejects %q: %v", text, err)
		}
		got, err := DecodeJSON(text)
		if err != nil {
			t.Errorf("DecodeJSON(%q): %v", text, err)
			continue
		}
		if g, w := encodeForTest(t, got), encodeForTest(t, want); g != w {
			t.Errorf("DecodeJSON(%q) encodes as %s, want %s", text, g, w)
		}
	}
	for _, text := range decodeInvalid {
		if _, err := stdDecode(text); err == nil {
			t.Fatalf("reference accepts %q", text)
		}
		v, err := DecodeJSON(text)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("DecodeJSON(%q) = %#v, %v; want a *SyntaxError", text, v, err)
		} else if se.Offset < 0 || se.Offset > len(text) {
			t.Errorf("DecodeJSON(%q): offset %d out of range", text, se.Offset)
		}
	}
}

// TestDecodeNumbers checks which numbers become int (exact and printing the
// same) and which keep their text.
func TestDecodeNumbers(t *testing.T) {
	for _, tc := range []struct {
		text string
		want any
	}{
		{`0`, 0}, {`-7`, -7}, {`999999999999999999`, 999999999999999999}, {`-999999999999999999`, -999999999999999999},
		{`1000000000000000000`, json.Number("1000000000000000000")},
		{`-0`, json.Number("-0")}, {`1.10`, json.Number("1.10")}, {`1e2`, json.Number("1e2")},
		{`123456789012345678901234567890`, json.Number("123456789012345678901234567890")},
	} {
		got, err := DecodeJSON(tc.text)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DecodeJSON(%s) = %#v, %v; want %#v", tc.text, got, err, tc.want)
		}
	}
}

// TestDecodeReplacesInvalidUTF8 checks that bytes that are not UTF-8 reach
// the expression as U+FFFD, one per byte, as jq and encoding/json read
// them, in values and keys, with and without escapes.
func TestDecodeReplacesInvalidUTF8(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"\"a\xffb\xc3\"", "a\ufffdb\ufffd"},
		{"\"\\n\xe2\x82\"", "\n\ufffd\ufffd"},
		{"\"ok é\"", "ok é"},
	} {
		got, err := DecodeJSON(tc.text)
		if err != nil || got != tc.want {
			t.Errorf("DecodeJSON(%q) = %q, %v; want %q", tc.text, got, err, tc.want)
		}
	}
	got, err := DecodeJSON("{\"k\xff\":1}")
	if m, ok := got.(map[string]any); err != nil || !ok || m["k\ufffd"] != 1 {
		t.Errorf("key: %#v, %v", got, err)
	}
}

// TestDecodeDepthLimit checks that hostile nesting is an error, not a crash,
// when the value is built, and that a skipped part is checked without
// recursion and without the limit (a server narrowing the row would drop
// it: see skipContainer), its syntax still checked.
func TestDecodeDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	var de *DepthError
	if _, err := DecodeJSON(deep); !errors.As(err, &de) || de.Offset != maxDepth || de.Limit != maxDepth {
		t.Errorf("nesting beyond the limit: %v, want a *DepthError at byte %d", err, maxDepth)
	}
	var d decoder
	partial := &demand{}
	partial.field("x")
	hostile := strings.Repeat(`{"a":[`, 1_000_000) + "1" + strings.Repeat("]}", 1_000_000)
	for _, skipped := range []string{deep, hostile, `[{"a":[1,{}]},[[],{"b":{"c":null}}]]`} {
		if got, err := d.decode([]byte(`{"skipped":`+skipped+`,"x":2}`), partial); err != nil || !reflect.DeepEqual(got, map[string]any{"x": 2}) {
			t.Errorf("skipped nesting %.20q…: %v, %v; want {x: 2}", skipped, got, err)
		}
	}
	for _, bad := range []string{`[[1,]]`, `[{"a" 1}]`, `{"a":[}`, `[[[`, `[{1:2}]`, `[1 2]`, `{"a":1]`} {
		if _, err := d.decode([]byte(`{"skipped":`+bad+`,"x":2}`), partial); err == nil || errors.As(err, &de) {
			t.Errorf("skipped %q: %v, want a syntax error", bad, err)
		}
	}
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := DecodeJSON(ok); err != nil {
		t.Errorf("nesting at the limit: %v", err)
	}
}

// FuzzDecode checks the decoder against encoding/json on any input, built
// in full and under a partial demand (which must agree on validity).
func FuzzDecode(f *testing.F) {
	for _, s := range append(decodeValid, decodeInvalid...) {
		f.Add(s)
	}
	dem := &demand{fields: map[string]*demand{"a": {}, "b": {all: true}}}
	dem.fields["a"].fields = map[string]*demand{"c": {}}
	f.Fuzz(func(t *testing.T, text string) {
		want, werr := stdDecode(text)
		got, gerr := DecodeJSON(text)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json says %v, DecodeJSON says %v", text, werr, gerr)
		}
		if werr == nil {
			// Invalid UTF-8 becomes U+FFFD in encoding/json at once and
			// "\ufffd" in the encoder later: compare the values.
			g, w := encodeForTest(t, got), encodeForTest(t, want)
			gv, _ := stdDecode(g)
			if g != w && encodeForTest(t, gv) != w {
				t.Fatalf("%q: encodes as %s, want %s", text, g, w)
			}
		}
		var d decoder
		_, perr := d.decode([]byte(text), dem)
		if (perr == nil) != (werr == nil) {
			t.Fatalf("%q: encoding/json says %v, a partial decode says %v", text, werr, perr)
		}
	})
}

// TestDecodeReusesContainersCorrectly: one decoder reused over rows of
// changing shapes (arrays and objects growing, shrinking, emptying, nested,
// with partial and whole demands) gives, right after each decode, the same
// value as a fresh decode.
func TestDecodeReusesContainersCorrectly(t *testing.T) {
	rows := []string{
		`{"id": 1, "tags": ["a", "b", "c"], "u": {"n": "x", "g": [1, 2]}}`,
		`{"id": 2, "tags": ["d"], "u": {"n": "y", "g": []}}`,
		`{"id": 3, "tags": [], "u": {}}`,
		`{"id": 4, "tags": ["e", "f", "g", "h", "i", "j"], "u": {"n": "z", "g": [3, [4, 5], {"k": 6}], "extra": {"deep": {"deeper": ["x"]}}}}`,
		`[1, [2, [3, [4]]], {"a": [5, 6]}]`,
		`{}`, `[]`, `"s"`, `7`, `null`,
		`{"id": 1, "tags": ["a", "b", "c"], "u": {"n": "x", "g": [1, 2]}}`,
		`{"k\"ey": "esc\u00e9", "tags": ["\ud83c\udf53"]}`,
		manyScalars(300), manyScalars(5), manyScalars(1000),
	}
	for _, expr := range []string{".", "{id, tags}", ".u.g", ".tags"} {
		f, err := Compile(expr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var d decoder
		for round := range 2 {
			for _, row := range rows {
				got, err := d.decode([]byte(row), f.dem)
				if err != nil {
					t.Fatalf("%s: decode %s: %v", expr, row, err)
				}
				var fresh decoder
				want, err := fresh.decodeString(row, f.dem)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := encodeForTest(t, got), encodeForTest(t, want); g != w {
					t.Errorf("%s, round %d, row %s: reused decoder gives %s, a fresh one %s", expr, round, row, g, w)
				}
			}
		}
	}
}

// manyScalars is a row of n strings, ints above 255 and other numbers,
// so that the decoder's slabs of boxed scalars grow in the middle of it.
func manyScalars(n int) string {
	var b strings.Builder
	b.WriteString(`{"tags": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"s%d", %d, %d.5, {"n": %d}`, i, 1000+i, i, -i-300)
	}
	b.WriteString(`], "id": 12345678901234567890}`)
	return b.String()
}

// TestErrorsOutliveTheRow: a row's error is reported after later rows have
// been decoded over the memory its value lived in. frozen keeps the
// message as it was; the gojq error alone would change with the memory.
// own copies a halt_error value out of it likewise.
func TestErrorsOutliveTheRow(t *testing.T) {
	q, err := gojq.Parse(`error({bad: .name})`)
	if err != nil {
		t.Fatal(err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		t.Fatal(err)
	}
	var d decoder
	row := []byte(`{"name": "first row", "n": 1000, "x": 1.5}`)
	v, err := d.decode(row, nil)
	if err != nil {
		t.Fatal(err)
	}
	it := code.Run(v)
	out, _ := it.Next()
	gerr, ok := out.(error)
	if !ok {
		t.Fatalf("no error from the expression: %v", out)
	}
	before := gerr.Error()
	fr := frozen(gerr)
	held := own(v)
	// The next row, decoded over the same memory.
	copy(row, `{"name": "XXXXX XXX", "n": 2000, "x": 2.5}`)
	if _, err := d.decode(row, nil); err != nil {
		t.Fatal(err)
	}
	if fr.Error() != before {
		t.Errorf("frozen message changed: %q, was %q", fr.Error(), before)
	}
	if !strings.Contains(before, "first row") {
		t.Errorf("message %q does not quote the row", before)
	}
	if gerr.Error() == before {
		t.Log("gojq's error did not change with the memory (it need not); frozen is a safeguard")
	}
	if got := encodeForTest(t, held); got != `{"n":1000,"name":"first row","x":1.5}` {
		t.Errorf("own copy = %s, want the first row", got)
	}
}

// TestHugeRowIsNotHeldByTheDecoder: once a huge row is done, nothing in
// the decoder (string slab, scratch space, containers the next rows do
// not take) keeps its bytes reachable, whatever shape it had.
func TestHugeRowIsNotHeldByTheDecoder(t *testing.T) {
	pad := strings.Repeat("x", dropRowBytes)
	for _, tc := range []struct{ name, row string }{
		{"string", `"` + pad + `"`},
		{"object", `{"a": {"b": "` + pad + `"}, "c": "d"}`},
		{"array", `[["` + pad + `"], "e"]`},
		{"number", `[` + strings.Repeat("1.5, ", dropRowBytes/5) + `2.5]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d decoder
			freed := make(chan struct{})
			func() {
				row := []byte(tc.row)
				runtime.AddCleanup(&row[0], func(ch chan struct{}) { close(ch) }, freed)
				if _, err := d.decode(row, nil); err != nil {
					t.Fatal(err)
				}
			}()
			// Later rows take no string, no map and no slice.
			for range 3 {
				if _, err := d.decode([]byte(`12345`), nil); err != nil {
					t.Fatal(err)
				}
			}
			for range 10 {
				runtime.GC()
				select {
				case <-freed:
					runtime.KeepAlive(&d)
					return
				case <-time.After(100 * time.Millisecond): // cleanups run on their own goroutine
				}
			}
			t.Errorf("the %s row is still reachable after later rows", tc.name)
			runtime.KeepAlive(&d)
		})
	}
}
