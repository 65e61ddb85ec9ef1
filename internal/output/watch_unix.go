//go:build unix

package output

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// WatchReader calls gone, once, when the reader of f goes away: f is the
// write end of a pipe whose read end is closed, or a socket whose peer
// closed. poll(2) reports that (POLLERR, POLLHUP) before anything is
// written, so a query still computing its first row can be cancelled at
// once instead of when its first line meets EPIPE. For any other kind of
// file it does nothing. stop ends the watch and returns once it has
// ended, so gone is never called after it; it may be called more than
// once.
func WatchReader(f *os.File, gone func()) (stop func()) {
	fd, ok := pipeOrSocket(f)
	if !ok {
		return func() {}
	}
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	wakeFd, ok := rawFd(wakeR)
	if !ok {
		_ = wakeR.Close()
		_ = wakeW.Close()
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer wakeR.Close()
		fds := []unix.PollFd{{Fd: int32(fd)}, {Fd: int32(wakeFd), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			switch {
			case err == unix.EINTR:
				continue
			case err != nil, fds[1].Revents != 0, fds[0].Revents&unix.POLLNVAL != 0:
				return
			case fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0:
				gone()
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { _ = wakeW.Close() })
		<-done
	}
}

// pipeOrSocket returns f's descriptor if f is a pipe or a socket.
func pipeOrSocket(f *os.File) (int, bool) {
	fd, ok := rawFd(f)
	if !ok {
		return 0, false
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return 0, false
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO, unix.S_IFSOCK:
		return fd, true
	}
	return 0, false
}

// rawFd returns f's descriptor without changing its blocking mode, as
// f.Fd would.
func rawFd(f *os.File) (int, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	if rc.Control(func(u uintptr) { fd = int(u) }) != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}
