package main

import (
	"io"
	"testing"
)

// TestReportEarlyEnd: the check of the pipeline step reads fraise's last
// --stats line, whatever comes before it on standard error, and fails when
// head printed more than a line, when there is no such line, or when
// fraise wrote every row.
func TestReportEarlyEnd(t *testing.T) {
	tests := []struct {
		name, out, errOut string
		ok                bool
	}{
		{"stats alone", "{}\n", `{"rows_written":12}` + "\n", true},
		{"after a warning", "{}\n", "fraise: warning: x\n" + `{"rows_written":12}` + "\n", true},
		{"after an indented line", "{}\n", "   indented note\n" + `{"rows_written":12}` + "\n", true},
		{"two lines from head", "{}\n{}\n", `{"rows_written":12}` + "\n", false},
		{"no stats", "{}\n", "fraise: something\n", false},
		{"nothing on stderr", "{}\n", "", false},
		{"every row", "{}\n", `{"rows_written":100000}` + "\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := reportEarlyEnd(io.Discard, []byte(tt.out), []byte(tt.errOut))
			if (err == nil) != tt.ok {
				t.Errorf("reportEarlyEnd(%q, %q) = %v, want ok %t", tt.out, tt.errOut, err, tt.ok)
			}
		})
	}
}
