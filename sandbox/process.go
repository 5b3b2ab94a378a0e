//go:build linux && !playdoc_init

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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

	proc *child
	cg   *runCgroup
	// ns holds the run's namespaces (see idleInit.ns) until release.
	ns []*os.File
	// release removes cg and closes ns once the run is over
	// (Sandbox.releaseLater).
	release   func(*runCgroup, []*os.File)
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

// start takes a run through its steps in order: the init's config from the
// spec (spec.go), a ready init (pool.go), the run's cgroups (cgroup.go; a
// pre-started init comes with its own), the output sockets (output.go), the config handed over, the exec seen,
// and the limits armed on the running program.
func (s *Sandbox) start(ctx context.Context, spec Spec, probe bool) (*Process, error) {
	if err := spec.Limits.Validate(); err != nil {
		return nil, err
	}
	limits := spec.Limits.withDefaults()
	// The descriptors sent with the config; closed here once sent.
	var fds sendFds
	defer fds.close()
	cfg, err := s.initConfig(spec, limits, probe, &fds)
	if err != nil {
		return nil, err
	}
	if !probe {
		s.lastLimits.Store(&limits)
	}
	defer s.beginStart()()
	it, err := s.takeInit()
	if err != nil {
		return nil, err
	}
	rc, err := s.runCgroupFor(it, limits)
	if err != nil {
		it.close()
		return nil, err
	}
	defer it.status.Close()
	defer it.ctrl.Close()
	// The program profile's filter kills large writes with SIGSYS.
	p := newProcess(it, rc, limits, cfg.Seccomp != nil && spec.SeccompProfile == ProfileProgram)
	p.release = s.releaseLater
	fail := func(err error) (*Process, error) {
		it.stdin.Close()
		p.kill(false)
		_, _ = p.Wait()
		return nil, err
	}
	if !it.based {
		if err := it.sendBase(s.initBase(limits.TmpSize)); err != nil {
			return fail(err)
		}
	}
	if !probe {
		if err := s.connectOutput(p, it, spec, &cfg, &fds); err != nil {
			return fail(err)
		}
	} else {
		it.dropOutput() // a probe's init sends nothing
	}
	if err := it.send(encodeConfig(&cfg), fds); err != nil {
		return fail(err)
	}
	feedStdin(it.stdin, spec.Stdin)
	if err := p.awaitExec(it.status, probe); err != nil {
		return fail(err)
	}
	if !probe {
		p.supervise(ctx)
	}
	return p, nil
}

// newRunCgroup creates the run's cgroups with its limits; nil when the
// sandbox has no cgroups.
func (s *Sandbox) newRunCgroup(limits Limits) (*runCgroup, error) {
	if s.cg == nil {
		return nil, nil
	}
	return s.cg.newRun(fmt.Sprintf("r%d", s.runs.Add(1)), limits, s.cpus)
}

// runCgroupFor returns the cgroup the run of it sits in, with limits: the
// one a pre-started init came with (its limits rewritten if they differ),
// or a new one it is moved into. Either way, the init reads its config
// only once it is there: nothing it does afterwards escapes the limits.
// The cgroup belongs to the caller from now on; nil without cgroups.
func (s *Sandbox) runCgroupFor(it *idleInit, limits Limits) (*runCgroup, error) {
	if rc := it.rc; rc != nil {
		if !rc.hasLimits(limits) {
			if err := s.cg.setLimits(rc, limits, s.cpus, false); err != nil {
				return nil, err
			}
		}
		if rc.idle {
			if err := s.cg.setIdle(rc, false); err != nil {
				return nil, err
			}
		}
		it.rc = nil
		return rc, nil
	}
	rc, err := s.newRunCgroup(limits)
	if err != nil || rc == nil {
		return nil, err
	}
	if err := rc.attach(it.proc.Pid); err != nil {
		_ = rc.remove()
		return nil, err
	}
	return rc, nil
}

// releaseLater removes a finished run's cgroup and closes the descriptors
// that held its namespaces, in the background, so that the run's end is
// reported without waiting for it; Close waits. Both wait while runs are
// being started (waitStarts), up to maxDeferredTeardowns runs at a time:
// the rmdirs and the kernel's teardown of the namespaces (the mount
// tree's unmount, which waits for an RCU grace period, the network
// namespace's cleanup) then happen after a burst's starts instead of
// among them. Until it is gone, what the cgroup still holds (the page
// cache its program left, its /tmp) counts in the parent's usage, as
// before.
func (s *Sandbox) releaseLater(rc *runCgroup, ns []*os.File) {
	s.teardowns.Add(1)
	go func() {
		defer s.teardowns.Done()
		if s.deferred.Add(1) <= maxDeferredTeardowns {
			s.waitStarts(startsPatience)
		}
		s.deferred.Add(-1)
		for _, f := range ns {
			f.Close()
		}
		if rc == nil {
			return
		}
		if err := rc.remove(); err != nil {
			s.log.Error("sandbox: run cgroup left behind", "err", err)
		}
	}()
}

// maxDeferredTeardowns bounds the finished runs whose teardown waits for
// the starts at once: each holds its namespaces, with what its /tmp holds,
// until then.
const maxDeferredTeardowns = 64

// newProcess is the run of the init it, not yet exec'd.
// The descriptors holding its namespaces are the process's from now on.
func newProcess(it *idleInit, rc *runCgroup, limits Limits, writeKill bool) *Process {
	ns := it.ns
	it.ns = nil
	return &Process{
		Pid:       it.proc.Pid,
		proc:      it.proc,
		cg:        rc,
		ns:        ns,
		limits:    limits,
		noCgroup:  rc == nil,
		stopCtx:   func() bool { return false },
		exited:    make(chan struct{}),
		writeKill: writeKill,
	}
}

// newRunOutput makes the output sockets of a run in the init with the
// given pid. As root the senders are made in the init's own network
// namespace (see newOutput); without root we cannot join it, and
// Landlock's abstract-socket scope is what keeps the program from
// reaching the host's abstract sockets through them.
func (s *Sandbox) newRunOutput(pid int) (*Output, [2]*os.File, error) {
	netns := ""
	if s.root {
		netns = fmt.Sprintf("/proc/%d/ns/net", pid)
	}
	return newOutput(s.outDir, "o"+strconv.FormatUint(s.outputs.Add(1), 10), netns, s.root)
}

// prepareOutput makes a pre-started init's output sockets ahead of its
// run, off the run's critical path: the sockets, the bind and connect,
// and (as root) a thread's trip into the init's network namespace were
// 7% of the server's CPU inside a burst of 50 hello-world runs (perf).
func (s *Sandbox) prepareOutput(it *idleInit) error {
	out, senders, err := s.newRunOutput(it.proc.Pid)
	if err != nil {
		return err
	}
	it.out, it.senders = out, senders
	return nil
}

// connectOutput gives p the output sockets made ahead for it
// (prepareOutput), or makes them, and adds the program's stdout, stderr
// and Spec.ExtraOutput to the descriptors sent.
func (s *Sandbox) connectOutput(p *Process, it *idleInit, spec Spec, cfg *initConfig, fds *sendFds) error {
	out, senders := it.out, it.senders
	it.out, it.senders = nil, [2]*os.File{}
	if out == nil {
		var err error
		if out, senders, err = s.newRunOutput(p.Pid); err != nil {
			return err
		}
	}
	p.Output = out
	defer func() {
		for _, f := range senders {
			f.Close()
		}
	}()
	for i, f := range senders {
		idx, err := fds.dup(f.Fd())
		if err != nil {
			return fmt.Errorf("output sender: %w", err)
		}
		if i == 0 {
			cfg.Stdout = idx
		} else {
			cfg.Stderr = idx
		}
	}
	if spec.ExtraOutput != nil {
		idx, err := fds.dup(spec.ExtraOutput.Fd())
		if err != nil {
			return fmt.Errorf("extra output: %w", err)
		}
		cfg.Extra = idx
	}
	return nil
}

// feedStdin copies r to the program's stdin, or closes it at once when r is
// nil.
func feedStdin(stdin *os.File, r io.Reader) {
	if r == nil {
		stdin.Close()
		return
	}
	go func() {
		_, _ = io.Copy(stdin, r)
		stdin.Close()
	}()
}

// awaitExec waits for the init to exec the program (or, for a probe, to
// exit after building the sandbox). EOF on the close-on-exec status pipe
// means it did; anything else is the init's account of what failed.
func (p *Process) awaitExec(status *os.File, probe bool) error {
	_ = status.SetReadDeadline(time.Now().Add(10 * time.Second))
	msg, err := io.ReadAll(status)
	if err != nil {
		return fmt.Errorf("sandbox setup: %w", err)
	}
	if probe {
		if len(msg) > 0 {
			return errors.New(string(msg))
		}
		p.Started = time.Now()
		return nil
	}
	rest, ok := p.execPoint(msg)
	if len(rest) > 0 {
		return errors.New(string(rest))
	}
	if !ok {
		return errors.New("sandbox setup: the init ended before the exec")
	}
	return nil
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

// supervise arms the limits of a program that runs: the wall timeout,
// ctx, and the reaping of its tree as soon as it is gone.
func (p *Process) supervise(ctx context.Context) {
	// The peak from here on is the program's: the init's memory went with
	// the exec.
	if p.cg != nil {
		p.cg.resetPeak()
		p.cgroupCPUAtExec = p.cg.cpu()
	}
	p.timer = time.AfterFunc(p.limits.WallTime, func() {
		p.timedOut.Store(true)
		if p.limits.QuitGrace > 0 {
			p.quit(p.limits.QuitGrace)
		}
		p.kill(false)
	})
	p.stopCtx = context.AfterFunc(ctx, func() { p.kill(true) })
	p.drain = true
	// The output ends when the tree is gone, whether or not the caller
	// waits for it first: reap it as soon as it is.
	go func() { _, _ = p.Wait() }()
}

// Kill ends the run at once: SIGKILL to PID 1 makes the kernel kill every
// process of its namespace. Wait reports ReasonKilled.
func (p *Process) Kill() { p.kill(true) }

// quit sends SIGQUIT and waits up to grace for the program to exit. The
// kernel delivers a signal from outside the namespace to its PID 1 only if
// PID 1 handles it (SIGKILL excepted); the Go runtime handles SIGQUIT by
// dumping its goroutines and exiting.
func (p *Process) quit(grace time.Duration) {
	if err := p.proc.Signal(syscall.SIGQUIT); err != nil {
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
	_ = p.proc.Kill()
}
