package filter

import (
	"context"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// skipMessages runs expr over rows through a Skip pipeline and returns
// the messages of the rows it skipped, as the report receives them.
func skipMessages(t *testing.T, expr string, rows ...string) []string {
	t.Helper()
	f, err := Compile(expr, Options{})
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var msgs []string
	p := NewPipeline(context.Background(), f, &bufferLines{}, PipelineOptions{Workers: 1, MaxRows: 8, Policy: Skip,
		OnSkip: func(_ int64, msg string) { msgs = append(msgs, msg) }})
	for _, r := range rows {
		if err := p.Write([]byte(r)); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return msgs
}

// TestErrorKindGojqMessages runs gojq (through the pipeline, as fraise
// does) on rows it fails on, checks the message it gives (so that a gojq
// whose messages change fails here), and the message's kind and values:
// each place gojq quotes a value (gojq's error.go), each form of value
// (numbers, strings with quotes and parentheses, arrays, objects, cut
// short with " ...", true, null) and the wrapped errors of Go's libraries.
func TestErrorKindGojqMessages(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	for _, tc := range []struct {
		expr, row, msg, kind string
		values               []string
	}{
		{`.a + "x"`, `{"a":21}`, `cannot add: number (21) and string ("x")`,
			`cannot add: number (…) and string (…)`, []string{`21`, `"x"`}},
		{`.a + 1`, `{"a":"x\"y) and (z"}`, `cannot add: string ("x\"y) and (z") and number (1)`,
			`cannot add: string (…) and number (…)`, []string{`"x\"y) and (z"`, `1`}},
		{`.a + 1`, `{"a":"` + strings.Repeat("a", 40) + `"}`, `cannot add: string ("aaaaaaaaaaaaaaaaaaaaaaaa ...") and number (1)`,
			`cannot add: string (…) and number (…)`, []string{`"aaaaaaaaaaaaaaaaaaaaaaaa ..."`, `1`}},
		// Cut inside an escape, and after an escaped quote.
		{`.a + 1`, `{"a":"aaaaaaaaaaaaaaaaaaaaaaa\\bbbbbbbb"}`, `cannot add: string ("aaaaaaaaaaaaaaaaaaaaaaa\ ...") and number (1)`,
			`cannot add: string (…) and number (…)`, []string{`"aaaaaaaaaaaaaaaaaaaaaaa\ ..."`, `1`}},
		{`.a + 1`, `{"a":"aaaaaaaaaaaaaaaaaaaaaa\"bbbbbbbb"}`, `cannot add: string ("aaaaaaaaaaaaaaaaaaaaaa\" ...") and number (1)`,
			`cannot add: string (…) and number (…)`, []string{`"aaaaaaaaaaaaaaaaaaaaaa\" ..."`, `1`}},
		{`.a + 1`, `{"a":"tab\tnl\n\u0001)"}`, `cannot add: string ("tab\tnl\n\u0001)") and number (1)`,
			`cannot add: string (…) and number (…)`, []string{`"tab\tnl\n\u0001)"`, `1`}},
		{`.a + 1`, `{"a":"` + strings.Repeat("é", 20) + `"}`, `cannot add: string ("éééééééééééé ...") and number (1)`,
			`cannot add: string (…) and number (…)`, []string{`"éééééééééééé ..."`, `1`}},
		{`.a + 1`, `{"a":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}`, `cannot add: array ([1,2,3,4,5,6,7,8,9,10,11, ...]) and number (1)`,
			`cannot add: array (…) and number (…)`, []string{`[1,2,3,4,5,6,7,8,9,10,11, ...]`, `1`}},
		// Cut inside a nested array's string: neither closes.
		{`.a + 1`, `{"a":[["` + strings.Repeat("a", 40) + `"]]}`, `cannot add: array ([["aaaaaaaaaaaaaaaaaaaaaa ...]) and number (1)`,
			`cannot add: array (…) and number (…)`, []string{`[["aaaaaaaaaaaaaaaaaaaaaa ...]`, `1`}},
		{`.a + 1`, `{"a":{"k":"v)","z":[1,{"q":2}]}}`, `cannot add: object ({"k":"v)","z":[1,{"q":2}]}) and number (1)`,
			`cannot add: object (…) and number (…)`, []string{`{"k":"v)","z":[1,{"q":2}]}`, `1`}},
		{`.a + 1`, `{"a":{"` + strings.Repeat("k", 40) + `":1}}`, `cannot add: object ({"kkkkkkkkkkkkkkkkkkkkkkk ...}) and number (1)`,
			`cannot add: object (…) and number (…)`, []string{`{"kkkkkkkkkkkkkkkkkkkkkkk ...}`, `1`}},
		{`.a + 1`, `{"a":true}`, `cannot add: boolean (true) and number (1)`,
			`cannot add: boolean (…) and number (…)`, []string{`true`, `1`}},
		{`.[]`, `123456789012345678901234567890123456789`, `cannot iterate over: number (12345678901234567890123456 ...)`,
			`cannot iterate over: number (…)`, []string{`12345678901234567890123456 ...`}},
		{`.a | ascii_downcase`, `{"a":-1.5e-7}`, `ascii_downcase cannot be applied to: number (-1.5e-7)`,
			`ascii_downcase cannot be applied to: number (…)`, []string{`-1.5e-7`}},
		{`.a | ascii_downcase`, `{"a":{}}`, `ascii_downcase cannot be applied to: object ({})`,
			`ascii_downcase cannot be applied to: object (…)`, []string{`{}`}},
		{`. / 0`, `5`, `cannot divide number (5) by: number (0)`, `cannot divide number (…) by: number (…)`, []string{`5`, `0`}},
		{`-.a`, `{"a":"x"}`, `cannot negate: string ("x")`, `cannot negate: string (…)`, []string{`"x"`}},
		{`.a.b`, `{"a":[null,false,"x"]}`, `expected an object but got: array ([null,false,"x"])`,
			`expected an object but got: array (…)`, []string{`[null,false,"x"]`}},
		{`.a | .[.]`, `{"a":{"b":1}}`, `expected "start" and "end" for slicing but got: object ({"b":1})`,
			`expected "start" and "end" for slicing but got: object (…)`, []string{`{"b":1}`}},
		{`.a | @csv`, `{"a":[[1]]}`, `@csv cannot format an array including: array ([1])`,
			`@csv cannot format an array including: array (…)`, []string{`[1]`}},
		{`path(.a | tostring)`, `{"a":[1]}`, `invalid path against: string ("[1]")`, `invalid path against: string (…)`, []string{`"[1]"`}},
		// A function's arguments.
		{`.a | ltrimstr(.)`, `{"a":{"x":"a; b) c"}}`, `ltrimstr({"x":"a; b) c"}) cannot be applied to: object ({"x":"a; b) c"})`,
			`ltrimstr({…}) cannot be applied to: object (…)`, []string{`{"x":"a; b) c"}`, `{"x":"a; b) c"}`}},
		{`.a | sub(1; 2)`, `{"a":"s"}`, `match(1; null) cannot be applied to: string ("s")`,
			`match(…; …) cannot be applied to: string (…)`, []string{`1`, `null`, `"s"`}},
		// A value before a wrapped error: gojq's, or a Go library's.
		{`.a | tonumber`, `{"a":"user-01"}`, `tonumber cannot be applied to "user-01": invalid number`,
			`tonumber cannot be applied to "…": invalid number`, []string{`"user-01"`}},
		{`setpath([.a]; 1)`, `{"a":{"b":1}}`, `setpath([{"b":1}]; 1) cannot be applied to {"a":{"b":1}}: expected an array but got: object ({"a":{"b":1}})`,
			`setpath([…]; …) cannot be applied to {…}: expected an array but got: object (…)`, []string{`[{"b":1}]`, `1`, `{"a":{"b":1}}`, `{"a":{"b":1}}`}},
		{`.a | .[1e300] = 1`, `{"a":[1]}`, `setpath([1e+300]; 1) cannot be applied to [1]: array index too large: 9223372036854775807`,
			`setpath([…]; …) cannot be applied to […]: array index too large: …`, []string{`[1e+300]`, `1`, `[1]`, `9223372036854775807`}},
		{`.a | fromjson`, `{"a":"{bad"}`, `fromjson cannot be applied to "{bad": invalid character 'b' looking for beginning of object key string`,
			`fromjson cannot be applied to "…": invalid character '…' looking for beginning of object key string`, []string{`"{bad"`, `'b'`}},
		{`.a | fromjson`, `{"a":"\u0001"}`, `fromjson cannot be applied to "\u0001": invalid character '\x01' looking for beginning of value`,
			`fromjson cannot be applied to "…": invalid character '…' looking for beginning of value`, []string{`"\u0001"`, `'\x01'`}},
		{`.a | strptime("%Y")`, `{"a":"abc"}`, `strptime("%Y") cannot be applied to "abc": failed to parse "abc" with "%Y": cannot parse "%Y"`,
			`strptime("…") cannot be applied to "…": failed to parse "…" with "…": cannot parse "…"`, []string{`"%Y"`, `"abc"`, `"abc"`, `"%Y"`, `"%Y"`}},
		{`.a | todate`, `{"a":1e300}`, `strftime("%Y-%m-%dT%H:%M:%SZ") cannot be applied to 1e300: number of seconds is out of range`,
			`strftime("…") cannot be applied to …: number of seconds is out of range`, []string{`"%Y-%m-%dT%H:%M:%SZ"`, `1e300`}},
		{`.a | mktime`, `{"a":["a"]}`, `mktime cannot be applied to ["a"]: expected an array of 8 numbers`,
			`mktime cannot be applied to […]: expected an array of 8 numbers`, []string{`["a"]`}},
		{`.a | @base64d`, `{"a":"!!!!"}`, `@base64d cannot be applied to "!!!!": illegal base64 data at input byte 0`,
			`@base64d cannot be applied to "…": illegal base64 data at input byte …`, []string{`"!!!!"`, `0`}},
		{`.a | @urid`, `{"a":"%zz"}`, `@urid cannot be applied to "%zz": invalid URL escape "%zz"`,
			`@urid cannot be applied to "…": invalid URL escape "…"`, []string{`"%zz"`, `"%zz"`}},
		// After fixed phrases.
		{`.d as $d | .a | flatten($d)`, `{"a":[1],"d":-1}`, `flatten depth should not be negative: -1`, `flatten depth should not be negative: …`, []string{`-1`}},
		{`.a * 1e100`, `{"a":"ab"}`, `repeat string result too large: "ab" * 1e+100`, `repeat string result too large: "…" * …`, []string{`"ab"`, `1e+100`}},
		// Regular expressions from the row.
		{`.a | test(.)`, `{"a":"x("}`, "invalid regular expression \"x(\": error parsing regexp: missing closing ): `x(`",
			"invalid regular expression \"…\": error parsing regexp: missing closing ): `…`", []string{`"x("`, "`x(`"}},
		{`.a | test("x"; .)`, `{"a":"q"}`, `unsupported regular expression flag: "q"`, `unsupported regular expression flag: "…"`, []string{`"q"`}},
		// error: a value elided, a string (the user's text) kept.
		{`error(.a)`, `{"a":{"x":1}}`, `error: {"x":1}`, `error: {…}`, []string{`{"x":1}`}},
		{`error(.a)`, `{"a":[1,{"b":")"}]}`, `error: [1,{"b":")"}]`, `error: […]`, []string{`[1,{"b":")"}]`}},
		{`error(.a)`, `{"a":5}`, `error: 5`, `error: …`, []string{`5`}},
		{`error(null)`, `1`, `error: null`, `error: …`, []string{`null`}},
		{`error("bad id \(.id)")`, `{"id":5}`, `error: bad id 5`, `error: bad id 5`, nil},
		{`error("number (5)")`, `1`, `error: number (5)`, `error: number (5)`, nil},
		// No value: as it is.
		{`.a | keys`, `{"a":null}`, `keys cannot be applied to: null`, `keys cannot be applied to: null`, nil},
		{`.a[]`, `{"a":null}`, `cannot iterate over: null`, `cannot iterate over: null`, nil},
		// fraise's own: the byte offset.
		{`.`, `{"a":`, `the row is not valid JSON: invalid JSON at byte 5: unexpected end of input`,
			`the row is not valid JSON: invalid JSON at byte …: unexpected end of input`, []string{`5`}},
		{`.`, deep, `the row is JSON nested more than 10000 levels deep (at byte 10000), too deep for --jq`,
			`the row is JSON nested more than 10000 levels deep (at byte …), too deep for --jq`, []string{`10000`}},
	} {
		msgs := skipMessages(t, tc.expr, tc.row)
		if len(msgs) != 1 || msgs[0] != tc.msg {
			t.Errorf("%s on %.40s: messages %q, want %q", tc.expr, tc.row, msgs, tc.msg)
			continue
		}
		kind, values := errorKind(tc.msg)
		if kind != tc.kind || !slices.Equal(values, tc.values) {
			t.Errorf("%s: kind %q, values %q\nwant %q, %q", tc.msg, kind, values, tc.kind, tc.values)
		}
	}
}

// FuzzErrorKind checks that any message gets a kind without a panic, that
// a message with no value elided is its own kind, and that a kind is its
// own kind: grouping twice groups alike.
func FuzzErrorKind(f *testing.F) {
	for _, s := range []string{
		`cannot add: string ("x\"y) and (z") and number (1)`,
		`cannot add: array ([["aaaaaaaaaaaaaaaaaaaaaa ...]) and number (1)`,
		`setpath([{"b":1}]; 1) cannot be applied to {"a":{"b":1}}: expected an array but got: object ({"a":{"b":1}})`,
		`repeat string result too large: "ab" * 1e+100`,
		"invalid regular expression \"x(\": error parsing regexp: missing closing ): `x(`",
		`fromjson cannot be applied to "\u0001": invalid character '\x01' looking for beginning of value`,
		`error: [1,{"b":")"}]`,
		`(at byte 12)`,
		`cannot add: number (`, `x(`, `f(1; `, `error: `, `array index too large: `, ` cannot be applied to `,
		"string (\"", "'", "invalid character '", "`",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		kind, values := errorKind(msg)
		if len(values) == 0 && kind != msg {
			t.Errorf("%q: no value elided, kind %q", msg, kind)
		}
		if again, _ := errorKind(kind); again != kind {
			t.Errorf("%q: kind %q, its kind %q", msg, kind, again)
		}
	})
}

// TestErrorKindDeepWrapping: a message that wraps errors many times over
// has its kind in a loop, not by recursion, whose stack would grow with
// the message (a row's message may be 100 MB: the process died of it);
// the stack is held small here for the test to tell.
func TestErrorKindDeepWrapping(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(16 << 20))
	const depth = 100_000
	msg := strings.Repeat(`f cannot be applied to "x": `, depth) + "invalid number"
	want := strings.Repeat(`f cannot be applied to "…": `, depth) + "invalid number"
	if kind := kindOf(msg); kind != want {
		t.Errorf("kind of %d wrapped errors: %.80q…, want %.80q…", depth, kind, want)
	}
}

// TestErrorKindUnclosedQuotes: a wrapped error's quote that never closes
// is kept as it is, and so are the quotes after it, escaped or not.
func TestErrorKindUnclosedQuotes(t *testing.T) {
	for msg, want := range map[string]string{
		`f cannot be applied to 1: "a\"b\"c`:                      `f cannot be applied to …: "a\"b\"c`,
		`f cannot be applied to 1: "a" "b`:                        `f cannot be applied to …: "…" "b`,
		`f cannot be applied to 1: invalid character '\' x`:       `f cannot be applied to …: invalid character '\' x`,
		`f cannot be applied to 1: ` + strings.Repeat(`"\`, 1000): `f cannot be applied to …: ` + strings.Repeat(`"\`, 1000),
	} {
		if kind := kindOf(msg); kind != want {
			t.Errorf("kind of %.60q: %.60q, want %.60q", msg, kind, want)
		}
	}
}
