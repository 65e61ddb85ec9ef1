package cli_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fraiseql/fraise/internal/pgtest"
)

// The output tests that need Linux: a tmpfs to fill, prlimit, a run as
// another user.

// mountTmpfs mounts a tmpfs of size on a new directory, unmounted at the
// end of t. Without the privilege to mount, t is skipped, but fails in CI,
// which runs as root and must.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot mount a tmpfs to fill up (CI runs as root and must): %v", err)
		}
		t.Skipf("cannot mount a tmpfs (run as root to test a full file system): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	return dir
}

// TestOutputFileSystemFull: a file system that fills up mid-run (a small
// tmpfs) ends the run with exit 6 and the reason, cancels the query, and
// leaves the previous file and no temporary file. Needs root to mount; in
// CI it must run.
func TestOutputFileSystemFull(t *testing.T) {
	srv := pgtest.Require(t)
	dir := mountTmpfs(t, "256k")
	file := filepath.Join(dir, "out.ndjson")
	if err := os.WriteFile(file, []byte(previousOutput), 0o644); err != nil {
		t.Fatal(err)
	}
	const app = "fraise-out-enospc"
	code, _, stderr := runFraise(t, exec.Command(os.Args[0], "stream", "v_seq", "-o", file,
		"-d", srv.ConnString(pgtest.RoleTrust, false)+" application_name="+app))
	if code != 6 {
		t.Errorf("exit %d, want 6; stderr %q", code, stderr)
	}
	if want := "fraise: cannot write " + file + ": no space left on device; free some space or write elsewhere (--output)\n"; stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	checkPrevious(t, dir, file)
	awaitLeftNothing(t, srv, app)
}

// TestOutputFileSizeLimit: past the process's file size limit (ulimit -f,
// through prlimit), a write fails with EFBIG instead of SIGXFSZ killing
// fraise: exit 6 with advice. With -o, no temporary file is left and the
// previous file is kept; on a stdout redirected to a file, which took part
// of the last write, the error says the last line may be cut.
func TestOutputFileSizeLimit(t *testing.T) {
	srv := pgtest.Require(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatalf("prlimit (util-linux) is needed: %v", err)
	}
	const limit = 100000
	for _, tc := range []struct {
		name   string
		stdout bool // > FILE rather than -o FILE
		want   string
	}{
		{"-o FILE", false, "fraise: cannot write {file}: file too large; the file is larger than this system or file size limit (ulimit -f) allows: write elsewhere or compress it (.gz, .zst)\n"},
		{"stdout redirected to a file", true, "fraise: cannot write to standard output: file too large; the file is larger than this system or file size limit (ulimit -f) allows: write elsewhere or compress it (.gz, .zst); the destination took only part of a write, so the output may end with a cut line (-o FILE never leaves one)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, file := outputDir(t)
			args := []string{"--fsize=" + strconv.Itoa(limit), "--", os.Args[0], "stream", "v_seq", "-d", srv.ConnString(pgtest.RoleTrust, false)}
			cmd := exec.Command(prlimit, args...)
			if tc.stdout {
				f, err := os.Create(file)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.Stdout = f
			} else {
				cmd.Args = append(cmd.Args, "-o", file)
			}
			code, _, stderr := runFraise(t, cmd)
			if code != 6 {
				t.Errorf("exit %d, want 6; stderr %q", code, stderr)
			}
			if want := strings.ReplaceAll(tc.want, "{file}", file); stderr != want {
				t.Errorf("stderr = %q, want %q", stderr, want)
			}
			if !tc.stdout {
				checkPrevious(t, dir, file)
				return
			}
			// What the shell's file holds: up to the limit, perhaps
			// ending mid-line (not asserted: a write may end on a line).
			fi, err := os.Stat(file)
			if err != nil || fi.Size() == 0 || fi.Size() > limit {
				t.Errorf("%s: %v, %v; want at most %d bytes written", file, fi, err, limit)
			}
		})
	}
}

// TestOutputPermissionDenied: a directory fraise may not write in fails
// the run before connecting (exit 6), as an unprivileged user (nobody,
// when the tests run as root).
func TestOutputPermissionDenied(t *testing.T) {
	dir, cmd := unprivileged(t)
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o555); err != nil {
		t.Fatal(err)
	}
	cmd.Args = append(cmd.Args, "stream", "v_user", "-o", filepath.Join(locked, "out.ndjson"), "-d", "host=127.0.0.1 port=1")
	code, _, stderr := runFraise(t, cmd)
	if code != 6 {
		t.Errorf("exit %d, want 6; stderr %q", code, stderr)
	}
	want := "fraise: cannot create a file in the directory of " + filepath.Join(locked, "out.ndjson") + ": permission denied; check the permissions of the directory, or write elsewhere (--output)\n"
	if stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}

// unprivileged returns a directory of its own (0755, under the system's
// temporary directory: t.TempDir's parent is closed to other users) and a
// command, without arguments, that runs the test binary there as nobody
// when the tests run as root, else as this user.
func unprivileged(t *testing.T) (dir string, cmd *exec.Cmd) {
	t.Helper()
	dir, err := os.MkdirTemp("", "fraise-perm-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	bin := os.Args[0]
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// nobody must be able to run the test binary: copy it out of the
		// go build cache, whose directories only root may enter.
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(dir, "fraise.test")
		copyFile(t, os.Args[0], bin, 0o755)
		cred = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	cmd = exec.Command(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}
	return dir, cmd
}

// nobody is the uid and gid unprivileged runs the tests as.
const nobody = 65534

// TestOutputFileNotWritable: in a directory anyone may write in (0777, not
// sticky), -o refuses, as a shell redirection does, to replace a file the
// user may not write: its own read-only file, or another user's file. Exit
// 6 before connecting; the file keeps its content, owner and mode, and no
// temporary file is left.
func TestOutputFileNotWritable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		owner int // -1: the user fraise runs as
		mode  os.FileMode
	}{
		{"own read-only file", -1, 0o444},
		{"another user's file", 0, 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, cmd := unprivileged(t)
			user := os.Geteuid()
			if cmd.SysProcAttr.Credential != nil {
				user = nobody
			}
			owner := tc.owner
			if owner == -1 {
				owner = user
			}
			if owner != user && os.Geteuid() != 0 {
				t.Skip("needs root to give the file to another user")
			}
			open := filepath.Join(dir, "open")
			if err := os.Mkdir(open, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(open, 0o777); err != nil { // past the umask
				t.Fatal(err)
			}
			file := filepath.Join(open, "out.ndjson")
			if err := os.WriteFile(file, []byte(previousOutput), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(file, owner, owner); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(file, tc.mode); err != nil {
				t.Fatal(err)
			}
			cmd.Args = append(cmd.Args, "stream", "v_user", "-o", file, "-d", "host=127.0.0.1 port=1")
			code, _, stderr := runFraise(t, cmd)
			if code != 6 {
				t.Errorf("exit %d, want 6; stderr %q", code, stderr)
			}
			want := "fraise: cannot write " + file + ": the file is not writable by this user, so fraise will not replace it (a shell redirection would refuse it too); make it writable (its owner can run chmod u+w " + file + ") or write elsewhere (--output)\n"
			if stderr != want {
				t.Errorf("stderr = %q, want %q", stderr, want)
			}
			checkPrevious(t, open, file)
			fi, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != owner || fi.Mode().Perm() != tc.mode {
				t.Errorf("file now owned by %d, mode %04o; want %d, %04o", st.Uid, fi.Mode().Perm(), owner, tc.mode)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
