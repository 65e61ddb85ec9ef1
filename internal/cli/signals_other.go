//go:build !unix

package cli

// ignoreFileSizeSignal does nothing where there is no SIGXFSZ.
func ignoreFileSizeSignal() {}
