//go:build linux && !playdoc_init

package sandbox

import (
	"os"

	"golang.org/x/sys/unix"
)

// A run reads and writes some twenty cgroup files. They are kernfs files,
// which support poll: os.ReadFile and os.WriteFile register each one with
// the netpoller (epoll_ctl to add, and to delete at the close) and
// os.ReadFile stats it for its size, five to seven system calls where
// three do. These helpers make the three, on a blocking descriptor that
// never sees the netpoller. Errors are *os.PathError, as os's.

// writeFile writes data to the existing file path in one write(2), as a
// cgroup file wants it.
func writeFile(path, data string) error {
	fd, err := openFile(path, unix.O_WRONLY)
	if err != nil {
		return err
	}
	var n int
	err = retryEINTR(func() (err error) {
		n, err = unix.Write(fd, []byte(data))
		return err
	})
	if err == nil && n < len(data) {
		err = unix.EIO // a cgroup file takes a value whole or not at all
	}
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		return &os.PathError{Op: "close", Path: path, Err: cerr}
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// readFile returns the whole content of path.
func readFile(path string) ([]byte, error) {
	fd, err := openFile(path, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		var n int
		err := retryEINTR(func() (err error) {
			n, err = unix.Read(fd, buf[len(buf):cap(buf)])
			return err
		})
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

func openFile(path string, mode int) (int, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = unix.Open(path, mode|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}
