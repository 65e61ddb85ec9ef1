package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProgressLog(t *testing.T) {
	tests := []struct {
		name  string
		quiet bool
		steps int
		want  string // what is printed as the steps are logged and the run fails
	}{
		{
			name:  "a full run logs as it goes",
			steps: 10,
			want: "bench: step 1\n" + "bench: step 2\n" + "bench: step 3\n" + "bench: step 4\n" + "bench: step 5\n" +
				"bench: step 6\n" + "bench: step 7\n" + "bench: step 8\n" + "bench: step 9\n" + "bench: step 10\n" +
				"bench: v_small: psql -At wrote 3 lines, want 4\n",
		},
		{
			name:  "a smoke run shows its last steps when it fails",
			quiet: true,
			steps: 10,
			want: "bench smoke: FAILED after 41s, 12 commands measured; the last steps:\n" +
				"  step 3\n  step 4\n  step 5\n  step 6\n  step 7\n  step 8\n  step 9\n  step 10\n" +
				"bench: v_small: psql -At wrote 3 lines, want 4\n",
		},
		{
			name:  "a smoke run that fails before its first step",
			quiet: true,
			want:  "bench smoke: FAILED after 41s, 12 commands measured\n" + "bench: v_small: psql -At wrote 3 lines, want 4\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			p := &progress{w: &out, quiet: tt.quiet, runs: 12}
			for i := range tt.steps {
				p.logf("step %d", i+1)
			}
			if tt.quiet && out.Len() != 0 {
				t.Errorf("a quiet run printed its steps: %q", out.String())
			}
			p.failed(fmt.Errorf("v_small: %w", errors.New("psql -At wrote 3 lines, want 4")), 41*time.Second+300*time.Millisecond)
			if out.String() != tt.want {
				t.Errorf("printed\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestProgressSummary(t *testing.T) {
	tests := []struct {
		name    string
		skipped []string
		files   []string
		tools   string
		want    string
	}{
		{
			name:  "everything ran",
			files: []string{"/tmp/x/r-smoke.md", "/tmp/x/r-smoke-throughput.svg", "/tmp/x/r-smoke-jq.svg"},
			want:  "bench smoke: 300 commands measured in 20s, every output checked; all tools ran; report /tmp/x/r-smoke.md, charts /tmp/x/r-smoke-throughput.svg, /tmp/x/r-smoke-jq.svg",
		},
		{
			name:  "tools filtered",
			files: []string{"r.md"},
			tools: "pgx",
			want:  `bench smoke: 300 commands measured in 20s, every output checked; fraise and the tools -tools "pgx" names ran; report r.md`,
		},
		{
			name:    "a compressor missing, no charts",
			skipped: []string{"psql | zstd > FILE (zstd not installed)"},
			files:   []string{"r.md"},
			want:    "bench smoke: 300 commands measured in 20s, every output checked; not measured: psql | zstd > FILE (zstd not installed); report r.md",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			p := &progress{w: &out, quiet: true, runs: 300}
			for _, s := range tt.skipped {
				p.skipf("%s", s)
			}
			if got := p.summary(tt.files, 19600*time.Millisecond, tt.tools); got != tt.want {
				t.Errorf("summary\n%s\nwant\n%s", got, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("a quiet run printed %q", out.String())
			}
		})
	}
}
