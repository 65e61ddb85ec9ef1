//go:build !unix

package main

import (
	"os"
	"time"
)

// usage returns the CPU time (user and system) of a finished process and
// no peak resident set: Windows reports no peak for a child process
// through os.ProcessState, so the reports show 0 for it.
func usage(ps *os.ProcessState) (cpu time.Duration, maxRSS int64) {
	return ps.UserTime() + ps.SystemTime(), 0
}
