package cli_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

// TestAnyTimeoutBoundsConnecting: a server that accepts the connection and
// never answers (the proxy stalls before the server's first byte, or after
// AuthenticationOk) cannot hang a run that has --idle-timeout or
// --statement-timeout: connecting ends with exit 3 naming the limit, and
// the tighter of it and --connect-timeout applies.
func TestAnyTimeoutBoundsConnecting(t *testing.T) {
	srv := pgtest.Require(t)
	cli.SetStatementGrace(t, 200*time.Millisecond)
	authOK := int64(9)
	for i, tc := range []struct {
		name       string
		stallAfter int64
		flags      []string
		want       string
	}{
		{"idle timeout, no answer", 0, []string{"--idle-timeout", "300ms"}, "timed out after 300ms (--idle-timeout)"},
		{"idle timeout, after AuthenticationOk", authOK, []string{"--idle-timeout", "300ms"}, "timed out after 300ms (--idle-timeout)"},
		{"idle timeout tighter than connect timeout", 0, []string{"--idle-timeout", "300ms", "--connect-timeout", "1h"}, "timed out after 300ms (--idle-timeout)"},
		{"connect timeout tighter than idle timeout", 0, []string{"--idle-timeout", "1h", "--connect-timeout", "300ms"}, "timed out after 300ms (connect_timeout)"},
		{"statement timeout and its grace", 0, []string{"--statement-timeout", "100ms"}, "timed out after 300ms (--statement-timeout)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t, srv, proxyPlan{StallAfter: tc.stallAfter})
			app := fmt.Sprintf("fraise-test-any-timeout-%d", i)
			var stdout bytes.Buffer
			code, stderr := runGuarded(t, &stdout, append([]string{"stream", "v_user", "-d", p.conninfo(srv, app)}, tc.flags...)...)
			if code != 3 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 3 and %q", code, stderr, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			p.awaitClosed(t)
			awaitLeftNothing(t, srv, app)
		})
	}
}

// TestStatementTimeoutBoundsASilentStream: with --statement-timeout and no
// --idle-timeout, a stream whose server goes silent (the proxy stalls mid
// stream, so not even the statement's timeout error arrives) ends once
// nothing came for the timeout and its grace: exit 4, naming the limit.
func TestStatementTimeoutBoundsASilentStream(t *testing.T) {
	srv := pgtest.Require(t)
	cli.SetStatementGrace(t, 200*time.Millisecond)
	p := newProxy(t, srv, proxyPlan{StallAfter: 256 << 10})
	const app = "fraise-test-statement-backstop"
	var stdout bytes.Buffer
	code, stderr := runGuarded(t, &stdout, "stream", "v_seq", "--statement-timeout", "1s", "-d", p.conninfo(srv, app))
	want := "no data from the server for 1.2s (--statement-timeout 1s and 200ms more)"
	if code != 4 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "set --idle-timeout") {
		t.Errorf("exit %d, stderr %q; want exit 4, %q and advice", code, stderr, want)
	}
	checkLines(t, stdout.String())
	p.awaitClosed(t)
	awaitLeftNothing(t, srv, app)
}
