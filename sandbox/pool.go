//go:build linux && !playdoc_init

package sandbox

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// idleInit is a sandbox init started ahead of need: its namespaces exist and
// its Go runtime has started; it waits for its config on the control socket.
// Starting it costs as much as the rest of a run together (more for a large
// binary whose packages have costly init functions), so a few are kept
// ready.
type idleInit struct {
	proc   *child
	ctrl   *os.File // our end of the SOCK_SEQPACKET control socket
	status *os.File // read end of the close-on-exec status pipe
	stdin  *os.File // write end of the program's stdin
}

// spawnInit starts an init in fresh namespaces.
func (s *Sandbox) spawnInit() (_ *idleInit, err error) {
	var child []*os.File // our copies of the child's ends, closed once it has them
	defer func() {
		for _, f := range child {
			f.Close()
		}
	}()
	it := &idleInit{}
	defer func() {
		if err != nil {
			it.close()
		}
	}()
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	it.ctrl = os.NewFile(uintptr(sp[0]), "ctrl")
	childCtrl := os.NewFile(uintptr(sp[1]), "ctrl")
	child = append(child, childCtrl)
	pipe := func(ours **os.File, readEnd bool) (*os.File, error) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("pipe: %w", err)
		}
		if readEnd {
			*ours = r
			child = append(child, w)
			return w, nil
		}
		*ours = w
		child = append(child, r)
		return r, nil
	}
	statusW, err := pipe(&it.status, true)
	if err != nil {
		return nil, err
	}
	stdinR, err := pipe(&it.stdin, false)
	if err != nil {
		return nil, err
	}
	spw := s.spawner.Load()
	if spw == nil {
		return nil, errors.New("start sandbox init: the sandbox is closed")
	}
	// Stdout and stderr are /dev/null until the run's output sockets come
	// with the config (see Output); the init reports its own failures on
	// the status pipe.
	it.proc, err = spw.spawn(stdinR, childCtrl, statusW)
	if errors.Is(err, errSpawnerGone) {
		if spw, err = s.replaceSpawner(spw); err == nil {
			it.proc, err = spw.spawn(stdinR, childCtrl, statusW)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("start sandbox init: %w", err)
	}
	return it, nil
}

// send hands the init its config and descriptors; the init reads one
// message and builds the sandbox.
func (it *idleInit) send(msg []byte, fds []int) error {
	if len(fds) > maxConfigFds {
		return fmt.Errorf("%w: more than %d binds and overlays", errSpec, maxConfigFds)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	raw, err := it.ctrl.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), msg, oob, nil, 0)
		return !errors.Is(serr, unix.EAGAIN)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("send sandbox config: %w", err)
	}
	return nil
}

// close kills an init that will not be used and releases its descriptors.
func (it *idleInit) close() {
	if it.proc != nil {
		_ = it.proc.Kill()
		_, _ = it.proc.Wait()
	}
	for _, f := range []*os.File{it.ctrl, it.status, it.stdin} {
		if f != nil {
			f.Close()
		}
	}
}

// takeInit returns a ready init, or starts one when none is.
func (s *Sandbox) takeInit() (*idleInit, error) {
	if s.warm != nil {
		if it, ok := s.warm.take(); ok {
			return it, nil
		}
	}
	return s.spawnInit()
}

// startWarm starts keeping inits ready: at least min, up to max when the
// recent arrivals ask for more and the runs' totals have room.
func (s *Sandbox) startWarm(min, max int) {
	s.warm = newWarmPool(defaultWarmPolicy(min, max), s.spawnInit, (*idleInit).close, (*idleInit).alive,
		func() bool { return s.Usage().Room() }, s.log)
}

// stopWarm ends the keeper and kills the inits it kept.
func (s *Sandbox) stopWarm() {
	if s.warm != nil {
		s.warm.close()
	}
}

// alive reports whether the init still holds its end of the control socket.
func (it *idleInit) alive() bool {
	raw, err := it.ctrl.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = raw.Control(func(fd uintptr) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 0)
		ok = err == nil && (n == 0 || pfd[0].Revents&(unix.POLLHUP|unix.POLLERR) == 0)
	})
	return ok
}
