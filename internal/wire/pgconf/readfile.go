// Reading the files that settings name: regular files only, and only up
// to a cap, so that a setting naming /dev/zero, a FIFO or a huge file can
// neither block the run nor fill memory.

package pgconf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Caps on what ReadFile reads, generous for each kind of file.
const (
	// MaxSettingsFileSize caps service files, password files and
	// fraise's config file: 1 MiB is tens of thousands of lines.
	MaxSettingsFileSize = 1 << 20
	// MaxCertificateFileSize caps certificate and private key files: a
	// bundle of every public root certificate is well under 1 MiB.
	MaxCertificateFileSize = 8 << 20
	// MaxCRLFileSize caps each certificate revocation list file: the
	// lists of large public certificate authorities reach tens of MiB.
	MaxCRLFileSize = 64 << 20
)

var (
	// ErrNotRegular is the cause of a *FileError for a file that is not
	// a regular file: a directory, a device, a FIFO, a socket.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is the cause of a *FileError for a file larger than
	// the cap of its kind.
	ErrTooLarge = errors.New("file too large")
)

// FileUse says what a file is for: the names messages give it and how much
// of it may be read.
type FileUse struct {
	// What the file is, in messages: "root certificate file".
	What string
	// Setting is what names the file, for the advice: "sslrootcert",
	// "--config", "PGSERVICEFILE", "~/.pg_service.conf".
	Setting string
	// Limit is the most bytes read; a larger file is refused.
	Limit int64
}

// FileError reports a file that ReadFile refused or could not read. Its
// message names the file, the setting, and what to do.
type FileError struct {
	FileUse
	// Path is the file.
	Path string
	// Type is what the file is instead of a regular file ("a named pipe
	// (FIFO)"), when Err is ErrNotRegular.
	Type string
	// Err is ErrNotRegular, ErrTooLarge, or the system's error (without
	// the path): errors.Is(err, fs.ErrNotExist) says the file is missing.
	Err error
}

// Error returns the message.
func (e *FileError) Error() string {
	switch {
	case errors.Is(e.Err, ErrNotRegular):
		return fmt.Sprintf("%s %q is not a regular file (it is %s), and fraise reads only regular files; check %s", e.What, e.Path, e.Type, e.Setting)
	case errors.Is(e.Err, ErrTooLarge):
		return fmt.Sprintf("%s %q is larger than %s, the most fraise reads for such a file; check %s", e.What, e.Path, sizeText(e.Limit), e.Setting)
	}
	return fmt.Sprintf("could not read %s %q: %v; check %s", e.What, e.Path, e.Err, e.Setting)
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// ReadFile reads the file at path for use, and returns its content and
// what fstat(2) says of the file read (for a permission check). It reads
// regular files only, and at most use.Limit bytes: anything else (a
// directory, a device such as /dev/zero, a FIFO, a socket, a larger file)
// is refused at once, without reading from it or waiting on it. Errors are
// *FileError.
func ReadFile(path string, use FileUse) ([]byte, fs.FileInfo, error) {
	fail := func(err error) ([]byte, fs.FileInfo, error) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, &FileError{FileUse: use, Path: path, Err: err}
	}
	// Stat before opening: opening a FIFO for reading waits for a writer.
	fi, err := os.Stat(path)
	if err != nil {
		return fail(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, notRegular(path, use, fi)
	}
	// Non-blocking, should the name have become a FIFO since.
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return fail(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, notRegular(path, use, fi)
	}
	if fi.Size() > use.Limit {
		return fail(ErrTooLarge)
	}
	// The size may grow, or be unknown (0 for files under /proc).
	data, err := io.ReadAll(io.LimitReader(f, use.Limit+1))
	if err != nil {
		return fail(err)
	}
	if int64(len(data)) > use.Limit {
		return fail(ErrTooLarge)
	}
	return data, fi, nil
}

func notRegular(path string, use FileUse, fi fs.FileInfo) *FileError {
	return &FileError{FileUse: use, Path: path, Type: fileType(fi.Mode()), Err: ErrNotRegular}
}

// fileType names what a file that is not regular is.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

// sizeText writes a cap in MiB or KiB when it is a whole number of them.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
