package cli_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestJQTooDeepInConfig runs fraise on a profile whose jq: value is nested
// a million levels deep (a config file has no ARG_MAX), in a child
// process because a stack overflow kills the process: it is a usage
// error, exit 2, that names the limit, before any connection, where it
// used to crash.
func TestJQTooDeepInConfig(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	// As deep as a config file may hold (fraise reads at most 1 MiB of
	// one): far past the limit, where the walks used to overflow.
	const n = 400_000
	for _, tc := range []struct{ name, expr string }{
		{"parentheses", strings.Repeat("(", n) + "." + strings.Repeat(")", n)},
		{"pipes", strings.Repeat(".|", n) + "."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "config.yaml")
			yaml := "profiles:\n  deep:\n    dsn: \"host=127.0.0.1 port=" + port + " connect_timeout=5\"\n    jq: '" + tc.expr + "'\n"
			if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runFraise(t, exec.Command(os.Args[0], "stream", "v_user", "--config", conf, "--profile", "deep"))
			want := "fraise: invalid --jq expression: the expression is nested more than 10000 levels deep"
			if code != 2 || stdout != "" || !strings.HasPrefix(stderr, want) || len(stderr) > 1000 {
				t.Errorf("exit %d, stdout %q, stderr %.2000q; want exit 2 and %q, without the expression", code, stdout, stderr, want)
			}
			_ = l.(*net.TCPListener).SetDeadline(time.Now())
			if c, err := l.Accept(); err == nil {
				c.Close()
				t.Error("fraise connected before reporting the error")
			}
		})
	}
}
