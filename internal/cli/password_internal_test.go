package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// endless is a reader that never ends and never has a newline.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'y'
	}
	e.n += len(p)
	return len(p), nil
}

// TestReadFirstLine: the first line, without its newline, whether it was
// complete, and a line over the limit refused without reading on.
func TestReadFirstLine(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		limit    int
		want     string
		complete bool
		err      error
	}{
		{"one line", "pw\n", 16, "pw", true, nil},
		{"more lines", "pw\nurl: x\n", 16, "pw", true, nil},
		{"no newline", "pw", 16, "pw", false, nil},
		{"nothing", "", 16, "", false, nil},
		{"empty first line", "\npw\n", 16, "", true, nil},
		{"line at the limit", strings.Repeat("x", 16) + "\n", 16, strings.Repeat("x", 16), true, nil},
		{"line over the limit", strings.Repeat("x", 17) + "\n", 16, "", false, errLineTooLong},
		{"over the limit, no newline", strings.Repeat("x", 17), 16, "", false, errLineTooLong},
		{"long line past a read", strings.Repeat("x", 5000) + "\n", 5000, strings.Repeat("x", 5000), true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, complete, err := readFirstLine(strings.NewReader(tc.in), tc.limit)
			if string(line) != tc.want || complete != tc.complete || !errors.Is(err, tc.err) {
				t.Errorf("= %q, %v, %v; want %q, %v, %v", line, complete, err, tc.want, tc.complete, tc.err)
			}
		})
	}
	// An output without end is not read past the limit.
	r := &endless{}
	if _, _, err := readFirstLine(r, maxPasswordLine); !errors.Is(err, errLineTooLong) {
		t.Errorf("endless output: %v, want errLineTooLong", err)
	}
	if r.n > maxPasswordLine+8192 {
		t.Errorf("read %d bytes of an endless output, limit %d", r.n, maxPasswordLine)
	}
}

// TestLimitedBuffer keeps the first bytes and swallows the rest.
func TestLimitedBuffer(t *testing.T) {
	var b bytes.Buffer
	w := &limitedBuffer{b: &b, n: 4}
	for _, s := range []string{"ab", "cdef", "gh"} {
		if n, err := io.WriteString(w, s); n != len(s) || err != nil {
			t.Fatalf("write %q: %d, %v", s, n, err)
		}
	}
	if b.String() != "abcd" {
		t.Errorf("kept %q, want abcd", b.String())
	}
}
