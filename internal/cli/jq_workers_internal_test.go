package cli

import (
	"bytes"
	"context"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// TestJQAdaptingWorkersWriteAsOneWorker: by default --jq chooses, and
// changes as the rows flow, how many workers filter them (none: the
// network reader filters them itself). Made to change at every batch,
// the run writes byte for byte what --jq-workers 1 writes on 100,000
// rows, and --verbose tells how it changed.
func TestJQAdaptingWorkersWriteAsOneWorker(t *testing.T) {
	srv := pgtest.Require(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"outputs of every size", []string{"--jq", `if .id % 997 == 0 then .name * 5000 elif .even then {id, name} else .score end`}},
		{"an expression that may not end", []string{"--jq", `if .id % 997 == 0 then [range(.score)] else .name end`}},
		{"rows filtered and skipped", []string{"--on-jq-error", "skip", "--jq", `if .id % 1013 == 0 then error("no \(.score % 3)") else select(.score > 500) | .name end`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"stream", "v_seq", "--order-by", "(data->>'id')::int", "--chunk-size", "40",
				"-d", srv.ConnString(pgtest.RoleTrust, false)}, tc.args...)
			want, wantErr := runJQ(t, append(args, "--jq-workers", "1"))
			var now time.Duration
			jqClock = func() time.Duration { now += time.Second; return now }
			defer func() { jqClock = nil }()
			got, gotErr := runJQ(t, append(args, "--verbose"))
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from --jq-workers 1: %d bytes, want %d", len(got), len(want))
			}
			if n := bytes.Count(want, []byte("\n")); n < 30000 {
				t.Errorf("%d lines: too few to adapt", n)
			}
			warnings := regexp.MustCompile(`(?m)^fraise: warning: .*$`)
			if g, w := warnings.FindAll(gotErr, -1), warnings.FindAll(wantErr, -1); !slices.EqualFunc(g, w, bytes.Equal) {
				t.Errorf("warnings %q, want %q", g, w)
			}
			m := regexp.MustCompile(`msg="jq workers" workers=adaptive changes=(\d+) `).FindSubmatch(gotErr)
			if m == nil {
				t.Fatalf("no jq workers line in --verbose:\n%s", gotErr)
			}
			if n, _ := strconv.Atoi(string(m[1])); n < 100 {
				t.Errorf("%d changes of level, want many: the test did not make it adapt", n)
			}
		})
	}
}

// runJQ runs fraise in-process and returns its stdout and stderr; it
// must succeed.
func runJQ(t *testing.T, args []string) (stdout, stderr []byte) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := Run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.Bytes())
	}
	return out.Bytes(), errb.Bytes()
}
