package wire

import (
	"bytes"
	"testing"
)

// TestDataRowOneSplitter: the stream's single value and QueryText's
// values come from one splitter, so a one-value row reads the same, and
// fails with the same words, either way.
func TestDataRowOneSplitter(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want []byte
		err  string
	}{
		{"value", []byte{0, 1, 0, 0, 0, 2, '[', ']'}, []byte("[]"), ""},
		{"empty", []byte{0, 1, 0, 0, 0, 0}, []byte{}, ""},
		{"null", []byte{0, 1, 0xff, 0xff, 0xff, 0xff}, nil, ""},
		{"too short", []byte{0}, nil, "protocol violation: malformed DataRow: too short"},
		{"length missing", []byte{0, 1, 0, 0}, nil, "protocol violation: malformed DataRow: value 1 of 1 is missing"},
		{"length past the end", []byte{0, 1, 0, 0, 0, 3, '[', ']'}, nil, "protocol violation: malformed DataRow: value 1 has length 3 with 2 bytes left"},
		{"negative length", []byte{0, 1, 0xff, 0xff, 0xff, 0xfe}, nil, "protocol violation: malformed DataRow: value 1 has length -2 with 0 bytes left"},
		{"trailing bytes", []byte{0, 1, 0, 0, 0, 1, '1', '2'}, nil, "protocol violation: malformed DataRow: 1 bytes after the last value"},
		{"null with bytes", []byte{0, 1, 0xff, 0xff, 0xff, 0xff, 'x'}, nil, "protocol violation: malformed DataRow: 1 bytes after the last value"},
		{"NUL byte", []byte{0, 1, 0, 0, 0, 3, '[', 0, ']'}, nil, "protocol violation: malformed DataRow: value 1 of 1 holds a NUL byte, which text from PostgreSQL never does: another message was spliced into the row (a pooler or proxy in between may have cut it)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			one, err1 := dataRowValue(tc.body)
			all, err2 := dataRowValues(tc.body, nil)
			if tc.err != "" {
				if err1 == nil || err2 == nil || err1.Error() != tc.err || err2.Error() != tc.err {
					t.Fatalf("errors %v and %v, want %q from both", err1, err2, tc.err)
				}
				return
			}
			if err1 != nil || err2 != nil || len(all) != 1 {
				t.Fatalf("dataRowValue: %v; dataRowValues: %d values, %v", err1, len(all), err2)
			}
			for _, v := range [][]byte{one, all[0]} {
				if (v == nil) != (tc.want == nil) || !bytes.Equal(v, tc.want) || cap(v) != len(v) {
					t.Errorf("value %q (nil %v, cap %d), want %q (nil %v), capped", v, v == nil, cap(v), tc.want, tc.want == nil)
				}
			}
		})
	}
}
