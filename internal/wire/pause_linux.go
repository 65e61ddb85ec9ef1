package wire

import (
	"syscall"
	"time"
)

// pause sleeps for d in nanosleep(2), holding the thread: the pause is
// too short for parking the goroutine and waking it through the runtime's
// timers to be worth it.
func pause(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil)
}
