//go:build linux && !playdoc_init

package sandbox

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Wait waits until the whole process tree is gone, and reports how the run
// ended. The run's cgroups are removed right after, in the background
// (Sandbox.Close waits for that); each output pipe is closed once read to
// its end, at the latest a few seconds later. The
// error is for failures of the sandbox itself, not of the program.
func (p *Process) Wait() (Result, error) {
	p.waitOnce.Do(p.wait)
	return p.result, p.waitErr
}

func (p *Process) wait() {
	state, werr := p.proc.Wait()
	exited := werr == nil
	end := time.Now()
	close(p.exited)
	if p.timer != nil {
		p.timer.Stop()
	}
	p.stopCtx()
	var errs []error
	if werr != nil {
		errs = append(errs, fmt.Errorf("wait: %w", werr))
	}
	var st cgroupStats
	if p.cg != nil {
		st = p.cg.stats()
	}
	// The tree is gone: the output's end, the exit and the next run need
	// not wait for the rmdirs and the namespaces' teardown.
	if p.cg != nil || p.ns != nil {
		defer p.release(p.cg, p.ns)
	}
	res := Result{ExitCode: -1}
	if !p.Started.IsZero() {
		res.Wall = end.Sub(p.Started)
	}
	if exited {
		ws := state.ws
		// RLIMIT_CPU is checked against the process's own (tick-sampled)
		// times; the cgroup's count is exact and covers the whole tree.
		ownCPU := state.cpu
		progCPU := max(ownCPU-p.initCPU, 0)
		// The cgroups' count covers the whole tree (children too) but
		// starts a little late, when we saw the exec; PID 1's own is
		// exact but only its own. The larger is the better estimate.
		if st.CPU > 0 {
			progCPU = max(progCPU, st.CPU-p.cgroupCPUAtExec)
		}
		res.CPU = progCPU
		res.PeakMemory = st.Peak
		if p.cg == nil || st.Peak < 0 {
			res.PeakMemory = state.rss
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
