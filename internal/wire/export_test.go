package wire

import "time"

// SetDrainTimeout sets how long a stopped stream drains, for tests, and
// returns the function that restores it.
func SetDrainTimeout(d time.Duration) (restore func()) {
	old := drainTimeout
	drainTimeout = d
	return func() { drainTimeout = old }
}
