//go:build !linux

package wire

import "time"

// pause sleeps for d. Not every system's syscall package has nanosleep
// (macOS's has not), so the goroutine sleeps on the runtime's timers: the
// pause may run somewhat longer than d, which costs a fast stream a little
// throughput and nothing else.
func pause(d time.Duration) { time.Sleep(d) }
