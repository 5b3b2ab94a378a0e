//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is a program running in the sandbox.
type Process struct {
	// Output is what the program writes to stdout and stderr, one chunk per
	// write, in write order across both. Read it until io.EOF, which comes
	// once the whole tree is gone; a reader that stops makes the program
	// block once a few writes are queued, until the wall timeout. Nil for
	// a probe.
	Output *Output
	// Started is when the program was exec'd.
	Started time.Time
	// Pid is the host pid of the program (PID 1 inside).
	Pid int

	cmd       *exec.Cmd
	cg        *runCgroup
	limits    Limits
	noCgroup  bool
	writeKill bool // SIGSYS means a write larger than Sandbox.MaxWrite
	timer     *time.Timer
	stopCtx   func() bool
	drain     bool // the caller has the output: let it read it to the end

	// What the init used before the exec, which is not the program's: its
	// CPU time (in the process's own count), and the cgroups' count when
	// we saw the exec (the init's setup and the exec itself).
	initCPU, cgroupCPUAtExec time.Duration

	timedOut atomic.Bool
	killed   atomic.Bool
	exited   chan struct{} // closed once PID 1 is reaped

	waitOnce sync.Once
	result   Result
	waitErr  error
}

// Start runs spec in a fresh sandbox and returns once the program has been
// exec'd there (or setup failed). The run ends when the program exits, when
// Limits.WallTime passes, when Kill is called or when ctx is done; Wait then
// reports how it ended (any number of times). The tree is reaped and its
// cgroups removed as soon as it is gone, whether or not Wait is called.
func (s *Sandbox) Start(ctx context.Context, spec Spec) (*Process, error) {
	return s.start(ctx, spec, false)
}

func (s *Sandbox) start(ctx context.Context, spec Spec, probe bool) (_ *Process, err error) {
	limits := spec.Limits.withDefaults()
	cfg := initConfig{
		Probe:    probe,
		Path:     spec.Path,
		Args:     spec.Args,
		Env:      spec.Env,
		Dir:      spec.Dir,
		Hostname: "sandbox",
		TmpSize:  limits.TmpSize,
		RootSize: 1 << 20,
		Landlock: s.landlockABI > 0,
		Seccomp:  s.filters[spec.SeccompProfile],
		Loopback: true,
		Stdout:   -1,
		Stderr:   -1,
		Extra:    -1,
	}
	if cfg.Dir == "" {
		cfg.Dir = "/tmp"
	}
	if cfg.Path == "" {
		cfg.Path = "/prog"
	}
	if s.seccomp && cfg.Seccomp == nil {
		return nil, fmt.Errorf("%w: unknown seccomp profile %d", errSpec, spec.SeccompProfile)
	}
	if !probe && spec.Binary == "" && spec.Path == "" {
		return nil, fmt.Errorf("%w: neither Binary nor Path", errSpec)
	}

	// The descriptors sent with the config; closed here once sent.
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	// addSource prepares a host path for the init. As root we clone its
	// mount here (open_tree), already read-only, nosuid and nodev: the init
	// then needs no access of its own to the host path. Without root the
	// init opens the path itself, with our uid's rights.
	addSource := func(path string, writable bool) (initSource, error) {
		abs, err := filepath.Abs(path)
		if err != nil {
			return initSource{}, fmt.Errorf("%w: %s: %w", errSpec, path, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return initSource{}, fmt.Errorf("%w: %w", errSpec, err)
		}
		if !fi.IsDir() && !fi.Mode().IsRegular() {
			return initSource{}, fmt.Errorf("%w: %s is neither a file nor a directory", errSpec, path)
		}
		src := initSource{MountFd: -1, Path: abs, Dir: fi.IsDir()}
		if !s.root {
			return src, nil
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, abs, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return initSource{}, fmt.Errorf("clone mount of %s: %w", abs, err)
		}
		fds = append(fds, fd)
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if !writable {
			attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
		}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return initSource{}, fmt.Errorf("mount attributes of %s: %w", abs, err)
		}
		src.MountFd = len(fds) - 1 // index among the descriptors sent
		return src, nil
	}
	if spec.Binary != "" {
		src, err := addSource(spec.Binary, false)
		if err != nil {
			return nil, err
		}
		if src.Dir {
			return nil, fmt.Errorf("%w: binary %s is a directory", errSpec, spec.Binary)
		}
		cfg.Binary = &src
	}
	targets := map[string]bool{"/prog": spec.Binary != ""}
	checkTarget := func(t string) error {
		if !filepath.IsAbs(t) || filepath.Clean(t) != t || t == "/" || t == "/tmp" {
			return fmt.Errorf("%w: bad target %q", errSpec, t)
		}
		for _, reserved := range []string{"/proc", "/dev", "/.overlay"} {
			// /dev/shm, where POSIX shared memory and semaphores live, may
			// hold a writable layer of the run's own.
			if t == "/dev/shm" {
				break
			}
			if t == reserved || strings.HasPrefix(t, reserved+"/") {
				return fmt.Errorf("%w: target %q is reserved", errSpec, t)
			}
		}
		// Files may be added to /etc (zoneinfo, services, CA roots), not
		// the sandbox's own ones replaced.
		if t == "/etc" || t == "/etc/hosts" || t == "/etc/passwd" || t == "/etc/group" {
			return fmt.Errorf("%w: target %q is reserved", errSpec, t)
		}
		if targets[t] {
			return fmt.Errorf("%w: target %q used twice", errSpec, t)
		}
		targets[t] = true
		return nil
	}
	for _, b := range spec.Binds {
		if err := checkTarget(b.Target); err != nil {
			return nil, err
		}
		src, err := addSource(b.Host, b.Writable)
		if err != nil {
			return nil, err
		}
		cfg.Binds = append(cfg.Binds, initBind{Source: src, Target: b.Target, Writable: b.Writable})
	}
	for _, o := range spec.Overlays {
		if err := checkTarget(o.Target); err != nil {
			return nil, err
		}
		src, err := addSource(o.Lower, false)
		if err != nil {
			return nil, err
		}
		if !src.Dir {
			return nil, fmt.Errorf("%w: overlay lower %s is not a directory", errSpec, o.Lower)
		}
		size := o.Size
		if size <= 0 {
			size = 256 << 20
		}
		cfg.Overlays = append(cfg.Overlays, initOverlay{Source: src, Target: o.Target, Size: size})
	}
	cfg.Rlimits = s.rlimits(limits)
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode sandbox config: %w", err)
	}

	var rc *runCgroup
	if s.cg != nil {
		rc, err = s.cg.newRun(fmt.Sprintf("r%d", s.runs.Add(1)), limits, s.cpus)
		if err != nil {
			return nil, err
		}
	}
	it, err := s.takeInit()
	if err != nil {
		if rc != nil {
			_ = rc.remove()
		}
		return nil, err
	}
	defer it.status.Close()
	defer it.ctrl.Close()
	p := &Process{
		Pid:      it.cmd.Process.Pid,
		cmd:      it.cmd,
		cg:       rc,
		limits:   limits,
		noCgroup: rc == nil,
		stopCtx:  func() bool { return false },
		exited:   make(chan struct{}),
		// The program profile's filter kills large writes with SIGSYS.
		writeKill: cfg.Seccomp != nil && spec.SeccompProfile == ProfileProgram,
	}
	fail := func(err error) (*Process, error) {
		it.stdin.Close()
		p.kill(false)
		_, _ = p.Wait()
		return nil, err
	}
	if !probe {
		// As root the senders are made in the init's own network
		// namespace (see newOutput); without root we cannot join it, and
		// Landlock's abstract-socket scope is what keeps the program from
		// reaching the host's abstract sockets through them.
		netns := ""
		if s.root {
			netns = fmt.Sprintf("/proc/%d/ns/net", p.Pid)
		}
		out, senders, err := newOutput(netns, s.root)
		if err != nil {
			return fail(err)
		}
		p.Output = out
		for i, f := range senders {
			fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
			f.Close()
			if err != nil {
				return fail(fmt.Errorf("output sender: %w", err))
			}
			fds = append(fds, fd)
			if i == 0 {
				cfg.Stdout = len(fds) - 1
			} else {
				cfg.Stderr = len(fds) - 1
			}
		}
		if spec.ExtraOutput != nil {
			fd, err := unix.FcntlInt(spec.ExtraOutput.Fd(), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				return fail(fmt.Errorf("extra output: %w", err))
			}
			fds = append(fds, fd)
			cfg.Extra = len(fds) - 1
		}
		cfgJSON, err = json.Marshal(cfg)
		if err != nil {
			return fail(fmt.Errorf("encode sandbox config: %w", err))
		}
	}
	// The init reads its config only now that it sits in the run's
	// cgroups: nothing it does afterwards escapes their limits.
	if rc != nil {
		if err := rc.attach(p.Pid); err != nil {
			return fail(err)
		}
	}
	if err := it.send(cfgJSON, fds); err != nil {
		return fail(err)
	}
	if spec.Stdin == nil {
		it.stdin.Close()
	} else {
		go func() {
			_, _ = io.Copy(it.stdin, spec.Stdin)
			it.stdin.Close()
		}()
	}
	// EOF on the close-on-exec status pipe: the program runs. Anything else
	// is the init's account of what failed.
	_ = it.status.SetReadDeadline(time.Now().Add(10 * time.Second))
	msg, err := io.ReadAll(it.status)
	if err != nil {
		return fail(fmt.Errorf("sandbox setup: %w", err))
	}
	if probe {
		if len(msg) > 0 {
			return fail(errors.New(string(msg)))
		}
		p.Started = time.Now()
		return p, nil
	}
	rest, ok := p.execPoint(msg)
	if len(rest) > 0 {
		return fail(errors.New(string(rest)))
	}
	if !ok {
		return fail(errors.New("sandbox setup: the init ended before the exec"))
	}
	// The peak from here on is the program's: the init's memory went with
	// the exec.
	if rc != nil {
		rc.resetPeak()
		p.cgroupCPUAtExec = rc.stats().CPU
	}
	p.timer = time.AfterFunc(limits.WallTime, func() {
		p.timedOut.Store(true)
		if limits.QuitGrace > 0 {
			p.quit(limits.QuitGrace)
		}
		p.kill(false)
	})
	p.stopCtx = context.AfterFunc(ctx, func() { p.kill(true) })
	p.drain = true
	// The output ends when the tree is gone, whether or not the caller
	// waits for it first: reap it as soon as it is.
	go func() { _, _ = p.Wait() }()
	return p, nil
}

// execPoint reads the init's exec record at the start of msg (see
// execRecord): Started becomes the exec's time and the init's CPU time is
// kept to be taken off the program's. It returns the rest of msg, and
// whether a record was there.
func (p *Process) execPoint(msg []byte) (rest []byte, ok bool) {
	line, rest, found := bytes.Cut(msg, []byte("\n"))
	var at, cpu int64
	if !found || !bytes.HasPrefix(line, []byte(execRecord+" ")) {
		return msg, false
	}
	if _, err := fmt.Sscanf(string(line), execRecord+" %d %d", &at, &cpu); err != nil {
		return msg, false
	}
	p.Started = time.Unix(0, at)
	p.initCPU = time.Duration(cpu)
	return rest, true
}

// rlimits are per process; the cgroups bound the tree. RLIMIT_AS is useless
// for Go (a hello world reserves ~700 MB of address space): without a memory
// cgroup, RLIMIT_DATA caps what a process can really commit.
func (s *Sandbox) rlimits(l Limits) []initRlimit {
	cpu := uint64((l.CPUTime + time.Second - 1) / time.Second)
	nproc := uint64(l.Pids)
	if s.cg != nil {
		// RLIMIT_NPROC counts threads, per user and namespace; the pids
		// cgroup is the real bound, this is a backstop.
		nproc = uint64(4 * l.Pids)
	}
	rl := []initRlimit{
		{Resource: unix.RLIMIT_CPU, Cur: cpu, Max: cpu},
		{Resource: unix.RLIMIT_NOFILE, Cur: uint64(l.OpenFiles), Max: uint64(l.OpenFiles)},
		{Resource: unix.RLIMIT_FSIZE, Cur: uint64(l.FileSize), Max: uint64(l.FileSize)},
		{Resource: unix.RLIMIT_NPROC, Cur: nproc, Max: nproc},
		{Resource: unix.RLIMIT_CORE, Cur: 0, Max: 0},
		{Resource: unix.RLIMIT_MEMLOCK, Cur: 64 << 10, Max: 64 << 10},
		{Resource: unix.RLIMIT_MSGQUEUE, Cur: 0, Max: 0},
	}
	if s.cg == nil {
		// The Go runtime maps its 64 MiB heap arena index writable at
		// start (untouched, but counted by RLIMIT_DATA): on top of that,
		// the program may commit about Limits.Memory.
		data := uint64(l.Memory) + goArenaIndex
		rl = append(rl, initRlimit{Resource: unix.RLIMIT_DATA, Cur: data, Max: data})
	}
	return rl
}

// goArenaIndex is what a Go program's RLIMIT_DATA needs beyond its heap.
const goArenaIndex = 64 << 20

// Kill ends the run at once: SIGKILL to PID 1 makes the kernel kill every
// process of its namespace. Wait reports ReasonKilled.
func (p *Process) Kill() { p.kill(true) }

// quit sends SIGQUIT and waits up to grace for the program to exit. The
// kernel delivers a signal from outside the namespace to its PID 1 only if
// PID 1 handles it (SIGKILL excepted); the Go runtime handles SIGQUIT by
// dumping its goroutines and exiting.
func (p *Process) quit(grace time.Duration) {
	if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return // already gone
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
	}
}

func (p *Process) kill(byCaller bool) {
	if byCaller && !p.timedOut.Load() {
		p.killed.Store(true)
	}
	_ = p.cmd.Process.Kill()
}

// Wait waits until the whole process tree is gone and everything is cleaned
// up (cgroups removed; each output pipe is closed once read to its end, at
// the latest a few seconds later), and reports how the run ended. The
// error is for failures of the sandbox itself, not of the program.
func (p *Process) Wait() (Result, error) {
	p.waitOnce.Do(p.wait)
	return p.result, p.waitErr
}

func (p *Process) wait() {
	werr := p.cmd.Wait()
	end := time.Now()
	close(p.exited)
	if p.timer != nil {
		p.timer.Stop()
	}
	p.stopCtx()
	var errs []error
	state := p.cmd.ProcessState
	var exitErr *exec.ExitError
	if werr != nil && !errors.As(werr, &exitErr) && !errors.Is(werr, exec.ErrWaitDelay) {
		errs = append(errs, fmt.Errorf("wait: %w", werr))
	}
	var st cgroupStats
	if p.cg != nil {
		st = p.cg.stats()
		if err := p.cg.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	res := Result{ExitCode: -1}
	if !p.Started.IsZero() {
		res.Wall = end.Sub(p.Started)
	}
	if state != nil {
		ws := state.Sys().(syscall.WaitStatus)
		ru, _ := state.SysUsage().(*syscall.Rusage)
		// RLIMIT_CPU is checked against the process's own (tick-sampled)
		// times; the cgroup's count is exact and covers the whole tree.
		ownCPU := state.UserTime() + state.SystemTime()
		progCPU := max(ownCPU-p.initCPU, 0)
		// The cgroups' count covers the whole tree (children too) but
		// starts a little late, when we saw the exec; PID 1's own is
		// exact but only its own. The larger is the better estimate.
		if st.CPU > 0 {
			progCPU = max(progCPU, st.CPU-p.cgroupCPUAtExec)
		}
		res.CPU = progCPU
		res.PeakMemory = st.Peak
		if ru != nil && (p.cg == nil || st.Peak < 0) {
			res.PeakMemory = ru.Maxrss * 1024
		}
		if ws.Exited() {
			res.ExitCode = ws.ExitStatus()
		}
		if ws.Signaled() {
			res.Signal = ws.Signal().String()
		}
		res.Reason = p.reason(ws, st, res, ownCPU)
	}
	p.result = res
	p.closeOutput()
	p.waitErr = errors.Join(errs...)
}

func (p *Process) reason(ws syscall.WaitStatus, st cgroupStats, res Result, ownCPU time.Duration) Reason {
	failed := ws.Signaled() || ws.ExitStatus() != 0
	switch {
	case p.timedOut.Load():
		return ReasonTimeout
	case p.killed.Load():
		return ReasonKilled
	case st.OOMKilled && failed:
		return ReasonOOM
	// Without a memory cgroup the cap is RLIMIT_DATA: the Go runtime dies
	// with exit status 2 once it cannot map more.
	case p.noCgroup && ws.Exited() && ws.ExitStatus() == 2 && res.PeakMemory > p.limits.Memory/2:
		return ReasonOOM
	// Nothing inside can SIGKILL PID 1; if neither we nor the OOM killer
	// did, it was RLIMIT_CPU, which the kernel checks against tick-sampled
	// times that can run well ahead of the exact ones on a busy machine.
	case ws.Signaled() && (ws.Signal() == syscall.SIGXCPU ||
		ws.Signal() == syscall.SIGKILL && ownCPU >= p.limits.CPUTime/2):
		return ReasonCPU
	// Only the seccomp filter's rule on large writes kills with SIGSYS
	// (its other refusals are errors); a program that raises SIGSYS
	// itself is reported the same way, which misleads no one but it.
	case ws.Signaled() && ws.Signal() == syscall.SIGSYS && p.writeKill:
		return ReasonWriteTooLarge
	case ws.Signaled():
		return ReasonSignal
	}
	return ReasonNone
}

// closeOutput ends the output. All writers are dead by now (the kernel
// empties the pid namespace before PID 1 can be reaped), so a reader gets
// what is queued and then EOF, and the output closes itself then; an output
// nobody reads is closed after a grace period, or at once if the caller
// killed the run and lost interest.
func (p *Process) closeOutput() {
	if p.Output == nil {
		return
	}
	p.Output.end()
	if p.drain && !p.killed.Load() {
		p.Output.closeWhenIdle(outputGrace)
	} else {
		p.Output.close()
	}
}

// outputGrace is how long a finished run's output stays readable without
// a read.
const outputGrace = 5 * time.Second
