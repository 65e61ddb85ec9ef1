//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fraiseql/fraise/internal/pgtest"
	"github.com/fraiseql/fraise/internal/pgtest/tryout"
)

// sandboxTimeout bounds the whole sandbox run of a test: start, the
// commands and the stop.
const sandboxTimeout = 3 * time.Minute

// TestSandbox runs the sandbox as make sandbox does, pastes the commands
// it prints into a shell of another process, and stops it with SIGINT:
// the commands must work (views listing v_user, among them), and the
// sandbox must exit 0 leaving neither its directory nor a server behind.
func TestSandbox(t *testing.T) {
	r := startSandbox(t)
	out := runBlock(t, r.ctx, r.block)
	if !regexp.MustCompile(`(?m)^public +v_user +view +jsonb`).MatchString(out) {
		t.Errorf("fraise views, run as the sandbox printed it, does not list v_user:\n%s", out)
	}
	r.stop(t, os.Interrupt)
}

// TestSandboxHangup: the terminal the sandbox runs in closed (SIGHUP), it
// stops its server and removes its directory as for Ctrl-C.
func TestSandboxHangup(t *testing.T) {
	startSandbox(t).stop(t, syscall.SIGHUP)
}

// sandboxRun is a sandbox a test started, once it has said how to use it.
type sandboxRun struct {
	ctx     context.Context // ends at sandboxTimeout
	cmd     *exec.Cmd
	stdout  io.Reader // past what it printed
	stderr  *bytes.Buffer
	printed string
	dir     string // its server's files
	dsn     string // of its export line
	block   string // its shell lines
	waited  bool
}

// startSandbox builds the sandbox and fraise, runs the sandbox as make
// sandbox does and reads what it prints up to how to stop it. Ended early
// (the test failing, or out of time), the sandbox is interrupted as a user
// would, and a server it left running is stopped.
func startSandbox(t *testing.T) *sandboxRun {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the sandbox and fraise")
	}
	pgtest.RequireBinaries(t)
	bin := t.TempDir()
	sandbox := goBuild(t, bin, "github.com/fraiseql/fraise/internal/pgtest/sandbox")
	fraise := goBuild(t, bin, "github.com/fraiseql/fraise/cmd/fraise")

	ctx, cancel := context.WithTimeout(context.Background(), sandboxTimeout)
	t.Cleanup(cancel)
	r := &sandboxRun{ctx: ctx, stderr: &bytes.Buffer{}}
	r.cmd = exec.CommandContext(ctx, sandbox, "-fraise", fraise)
	// Killed, the sandbox would leave its server running.
	r.cmd.Cancel = func() error { return r.cmd.Process.Signal(os.Interrupt) }
	r.cmd.WaitDelay = time.Minute
	r.cmd.Stderr = r.stderr
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.stdout = stdout
	t.Cleanup(func() {
		if !r.waited {
			_ = r.cmd.Process.Signal(os.Interrupt)
			_, _ = io.Copy(io.Discard, stdout)
			_ = r.cmd.Wait()
		}
		stopLeftServer(t, r.dir)
	})
	var ok bool
	if r.printed, ok = readUsage(stdout); !ok {
		err := r.cmd.Wait()
		r.waited = true
		t.Fatalf("the sandbox ended (%v) before saying how to stop it; it printed:\n%s\n--- standard error:\n%s", err, r.printed, r.stderr)
	}
	r.dir, r.dsn, r.block = usageParts(t, r.printed)
	return r
}

// stop sends the sandbox sig: it must exit 0, saying that it removed its
// directory, which must be gone, and its server must accept no more
// connections.
func (r *sandboxRun) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r.stdout)
	err := r.cmd.Wait()
	r.waited = true
	if err != nil {
		t.Fatalf("the sandbox, sent %v, ended with %v, want exit 0; it printed:\n%s%s\n%s", sig, err, r.printed, rest, r.stderr)
	}
	if want := "PostgreSQL stopped and " + r.dir + " removed"; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("the sandbox's standard error does not say %q:\n%s", want, r.stderr)
	}
	if _, err := os.Stat(r.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the sandbox's directory %s is still there (stat: %v)", r.dir, err)
	}
	u, err := url.Parse(r.dsn)
	if err != nil {
		t.Fatalf("the printed DSN %q: %v", r.dsn, err)
	}
	if c, err := net.Dial("tcp", u.Host); err == nil {
		_ = c.Close()
		t.Errorf("%s still accepts connections after the sandbox ended", u.Host)
	}
}

// stopLeftServer stops, by an immediate shutdown, the server of a sandbox
// that ended without stopping it (the failure a test reports), and
// removes its directory dir.
func stopLeftServer(t *testing.T, dir string) {
	if dir == "" {
		return
	}
	pidFile, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0]); err == nil && pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGQUIT)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Logf("removing the sandbox's directory: %v", err)
	}
}

// readUsage reads what the sandbox prints once its server is up, up to and
// including the line saying how to stop it; ok is false when the output
// ends before that line.
func readUsage(r io.Reader) (printed string, ok bool) {
	var b strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Ctrl-C here stops the server") {
			return b.String(), true
		}
	}
	return b.String(), false
}

// usageParts returns, from what the sandbox printed, the server's
// directory, the DSN of the export line and the block of shell lines.
func usageParts(t *testing.T, printed string) (dir, dsn, block string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Its files, removed when the sandbox stops: (.+)$`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("the sandbox printed no directory:\n%s", printed)
	}
	dir = m[1]
	var lines []string
	for _, line := range strings.Split(printed, "\n") {
		if cmd, ok := strings.CutPrefix(line, "    "); ok {
			lines = append(lines, cmd)
		}
		if v, ok := strings.CutPrefix(line, "    export FRAISE_DSN="); ok {
			dsn = v
		}
	}
	if dsn == "" || !strings.HasPrefix(dsn, "postgres://"+pgtest.RoleTrust+"@127.0.0.1:") {
		t.Fatalf("the sandbox printed no export FRAISE_DSN=postgres://%s@127.0.0.1:… line:\n%s", pgtest.RoleTrust, printed)
	}
	return dir, dsn, strings.Join(lines, "\n")
}

// runBlock runs block with sh -e, as another shell would, in an empty
// directory, without the test's PG* and FRAISE_* variables or fraise
// configuration, and returns its output.
func runBlock(t *testing.T, ctx context.Context, block string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", block)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "FRAISE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "XDG_CONFIG_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("the commands the sandbox printed failed: %v\n%s\n--- output:\n%s", err, block, out)
	}
	return string(out)
}

// goBuild builds pkg into dir and returns the binary's path.
func goBuild(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// TestShellLines: the printed commands name fraise as given, quoted for
// the shell, after a cd into the current directory when that path is
// relative.
func TestShellLines(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	const dsn = "postgres://fraise_trust@127.0.0.1:5432/fraise_test"
	tests := []struct {
		fraise   string
		cd       bool
		wantView string
	}{
		{"bin/fraise", true, "bin/fraise views"},
		{"fraise", false, "fraise views"},
		{"/opt/fraise/bin/fraise", false, "/opt/fraise/bin/fraise views"},
		{"./my dir/it's/fraise", true, `"./my dir/it's/fraise" views`},
	}
	for _, tt := range tests {
		t.Run(tt.fraise, func(t *testing.T) {
			lines := shellLines(dsn, tt.fraise)
			if tt.cd {
				if want := "cd " + tryout.ShellQuote(wd); len(lines) == 0 || lines[0] != want {
					t.Fatalf("shellLines(%q) = %q, want first %q", tt.fraise, lines, want)
				}
				lines = lines[1:]
			}
			if len(lines) < 2 || lines[0] != "export FRAISE_DSN="+dsn || lines[1] != tt.wantView {
				t.Errorf("shellLines(%q) = %q, want the export of FRAISE_DSN, then %q", tt.fraise, lines, tt.wantView)
			}
		})
	}
}
