package playground

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// runBinary runs p's built program in the sandbox, emitting start, the
// output lines, if it got stuck a stuck event, and for a traced run (tr
// non-nil) the trace event, and returns the final event (exit, or error).
// p is the program as submitted: the stuck event names its lines.
func (s *Server) runBinary(ctx context.Context, bin string, p *Program, stdin io.Reader, tr *traceRun, emit func(api.Event)) api.Event {
	spec := sandbox.Spec{
		Binary:         bin,
		Args:           p.RunArgs(),
		Stdin:          stdin,
		Limits:         s.programLimits(),
		SeccompProfile: sandbox.ProfileProgram,
	}
	// At the time limit the Go runtime dumps its goroutines on SIGQUIT:
	// the stuck event says where they were.
	spec.Limits.QuitGrace = quitGrace
	spec.Binds, spec.Env = programEnv(s.builder.goroot)
	if p.Race {
		// A race binary is linked with the C library, dynamically.
		libs, err := libraryBinds()
		if err != nil {
			return api.Event{Kind: api.KindError, Message: "could not run with the race detector: " + err.Error()}
		}
		spec.Binds = append(spec.Binds, libs...)
	}
	return s.runSpec(ctx, spec, &stuckWatch{p: p, quitAfter: spec.Limits.WallTime}, tr, emit)
}

// quitGrace is how long a Go program that hit the time limit has to write
// its goroutine dump before it is killed (a few hundred goroutines take
// milliseconds).
const quitGrace = 500 * time.Millisecond

// programLimits are the sandbox limits of one user program (Go or
// Python): the programLimits profile with this server's time and memory.
func (s *Server) programLimits() sandbox.Limits {
	return programLimits(s.cfg.RunTimeout, s.cfg.RunMemory)
}

// runSpec runs one sandboxed program, emitting start and its output, and
// returns the final event (exit or error). stuck, if not nil (a Go
// program), reads its stderr; its stuck event comes just before exit.
// With tr (a traced run), the trace event is emitted after the output,
// before the stuck and final events: the program's descriptor 3 carries
// its trace (see withTrace).
func (s *Server) runSpec(ctx context.Context, spec sandbox.Spec, stuck *stuckWatch, tr *traceRun, emit func(api.Event)) api.Event {
	proc, capture, errEv := s.startProc(ctx, spec, tr)
	if proc == nil {
		return errEv
	}
	// A backstop in case the sandbox's own wall-clock timer fails. It
	// starts with the program: a wait for a start slot on a full machine
	// is not the program's time.
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RunTimeout+spec.Limits.QuitGrace+5*time.Second)
	defer cancel()
	started := proc.Started()
	emit(api.Event{Kind: api.KindStart})

	// The output ends once Wait has seen the process tree gone.
	var res sandbox.Result
	var waitErr error
	waited := make(chan struct{})
	go func() {
		res, waitErr = proc.Wait()
		close(waited)
	}()
	reason := s.pumpOutput(ctx, rctx, proc, started, stuck, emit)
	<-waited
	if err := waitErr; err != nil {
		s.m.sandboxFailures.Inc()
		s.log.Error("playground: sandbox wait failed", "err", err)
		return api.Event{Kind: api.KindError, Message: "the sandbox failed: " + err.Error()}
	}
	if reason == api.ReasonNone {
		reason = sandboxReason(res.Reason)
	}
	switch {
	case capture != nil:
		emit(capture.event(tr, started))
	case tr != nil:
		emit(api.Event{Kind: api.KindTrace, Message: tr.why})
	}
	if stuck != nil {
		if re, ok := stuck.raceEvent(); ok {
			emit(re)
		}
		if se, ok := stuck.event(reason, res.ExitCode); ok {
			emit(se)
		}
	}
	s.m.runDuration.Observe(res.Wall.Seconds())
	return s.exitEvent(ctx, res, reason)
}

// startProc starts spec in the sandbox, a few at once (Server.starts),
// with the trace capture of a traced run. It returns the process, or nil
// and the error event (or the exit event of a run stopped while it
// waited). A machine so full that no start slot frees within the run
// timeout ends the wait with an error event that says so: the stream has
// begun, so it is too late for 503 and Retry-After.
func (s *Server) startProc(ctx context.Context, spec sandbox.Spec, tr *traceRun) (Proc, *traceCapture, api.Event) {
	wait := time.NewTimer(s.cfg.RunTimeout)
	defer wait.Stop()
	select {
	case s.starts <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, api.Event{Kind: api.KindExit, Code: -1, Reason: api.ReasonKilled, Message: "the program was stopped before it started: " + context.Cause(ctx).Error()}
	case <-wait.C:
		s.m.rejected.WithLabelValues("start-wait").Inc()
		return nil, nil, api.Event{Kind: api.KindError, Message: fmt.Sprintf("the playground is too busy to start the program (no start within %v); try again in a few seconds", s.cfg.RunTimeout)}
	}
	var capture *traceCapture
	if tr != nil && tr.why == "" {
		c, err := newTraceCapture()
		if err != nil {
			<-s.starts
			return nil, nil, api.Event{Kind: api.KindError, Message: "could not start the program: " + err.Error()}
		}
		capture, spec.ExtraOutput = c, c.w
	}
	proc, err := s.exec.Start(ctx, spec)
	<-s.starts
	if capture != nil {
		capture.w.Close() // the sandbox has its own copy; EOF when it is gone
		if err != nil {
			capture.r.Close()
		}
	}
	if err != nil {
		s.m.sandboxFailures.Inc()
		s.log.Error("playground: sandbox start failed", "err", err)
		return nil, nil, api.Event{Kind: api.KindError, Message: "could not start the program: " + err.Error()}
	}
	return proc, capture, api.Event{}
}

// chunk is one read from the program's stdout or stderr.
type chunk struct {
	stderr bool
	data   []byte
	at     time.Time
	eof    bool
}

// pumpOutput emits proc's output as events until its end, and returns
// why the run was cut short: the output limit, the end of rctx (timeout,
// or killed when ctx, the client's, ended), or api.ReasonNone. stuck, if
// not nil, takes the goroutine dump out of stderr.
func (s *Server) pumpOutput(ctx, rctx context.Context, proc Proc, started time.Time, stuck *stuckWatch, emit func(api.Event)) api.Reason {
	ch := make(chan chunk, 16)
	go func() {
		for {
			c, err := proc.Next()
			if err != nil {
				ch <- chunk{eof: true}
				return
			}
			ch <- chunk{stderr: c.Stream == sandbox.Stderr, data: c.Data, at: c.At}
		}
	}()
	out := newOutputStreams(started, s.cfg.OutputLimit, emit)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	reason := api.ReasonNone
	done := rctx.Done()
	for open := true; open; {
		select {
		case c := <-ch:
			if c.eof {
				open = false
				continue
			}
			if reason == api.ReasonOutputLimit {
				continue // draining what the killed program left in the pipes
			}
			if stuck != nil && c.stderr && !stuck.stderr(c.data, c.at.Sub(started)) {
				continue // the goroutine dump, not output
			}
			if out.write(c.stderr, c.data, c.at) {
				reason = api.ReasonOutputLimit
				proc.Kill()
			}
			if out.pending() {
				timer.Reset(partialFlush)
			}
		case <-timer.C:
			out.flushDue(time.Now())
			if out.pending() {
				timer.Reset(partialFlush)
			}
		case <-done:
			done = nil
			if reason == api.ReasonNone {
				reason = api.ReasonKilled
				if errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
					reason = api.ReasonTimeout
				}
			}
			proc.Kill()
		}
	}
	out.flush()
	return reason
}

// sandboxReason is the exit reason of a run the server did not cut short.
func sandboxReason(r sandbox.Reason) api.Reason {
	switch r {
	case sandbox.ReasonTimeout, sandbox.ReasonCPU:
		return api.ReasonTimeout
	case sandbox.ReasonOOM:
		return api.ReasonOOM
	case sandbox.ReasonKilled:
		return api.ReasonKilled
	case sandbox.ReasonSignal:
		return api.ReasonSignal
	case sandbox.ReasonWriteTooLarge:
		return api.ReasonOutputLimit
	}
	return api.ReasonNone
}

// exitEvent is the exit event of a run that ended for reason, with the
// sentence that says why; ctx's cause names who killed it.
func (s *Server) exitEvent(ctx context.Context, res sandbox.Result, reason api.Reason) api.Event {
	ev := api.Event{
		Kind: api.KindExit, Code: res.ExitCode, Reason: reason,
		Wall:      res.Wall,
		CPU:       res.CPU,
		PeakMemKB: res.PeakMemory >> 10,
	}
	switch reason {
	case api.ReasonTimeout:
		if res.Reason == sandbox.ReasonCPU {
			ev.Message = fmt.Sprintf("the program used more than %s of CPU time and was killed", s.cfg.RunTimeout)
		} else {
			ev.Message = fmt.Sprintf("the program ran longer than %s and was killed", s.cfg.RunTimeout)
		}
	case api.ReasonOOM:
		ev.Message = fmt.Sprintf("the program ran out of memory (limit %d MiB) and was killed", s.cfg.RunMemory>>20)
	case api.ReasonOutputLimit:
		ev.Message = fmt.Sprintf("the program wrote more than %d KiB of output and was killed", s.cfg.OutputLimit>>10)
		if res.Reason == sandbox.ReasonWriteTooLarge {
			ev.Message = fmt.Sprintf("the program wrote more in one call than its output takes at once and was killed (the output limit is %d KiB)", s.cfg.OutputLimit>>10)
		}
	case api.ReasonKilled:
		ev.Message = "the program was killed"
		if c := context.Cause(ctx); c != nil {
			ev.Message += ": " + c.Error()
		}
	case api.ReasonSignal:
		ev.Message = "the program was killed by signal " + res.Signal
	default:
		if res.ExitCode != 0 {
			ev.Message = "exit status " + strconv.Itoa(res.ExitCode)
		}
	}
	return ev
}
