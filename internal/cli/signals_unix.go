//go:build unix

package cli

import (
	"os/signal"
	"syscall"
)

// ignoreFileSizeSignal makes a write past the file size limit (ulimit -f)
// fail with EFBIG, which fraise reports (exit 6) after removing its
// temporary file, instead of the kernel's SIGXFSZ killing the process.
func ignoreFileSizeSignal() { signal.Ignore(syscall.SIGXFSZ) }
