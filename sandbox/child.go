//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// child is an init, our child process (see spawner), known by a pidfd that
// sits in the netpoller: waiting for it parks a goroutine, where
// os.Process.Wait would hold a thread in waitid for the whole run, and the
// runtime's sysmon, seeing a thread in a system call, would keep waking
// to take its processor back (a quarter of the server's CPU with runs in
// flight).
type child struct {
	Pid int
	fd  *os.File // the pidfd, non-blocking
	raw syscall.RawConn
}

// exitState is how a child ended: its wait status and resource usage.
type exitState struct {
	ws  syscall.WaitStatus
	cpu time.Duration // user + system
	rss int64         // peak, bytes
}

// openChild opens a pidfd of pid, which must be our child not yet reaped
// (so the pid cannot have been reused).
func openChild(pid int) (*child, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	return &child{Pid: pid, fd: f, raw: raw}, nil
}

// Signal sends sig through the pidfd; an error once the child is reaped.
func (c *child) Signal(sig syscall.Signal) error {
	var serr error
	err := c.raw.Control(func(fd uintptr) {
		serr = unix.PidfdSendSignal(int(fd), sig, nil, 0)
	})
	return errors.Join(err, serr)
}

// Kill sends SIGKILL.
func (c *child) Kill() error { return c.Signal(syscall.SIGKILL) }

// siginfoChild is the part of siginfo_t that waitid fills for a child
// (amd64 and arm64 layout: signo, errno, code, padding, pid, uid, status).
type siginfoChild struct {
	Signo, Errno, Code int32
	_                  int32
	Pid                int32
	UID                uint32
	Status             int32
	_                  [100]byte
}

// Wait reaps the child once it has exited, waiting in the netpoller, and
// closes the pidfd. Call it once.
func (c *child) Wait() (exitState, error) {
	defer c.fd.Close()
	var st exitState
	var werr error
	err := c.raw.Read(func(fd uintptr) bool {
		var info siginfoChild
		var ru unix.Rusage
		_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_PIDFD, fd, uintptr(unsafe.Pointer(&info)),
			unix.WEXITED|unix.WNOHANG, uintptr(unsafe.Pointer(&ru)), 0)
		switch {
		case e == unix.EINTR || e == unix.EAGAIN:
			return false
		case e != 0:
			werr = fmt.Errorf("waitid %d: %w", c.Pid, e)
			return true
		case info.Pid == 0:
			return false // not exited yet: wait for the pidfd to be readable
		}
		switch info.Code {
		case 1: // CLD_EXITED
			st.ws = syscall.WaitStatus(info.Status&0xff) << 8
		case 2: // CLD_KILLED
			st.ws = syscall.WaitStatus(info.Status & 0x7f)
		case 3: // CLD_DUMPED
			st.ws = syscall.WaitStatus(info.Status&0x7f) | 0x80
		default:
			werr = fmt.Errorf("waitid %d: unexpected code %d", c.Pid, info.Code)
		}
		st.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		st.rss = ru.Maxrss * 1024
		return true
	})
	if err != nil {
		return st, fmt.Errorf("wait for %d: %w", c.Pid, err)
	}
	return st, werr
}
