package playground

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// Run is one admitted program run, from the request to the exit event.
type Run struct {
	ID      string
	Client  string
	Started time.Time
	cancel  context.CancelCauseFunc
	input   *runInput // the standard input /api/stdin feeds; nil unless open
}

// Outcomes of a run, as counted in playdoc_runs_total and logged.
const (
	outcomeOK           = "ok"
	outcomeExitNonZero  = "exit-nonzero"
	outcomeCompileError = "compile-error"
	outcomeError        = "error"
)

// errStopped is the cause of a run ended by /api/stop; errClientGone of
// one whose client disconnected.
var (
	errStopped    = errors.New("stopped by the client")
	errClientGone = errors.New("the client went away")
)

// newRun registers a run so that /api/stop and Shutdown can end it.
func (s *Server) newRun(ctx context.Context, client string) (*Run, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	r := &Run{ID: newID(), Client: client, Started: time.Now(), cancel: cancel}
	s.mu.Lock()
	s.runs[r.ID] = r
	s.mu.Unlock()
	return r, ctx
}

func (s *Server) endRun(r *Run) {
	s.mu.Lock()
	delete(s.runs, r.ID)
	in := r.input
	s.mu.Unlock()
	r.cancel(nil)
	if in != nil {
		in.close() // ends the sandbox's copy of it
	}
}

// runReport is what executing one program came to: the log line, the
// outcome counted in the metrics, and what /compile folds into its answer.
type runReport struct {
	test    bool // the program is a test (func TestXxx, no main)
	cached  bool
	compile time.Duration
	// final is the last event emitted: exit, compile-error or error.
	final api.Event
	// compileErr is the build failure behind a compile-error event.
	compileErr *CompileError
	outcome    string
}

// exit is the exit event, or the zero Event when the program did not run.
func (r runReport) exit() api.Event {
	if r.final.Kind == api.KindExit {
		return r.final
	}
	return api.Event{}
}

// execOptions adjusts execute for one endpoint.
type execOptions struct {
	// lang is the program's language: LangGo (the default) or LangPython.
	lang string
	// afterBuild, if set, runs between the build and the run (/compile's
	// vet); an error ends the execution with an error event carrying its
	// text.
	afterBuild func(ctx context.Context, p *Program) error
	// stdin is the program's standard input; nil: EOF at once.
	stdin io.Reader
	// trace asks for the run's execution trace, sent as the trace event
	// before exit (Go programs with func main; see withTrace).
	trace bool
}

// toolchainWaitMessage is compile-start's message while a new server is
// still preparing what p needs: the standard library (seconds), or the
// modules p imports, warmed after it (minutes on a new machine, for
// modernc.org/sqlite).
func toolchainWaitMessage(p *Program) string {
	if mods := p.moduleImports(); len(mods) > 0 {
		return "waiting for the playground to warm its build cache for " + strings.Join(mods, ", ") +
			" (once per new server; minutes on a new machine)"
	}
	return "preparing the Go standard library (once per server start)"
}

// execute compiles (or takes from the cache) and runs p, calling emit for
// each event from compile-start on, the final one included. /api/run
// streams the events, /compile folds them, Execute hands them over.
func (s *Server) execute(ctx context.Context, p *Program, opts execOptions, emit func(api.Event)) runReport {
	rep := runReport{test: p.Test}
	end := func(e api.Event, outcome string) runReport {
		emit(e)
		rep.final, rep.outcome = e, outcome
		return rep
	}
	if s.builder.isReadyFor(p) {
		emit(api.Event{Kind: api.KindCompileStart})
	} else {
		// Only while a new server warms its caches: say why the compile
		// is slow, and keep the wait out of the compile time.
		emit(api.Event{Kind: api.KindCompileStart, Message: toolchainWaitMessage(p)})
		if err := s.builder.waitReadyFor(ctx, p); err != nil && ctx.Err() == nil {
			s.log.Error("playground: toolchain not ready", "err", err)
			return end(api.Event{Kind: api.KindError, Message: "the playground's toolchain could not be prepared: " + err.Error()}, outcomeError)
		}
	}
	var tr *traceRun
	orig := p // as submitted: the stuck event names its lines
	if opts.trace {
		tr = &traceRun{user: newUserCode(p)}
		q, err := withTrace(p)
		if err != nil {
			tr.why = err.Error()
		} else {
			p = q
		}
	}
	b, err := s.build(ctx, p)
	rep.cached, rep.compile = b.cached, b.dur
	var ce *CompileError
	switch {
	case errors.As(err, &ce):
		rep.compileErr = ce
		return end(api.Event{Kind: api.KindCompileError, Message: ce.Message, Errors: ce.Errors}, outcomeCompileError)
	case err != nil && ctx.Err() != nil:
		return end(api.Event{Kind: api.KindError, Message: "stopped before the program ran: " + context.Cause(ctx).Error()}, string(api.ReasonKilled))
	case err != nil:
		s.log.Error("playground: build failed", "err", err)
		return end(api.Event{Kind: api.KindError, Message: "build failed: " + err.Error()}, outcomeError)
	}
	defer b.art.Release()
	if opts.afterBuild != nil {
		if err := opts.afterBuild(ctx, p); err != nil {
			return end(api.Event{Kind: api.KindError, Message: err.Error()}, outcomeError)
		}
	}
	emit(api.Event{Kind: api.KindCompileEnd, Compile: rep.compile, Cached: rep.cached})
	last := s.runBinary(ctx, b.art.Path, orig, opts.stdin, tr, emit)
	return end(last, runOutcome(last))
}

// runOutcome is the metrics outcome of a run's final event (exit or error).
func runOutcome(last api.Event) string {
	switch {
	case last.Kind == api.KindError:
		return outcomeError
	case last.Reason != api.ReasonNone:
		return string(last.Reason)
	case last.Code != 0:
		return outcomeExitNonZero
	default:
		return outcomeOK
	}
}

// buildResult is a program's binary, ready to run.
type buildResult struct {
	art    *Artifact     // pinned in the cache until art.Release
	cached bool          // taken from the cache, nothing compiled
	dur    time.Duration // compile (or cache lookup) time, the wait included
}

// flightMargin is how much longer than the compile time limit a shared
// compile may take before its context ends it: a backstop, since the
// builder enforces the limit itself.
const flightMargin = 10 * time.Second

// build returns p's binary from the cache, compiling it on a miss; the
// same program wanted by several runs at once is compiled once. A compile
// error is returned as a *CompileError (cached when a retry would repeat
// it).
func (s *Server) build(ctx context.Context, p *Program) (buildResult, error) {
	start := time.Now()
	key := p.Key(s.builder.toolchainID())
	if a, cerr, ok := s.cache.Get(key); ok {
		s.m.cacheHits.Inc()
		if cerr != nil {
			return buildResult{cached: true, dur: time.Since(start)}, cerr
		}
		return buildResult{art: a, cached: true, dur: time.Since(start)}, nil
	}
	s.m.cacheMisses.Inc()
	// The shared compile must not depend on the toolchain wait, which
	// only the caller's context bounds.
	if err := s.builder.waitReadyFor(ctx, p); err != nil {
		return buildResult{dur: time.Since(start)}, err
	}
	ch := s.flights.DoChan(key, func() (any, error) {
		// Others may wait on this compile: it outlives the client that
		// started it, bounded by the compile time limit and Shutdown.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.CompileTimeout+flightMargin)
		defer cancel()
		defer context.AfterFunc(s.killCtx, cancel)()
		t0 := time.Now()
		bin, ws, err := s.builder.compile(fctx, p)
		if fctx.Err() == nil {
			s.m.compileDuration.Observe(time.Since(t0).Seconds())
		}
		if err != nil {
			var ce *CompileError
			if errors.As(err, &ce) && ce.Cacheable {
				s.cache.PutError(key, ce)
			}
			return nil, err
		}
		defer s.builder.release(ws)
		return nil, s.cache.PutBinary(key, bin)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return buildResult{dur: time.Since(start)}, r.Err
		}
	case <-ctx.Done():
		return buildResult{dur: time.Since(start)}, context.Cause(ctx)
	}
	a, cerr, ok := s.cache.Get(key)
	switch {
	case !ok:
		// Evicted between the put and this get by other programs.
		return buildResult{dur: time.Since(start)}, errors.New("the binary cache is too small for the programs being run: it evicted this one as soon as it was built")
	case cerr != nil:
		return buildResult{dur: time.Since(start)}, cerr
	}
	return buildResult{art: a, dur: time.Since(start)}, nil
}

// chunk is one read from the program's stdout or stderr.
type chunk struct {
	stderr bool
	data   []byte
	at     time.Time
	eof    bool
}

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
	// A backstop in case the sandbox's own wall-clock timer fails.
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RunTimeout+spec.Limits.QuitGrace+5*time.Second)
	defer cancel()
	select {
	case s.starts <- struct{}{}:
	case <-rctx.Done():
		return api.Event{Kind: api.KindExit, Code: -1, Reason: api.ReasonKilled, Message: "the program was killed before it started: " + context.Cause(rctx).Error()}
	}
	var capture *traceCapture
	if tr != nil && tr.why == "" {
		c, err := newTraceCapture()
		if err != nil {
			return api.Event{Kind: api.KindError, Message: "could not start the program: " + err.Error()}
		}
		capture, spec.ExtraOutput = c, c.w
	}
	proc, err := s.exec.Start(rctx, spec)
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
		return api.Event{Kind: api.KindError, Message: "could not start the program: " + err.Error()}
	}
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

	streams := [2]*lineStream{newLineStream(api.KindStdout, started), newLineStream(api.KindStderr, started)}
	emitAll := func(evs []api.Event) {
		for _, e := range evs {
			emit(e)
		}
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	var total int64
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
			over := false
			if room := s.cfg.OutputLimit - total; int64(len(c.data)) > room {
				c.data, over = c.data[:cutAt(c.data, int(room))], true
			}
			total += int64(len(c.data))
			ls, other := streams[0], streams[1]
			if c.stderr {
				ls, other = streams[1], streams[0]
			}
			// What the other stream has pending was written before this
			// chunk: send it first, so that events keep the write order.
			emitAll(other.flushPartial())
			emitAll(ls.push(c.data, c.at))
			if ls.hasPending() {
				timer.Reset(partialFlush)
			}
			if over {
				emitAll(streams[0].flush())
				emitAll(streams[1].flush())
				reason = api.ReasonOutputLimit
				proc.Kill()
			}
		case <-timer.C:
			now := time.Now()
			for _, ls := range streams {
				emitAll(ls.flushDue(now))
				if ls.hasPending() {
					timer.Reset(partialFlush)
				}
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
	emitAll(streams[0].flush())
	emitAll(streams[1].flush())
	<-waited
	if err := waitErr; err != nil {
		s.m.sandboxFailures.Inc()
		s.log.Error("playground: sandbox wait failed", "err", err)
		return api.Event{Kind: api.KindError, Message: "the sandbox failed: " + err.Error()}
	}
	if reason == api.ReasonNone {
		switch res.Reason {
		case sandbox.ReasonTimeout, sandbox.ReasonCPU:
			reason = api.ReasonTimeout
		case sandbox.ReasonOOM:
			reason = api.ReasonOOM
		case sandbox.ReasonKilled:
			reason = api.ReasonKilled
		case sandbox.ReasonSignal:
			reason = api.ReasonSignal
		case sandbox.ReasonWriteTooLarge:
			reason = api.ReasonOutputLimit
		}
	}
	switch {
	case capture != nil:
		emit(capture.event(tr, started))
	case tr != nil:
		emit(api.Event{Kind: api.KindTrace, Message: tr.why})
	}
	if stuck != nil {
		if se, ok := stuck.event(reason, res.ExitCode); ok {
			emit(se)
		}
	}
	ev := api.Event{
		Kind: api.KindExit, Code: res.ExitCode, Reason: reason,
		Wall:      res.Wall,
		CPU:       res.CPU,
		PeakMemKB: res.PeakMemory >> 10,
	}
	s.m.runDuration.Observe(res.Wall.Seconds())
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

// serveRun waits for a runner and executes the program.
func (s *Server) serveRun(ctx context.Context, t *ticket, src []byte, opts execOptions, emit func(api.Event)) runReport {
	if err := t.wait(ctx); err != nil {
		emit(api.Event{Kind: api.KindError, Message: "stopped while queued: " + context.Cause(ctx).Error()})
		return runReport{outcome: string(api.ReasonKilled)}
	}
	if opts.lang == LangPython {
		return s.executePython(ctx, src, opts.stdin, emit)
	}
	p, err := ParseProgram(src)
	if err != nil {
		emit(api.Event{Kind: api.KindCompileStart})
		ce := programError(err)
		final := api.Event{Kind: api.KindCompileError, Message: ce.Message, Errors: ce.Errors}
		emit(final)
		return runReport{final: final, compileErr: ce, outcome: outcomeCompileError}
	}
	return s.execute(ctx, p, opts, emit)
}

// programError turns a ParseProgram refusal into a compile error.
func programError(err error) *CompileError {
	msg := err.Error()
	if pe, ok := errors.AsType[*ProgramError](err); ok {
		msg = pe.Msg
	}
	return &CompileError{Message: msg, Errors: parseDiags(msg)}
}

// logRun writes the one log line of a run and counts its outcome.
func (s *Server) logRun(run *Run, rep runReport) {
	s.m.runs.WithLabelValues(rep.outcome).Inc()
	s.log.Info("playground run", "id", run.ID, "client", run.Client, "cached", rep.cached,
		"compileMs", ms(rep.compile), "wallMs", ms(rep.exit().Wall), "peakMemKB", rep.exit().PeakMemKB,
		"outcome", rep.outcome, "ms", time.Since(run.Started).Milliseconds())
}

// Execute compiles and runs code like POST /api/run, without HTTP, for
// `playdoc check`: emit gets every event from compile-start to the final
// one (exit, compile-error or error). It waits for a runner; it fails
// only when the server is shutting down or its queue is full.
func (s *Server) Execute(ctx context.Context, code string, emit func(api.Event)) error {
	return s.ExecuteLang(ctx, LangGo, code, emit)
}

// ExecuteLang is Execute for a program in lang (LangGo or LangPython).
func (s *Server) ExecuteLang(ctx context.Context, lang, code string, emit func(api.Event)) error {
	if lang != LangGo && lang != LangPython {
		return fmt.Errorf("unknown language %q (want %q or %q)", lang, LangGo, LangPython)
	}
	if len(code) > MaxSourceSize {
		return fmt.Errorf("source is %d bytes; the limit is %d bytes", len(code), MaxSourceSize)
	}
	t, err := s.admit()
	if err != nil {
		return err
	}
	defer t.done()
	run, ctx := s.newRun(ctx, "local")
	defer s.endRun(run)
	rep := s.serveRun(ctx, t, []byte(code), execOptions{lang: lang}, emit)
	s.logRun(run, rep)
	return nil
}
