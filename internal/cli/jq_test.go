package cli_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/cli"
	"github.com/fraiseql/fraise/internal/pgtest"
)

// TestJQErrorsBeforeConnecting checks that a --jq expression or a jq flag
// that cannot work is refused with exit 2 before any connection: a
// listener standing in for the server sees no connection attempt.
func TestJQErrorsBeforeConnecting(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"syntax", []string{"--jq", ".a | {b"}, "fraise: invalid --jq expression: unexpected EOF\n  --jq .a | {b\n              ^\n"},
		{"function", []string{"--jq", ".a | nosuch(1)"}, "fraise: invalid --jq expression: function not defined: nosuch/1\n  --jq .a | nosuch(1)\n            ^\n"},
		{"variable", []string{"--jq", "{x: $nope}"}, "fraise: invalid --jq expression: variable not defined: $nope\n  --jq {x: $nope}\n           ^\n"},
		{"inputs", []string{"--jq", "[inputs]"}, "inputs is not available"},
		{"import", []string{"--jq", `import "x" as e; .`}, "fraise: invalid --jq expression: import is not available: fraise's --jq has no modules"},
		{"include", []string{"--jq", `include "x"; .`}, "fraise: invalid --jq expression: include is not available: fraise's --jq has no modules"},
		{"argjson", []string{"--jq", "$x", "--argjson", "x", "{bad"}, "fraise: --argjson x: invalid JSON at byte 1"},
		{"arg name", []string{"--jq", "$x", "--arg", "1x", "v"}, `fraise: --arg: "1x" is not a jq variable name`},
		{"arg missing value", []string{"--jq", "$x", "--arg", "x"}, "--arg needs a name and a value"},
		{"policy", []string{"--jq", ".", "--on-jq-error", "ignore"}, `--on-jq-error must be fail or skip, got "ignore"`},
		{"workers", []string{"--jq", ".", "--jq-workers", "-1"}, "--jq-workers must be 0"},
		{"raw without jq", []string{"-r"}, "--raw-output applies to --jq output"},
		{"arg without jq", []string{"--arg", "x", "y"}, "--arg applies to --jq output"},
		{"empty jq", []string{"--jq", ""}, "--jq is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			args := append([]string{"stream", "v_user", "-d", "host=127.0.0.1 port=" + port + " connect_timeout=5"}, tc.args...)
			code, stdout, stderr := run(t, args...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, tc.want)
			}
			// A connection attempt would be waiting in the backlog by now.
			_ = l.(*net.TCPListener).SetDeadline(time.Now())
			if c, err := l.Accept(); err == nil {
				c.Close()
				t.Error("fraise connected before reporting the error")
			}
		})
	}
}

// TestJQArgForms checks both spellings of --arg and --argjson, and that a
// value may look like a flag or hold '='.
func TestJQArgForms(t *testing.T) {
	srv := pgtest.Require(t)
	code, stdout, stderr := run(t, "stream", "v_user", "--limit", "1", "-d", srv.ConnString(pgtest.RoleTrust, false),
		"--jq", "[$a, $b, $c, $d, $e]", "--arg", "a", "--not-a-flag", "--arg", "b=x=y", "--argjson", "c", "1.10",
		"--argjson=d={\"k\":[1]}", "--arg", "e", "")
	if want := `["--not-a-flag","x=y",1.10,{"k":[1]},""]` + "\n"; code != 0 || stdout != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q", code, stdout, stderr, want)
	}
}

// TestJQRunawayFilterStopsOnSIGINT interrupts a filter that never ends:
// fraise stops it and exits 130.
func TestJQRunawayFilterStopsOnSIGINT(t *testing.T) {
	srv := pgtest.Require(t)
	var stdout bytes.Buffer
	cmd, rd := startFraise(t, &stdout, "stream", "v_user", "--limit", "1", "--jq", "debug | last(range(1e18))",
		"-d", srv.ConnString(pgtest.RoleTrust, false))
	// The filter is running once it has written its debug line.
	line, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, `["DEBUG:",`) {
		t.Fatalf("first stderr line %q, %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := rd.ReadString(0)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit = %v, want code 130", err)
	}
	if want := "fraise: interrupted by SIGINT; the query was cancelled\n"; rest != want {
		t.Errorf("stderr after the debug line = %q, want %q", rest, want)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q", stdout.String())
	}
}

// TestJQEndlessOutputStopsOnDownstreamClose checks that a filter with
// endless output stops when the reader goes away, quietly, exit 0.
func TestJQEndlessOutputStopsOnDownstreamClose(t *testing.T) {
	srv := pgtest.Require(t)
	var errb bytes.Buffer
	w := &epipe{}
	code := cli.Run(context.Background(), []string{"stream", "v_user", "--jq", "repeat(.)", "-d", srv.ConnString(pgtest.RoleTrust, false)}, w, &errb)
	if code != 0 || errb.Len() != 0 {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, errb.String())
	}
}
