// Output files that appear under their name only once complete: written
// to a temporary file in the same directory, synced, renamed over the
// name, and the directory synced (rename(2) is atomic within a file
// system; fsync(2) on the directory makes the rename durable).

package output

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// tempSuffix ends the name of every temporary output file, so that one
// left behind by a killed run (SIGKILL, a crash) is easy to find.
const tempSuffix = ".fraise-tmp"

// File is an output file. For a regular file (or a name that does not
// exist yet) the data goes to a temporary file beside it, which Commit
// renames over the name and Abort removes: the name never holds a partial
// result, and a previous file stays untouched until the new one is whole.
// Anything else (a device such as /dev/null, a FIFO) is written in place.
type File struct {
	f     *os.File
	name  string      // the name the user gave
	final string      // where the data ends up: name with symbolic links resolved
	temp  string      // "" when written in place
	mode  os.FileMode // the permissions the file gets at Commit

	mu         sync.Mutex
	done       bool // published, or given up after a failure
	aborted    bool // Abort was called
	committing bool // Commit is syncing the data
}

// CreateFile opens name for writing the way described at File. Errors are
// *WriteError values saying what to do.
func CreateFile(name string) (*File, error) {
	// What name leads to, links followed: a device, a FIFO or a pipe
	// (/dev/stdout, /dev/fd/3, >(…)) is written in place, whatever the
	// path to it looks like.
	fi, err := os.Stat(name)
	if err == nil && !fi.IsDir() && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return nil, fileError(name, "cannot open", err)
		}
		return &File{f: f, name: name, final: name}, nil
	}
	final, mode, err := regularTarget(name)
	if err != nil {
		return nil, err
	}
	dir, base := filepath.Split(final)
	var f *os.File
	var temp string
	for range 10 {
		temp = filepath.Join(dir, "."+base+"."+randomHex()+tempSuffix)
		// Private until Commit: the rows must not be readable by others
		// before the file has its final mode.
		f, err = os.OpenFile(temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, createError(name, dir, err)
	}
	return &File{f: f, name: name, final: final, temp: temp, mode: mode}, nil
}

// regularTarget is where a regular output file named name is renamed
// onto (name with symbolic links followed), and the mode it gets: a
// replaced file keeps its permissions; a new one gets 0666 less the
// umask, as the shell's redirection creates files.
func regularTarget(name string) (string, os.FileMode, error) {
	final, err := resolve(name)
	if err != nil {
		return "", 0, fileError(name, "cannot use", err)
	}
	fi, err := os.Stat(final)
	switch {
	case err == nil && fi.IsDir():
		return "", 0, &WriteError{Err: syscall.EISDIR, Msg: fmt.Sprintf("cannot write %s: it is a directory; give a file name, such as %s", quoteName(name), filepath.Join(name, "out.ndjson"))}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", 0, fileError(name, "cannot use", err)
	case err != nil:
		return final, newFileMode(), nil
	}
	if err := checkWritable(name, final); err != nil {
		return "", 0, err
	}
	return final, fi.Mode().Perm(), nil
}

// checkWritable refuses to replace a file this user may not write, as a
// shell redirection does, although the directory would let the rename
// through (and give the file to this user).
func checkWritable(name, final string) error {
	err := writable(final)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, fs.ErrPermission):
		return &WriteError{Err: err, Msg: fmt.Sprintf("cannot write %s: the file is not writable by this user, so fraise will not replace it (a shell redirection would refuse it too); make it writable (its owner can run chmod u+w %s) or write elsewhere (--output)", quoteName(name), quoteName(final))}
	}
	return fileError(name, "cannot write", err)
}

// createError says why the temporary file could not be created beside
// name, in dir: the directory must exist only when it does not.
func createError(name, dir string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) {
		return fileError(name, "cannot create a file in the directory of", err)
	}
	if dir == "" {
		dir = "."
	}
	if fi, serr := os.Stat(dir); serr != nil || !fi.IsDir() {
		return fileError(name, "cannot create a file in the directory of", err)
	}
	err = unwrapPath(err)
	return &WriteError{Err: err, Msg: fmt.Sprintf("cannot create the temporary file beside %s: %v; -o writes a new file in the same directory and renames it onto the name, and this directory does not allow new files: write elsewhere (--output)", quoteName(name), err)}
}

// resolve follows symbolic links in name's last element, so that a link
// keeps pointing at the new file, as a shell redirection writes through it.
func resolve(name string) (string, error) {
	for range 40 {
		fi, err := os.Lstat(name)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return name, nil
		}
		target, err := os.Readlink(name)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(name), target)
		}
		name = target
	}
	return "", errors.New("too many levels of symbolic links")
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Name returns the name the file was created with.
func (f *File) Name() string { return f.name }

// Temp returns the temporary file's path, or "" when the file is written
// in place.
func (f *File) Temp() string { return f.temp }

// Write writes to the file. Errors are *WriteError values.
func (f *File) Write(p []byte) (int, error) {
	n, err := f.f.Write(p)
	if err != nil {
		return n, fileError(f.name, "cannot write", unwrapPath(err))
	}
	return n, nil
}

// Commit makes the data durable and puts it under the file's name. After
// a failure the temporary file is removed and a previous file is left as
// it was. An Abort while Commit syncs wins: the file is not published.
func (f *File) Commit() error {
	f.mu.Lock()
	if f.done || f.aborted {
		f.mu.Unlock()
		return errors.New("output file already finished")
	}
	f.committing = true
	f.mu.Unlock()
	if f.temp == "" {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.done = true
		if err := f.f.Close(); err != nil {
			return fileError(f.name, "cannot write", unwrapPath(err))
		}
		return nil
	}
	fail := func(what string, err error) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.done = true
		_ = f.f.Close()
		_ = os.Remove(f.temp)
		return fileError(f.name, what, unwrapPath(err))
	}
	// The file gets its final mode only now, complete: until then no one
	// else could read it. A file system without modes keeps its own.
	_ = f.f.Chmod(f.mode)
	// The sync may take long: it is not done under the lock, so that an
	// Abort (a second Ctrl-C) is never kept waiting.
	if err := f.f.Sync(); err != nil {
		return fail("cannot write", err)
	}
	if err := f.f.Close(); err != nil {
		return fail("cannot write", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	if f.aborted {
		_ = os.Remove(f.temp)
		return &WriteError{Err: errAborted, Msg: "the output to " + quoteName(f.name) + " was abandoned before it was complete"}
	}
	if err := os.Rename(f.temp, f.final); err != nil {
		_ = os.Remove(f.temp)
		return fileError(f.name, "cannot rename the finished output onto", unwrapPath(err))
	}
	if d, err := os.Open(filepath.Dir(f.final)); err == nil {
		// The rename is done; a directory that cannot be synced (some
		// file systems refuse) leaves it done but perhaps not durable.
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

var errAborted = errors.New("output abandoned")

// Abort removes the temporary file, leaving a previous file as it was. It
// is safe to call at any time, more than once, and from another goroutine
// than the writer's (a forced exit calls it, then exits at once); after
// Commit has published the file it does nothing.
func (f *File) Abort() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done || f.aborted {
		return
	}
	f.aborted = true
	if !f.committing {
		// A Commit under way closes the file itself.
		_ = f.f.Close()
	}
	if f.temp != "" {
		_ = os.Remove(f.temp)
	}
}

// unwrapPath drops the *PathError around err: the message names the file
// its own way, and the temporary file's name would only confuse.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileError says what failed on name, why, and what to do.
func fileError(name, what string, err error) error {
	err = unwrapPath(err)
	advice := ""
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EFBIG):
		advice = spaceAdvice(err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		advice = "; check the permissions of the directory, or write elsewhere (--output)"
	case errors.Is(err, fs.ErrNotExist):
		advice = "; the directory must exist"
	}
	return &WriteError{Err: err, Msg: fmt.Sprintf("%s %s: %v%s", what, quoteName(name), err, advice)}
}

// spaceAdvice says what to do when a destination is full or at its size
// limit, and "" for any other error.
func spaceAdvice(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "; free some space or write elsewhere (--output)"
	case errors.Is(err, syscall.EFBIG):
		return "; the file is larger than this system or file size limit (ulimit -f) allows: write elsewhere or compress it (.gz, .zst)"
	}
	return ""
}

func quoteName(name string) string {
	if name == "" || strings.ContainsAny(name, " \t\n\"'") {
		return fmt.Sprintf("%q", name)
	}
	return name
}
