//go:build linux && !playdoc_init

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"time"

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
	// rc is the run cgroup the init already sits in (a pre-started init
	// of a sandbox with cgroups, see prepareInit); nil: the run makes
	// its own.
	rc *runCgroup
	// ns are descriptors of the init's mount and network namespaces,
	// opened by the keeper (openNamespaces): they keep the namespaces
	// after the run's end until releaseLater closes them.
	ns []*os.File
	// based says whether the init has its base (sendBase): a pre-started
	// one gets it once in its cgroup, and builds its root while it waits.
	based bool
	// out and senders are the run's output sockets, made by the keeper
	// (prepareOutput); nil: the run makes its own (connectOutput).
	out     *Output
	senders [2]*os.File
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

// sendBase hands the init the base of its sandbox (see initBase), which
// it may start building at once. Call it once the init sits in its run
// cgroup, if it has one.
func (it *idleInit) sendBase(b initBase) error {
	if err := it.send(encodeBase(&b), nil); err != nil {
		return fmt.Errorf("send sandbox base: %w", err)
	}
	it.based = true
	return nil
}

// close kills an init that will not be used and releases its descriptors
// and its cgroup.
func (it *idleInit) close() {
	if it.proc != nil {
		_ = it.proc.Kill()
		_, _ = it.proc.Wait()
	}
	for _, f := range append([]*os.File{it.ctrl, it.status, it.stdin}, it.ns...) {
		if f != nil {
			f.Close()
		}
	}
	it.ns = nil
	it.dropOutput()
	// Empty now: PID 1 of a pid namespace is reaped after the rest.
	if it.rc != nil {
		_ = it.rc.remove()
		it.rc = nil
	}
}

// dropOutput closes the output sockets made ahead for the init, if any.
func (it *idleInit) dropOutput() {
	for _, f := range it.senders {
		if f != nil {
			f.Close()
		}
	}
	if it.out != nil {
		it.out.close()
	}
	it.out, it.senders = nil, [2]*os.File{}
}

// prepareInit starts an init for the pool and, with cgroups, puts it in a
// run cgroup of its own, made with the limits of the latest run. Moving a
// process into a cgroup (a write to cgroup.procs) is slow: the kernel
// takes a global lock for writing that waits for an RCU grace period,
// milliseconds on a busy machine and longer in a burst, where the runs'
// moves queue behind each other; creating the cgroup costs a few mkdirs
// and writes more. Both happen here, in the background, and a run whose
// limits are the same (every program of the playground) only hands the
// config over.
//
// Until a run takes it, the cgroup has the lowest CPU weight: refilling
// the pool during a burst (the Go runtime's start-up in each init, most
// of an init's CPU) then takes only the CPU that the burst's runs leave,
// and the runs are not slowed by the preparation of the next ones.
//
// The init gets its base once in that cgroup and, as root, builds its
// root right away (see initBase): a run then only adds its own mounts.
func (s *Sandbox) prepareInit() (*idleInit, error) {
	s.waitStarts(startsPatience)
	it, err := s.spawnInit()
	if err != nil {
		return nil, err
	}
	it.openNamespaces()
	if err := s.prepareOutput(it); err != nil {
		it.close()
		return nil, err
	}
	limits := *s.lastLimits.Load()
	if s.cg == nil {
		if err := it.sendBase(s.initBase(limits.TmpSize)); err != nil {
			it.close()
			return nil, err
		}
		return it, nil
	}
	rc, err := s.newRunCgroup(limits)
	if err != nil {
		it.close()
		return nil, err
	}
	it.rc = rc // removed by close from now on
	if err := s.cg.setIdle(rc, true); err != nil {
		it.close()
		return nil, err
	}
	if err := rc.attach(it.proc.Pid); err != nil {
		it.close()
		return nil, err
	}
	if err := it.sendBase(s.initBase(limits.TmpSize)); err != nil {
		it.close()
		return nil, err
	}
	return it, nil
}

// openNamespaces opens the init's mount and network namespaces
// (/proc/PID/ns/{mnt,net}) into it.ns, off the runs' critical path: held
// open, they outlive the run until releaseLater closes them. A namespace
// that cannot be opened is not held; nothing else changes.
func (it *idleInit) openNamespaces() {
	for _, n := range []string{"mnt", "net"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", it.proc.Pid, n))
		if err != nil {
			continue
		}
		it.ns = append(it.ns, f)
	}
}

// startsPatience bounds how long the pool's keeper waits for the runs
// being started before it starts an init anyway (see waitStarts).
const startsPatience = 2 * time.Second

// startsQuiet is how long no run must have begun before the keeper and
// the deferred teardowns go on (see waitStarts). A burst's starts do not
// follow each other without a gap: between two of them the server parses
// a request or streams output, and nothing is being started. Measured on
// 2 cores, 50 hello-world runs at once (perf, samples in the bursts):
// waiting only for the count of starts to fall to 0 left 22% of the
// bursts' CPU to the refill (the spawner's clones and the new inits' Go
// runtime start). 50 ms is a few times the gap between the starts of
// such a burst and short beside the pause between real bursts.
const startsQuiet = 50 * time.Millisecond

// waitStarts waits until no run is being started and none has begun for
// startsQuiet, or for at most d. The keeper defers to the runs: during a
// burst every start is on some client's critical path, and an init
// started for the pool then (the spawner's clone and the init's Go
// runtime, some 20 ms of CPU on a slow machine) would take CPU and the
// spawner's turn from them. Under sustained load the runs start their
// own inits, as they would with the pool empty.
func (s *Sandbox) waitStarts(d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		s.startMu.Lock()
		now := time.Now()
		left := deadline.Sub(now)
		if left <= 0 {
			s.startMu.Unlock()
			return
		}
		if s.starting == 0 {
			quiet := s.lastStart.Add(startsQuiet).Sub(now)
			s.startMu.Unlock()
			if quiet <= 0 {
				return
			}
			time.Sleep(min(quiet, left))
			continue
		}
		if s.noStarts == nil {
			s.noStarts = make(chan struct{})
		}
		ch := s.noStarts
		s.startMu.Unlock()
		t := time.NewTimer(left)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

// beginStart counts a run being started until the returned func is
// called (see waitStarts).
func (s *Sandbox) beginStart() (end func()) {
	s.startMu.Lock()
	s.starting++
	s.lastStart = time.Now()
	s.startMu.Unlock()
	return func() {
		s.startMu.Lock()
		defer s.startMu.Unlock()
		if s.starting--; s.starting == 0 && s.noStarts != nil {
			close(s.noStarts)
			s.noStarts = nil
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
	s.warm = newWarmPool(defaultWarmPolicy(min, max), s.prepareInit, (*idleInit).close, (*idleInit).alive,
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
