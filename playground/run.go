package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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
	s.mu.Unlock()
	r.cancel(nil)
}

// runReport summarizes a run for the log line and the caller.
type runReport struct {
	cached  bool
	compile time.Duration
	exit    api.Event // the exit event, if the program ran
	outcome string
}

// toolchainWaitMessage is compile-start's message while a new server is
// still preparing its module and build caches.
const toolchainWaitMessage = "preparing the Go toolchain (once per server start, about a minute)"

// execute compiles (or takes from the cache) and runs p, calling emit for
// each event from compile-start on, the final one included.
func (s *Server) execute(ctx context.Context, p *Program, emit func(api.Event)) runReport {
	var rep runReport
	if s.builder.isReady() {
		emit(api.Event{Kind: api.KindCompileStart})
	} else {
		// Only in the first minute or two of a new server: say why the
		// compile is slow, and keep the wait out of the compile time.
		emit(api.Event{Kind: api.KindCompileStart, Message: toolchainWaitMessage})
		if err := s.builder.waitReady(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("playground: toolchain not ready", "err", err)
			emit(api.Event{Kind: api.KindError, Message: "the playground's toolchain could not be prepared: " + err.Error()})
			rep.outcome = outcomeError
			return rep
		}
	}
	art, cached, dur, err := s.build(ctx, p)
	rep.cached, rep.compile = cached, dur
	var ce *CompileError
	switch {
	case errors.As(err, &ce):
		emit(api.Event{Kind: api.KindCompileError, Message: ce.Message, Errors: ce.Errors})
		rep.outcome = outcomeCompileError
		return rep
	case err != nil && ctx.Err() != nil:
		rep.outcome = string(api.ReasonKilled)
		emit(api.Event{Kind: api.KindError, Message: "stopped before the program ran: " + context.Cause(ctx).Error()})
		return rep
	case err != nil:
		s.log.Error("playground: build failed", "err", err)
		emit(api.Event{Kind: api.KindError, Message: "build failed: " + err.Error()})
		rep.outcome = outcomeError
		return rep
	}
	defer art.Release()
	emit(api.Event{Kind: api.KindCompileEnd, Compile: rep.compile, Cached: cached})
	last := s.runBinary(ctx, art.Path, p.Test, emit)
	emit(last)
	if last.Kind == api.KindError {
		rep.outcome = outcomeError
		return rep
	}
	rep.exit = last
	switch {
	case last.Reason != api.ReasonNone:
		rep.outcome = string(last.Reason)
	case last.Code != 0:
		rep.outcome = outcomeExitNonZero
	default:
		rep.outcome = outcomeOK
	}
	return rep
}

// build returns p's binary from the cache, compiling it on a miss; the
// same program wanted by several runs at once is compiled once.
func (s *Server) build(ctx context.Context, p *Program) (art *Artifact, cached bool, dur time.Duration, err error) {
	start := time.Now()
	key := p.Key(s.builder.toolchainID())
	for attempt := 0; attempt < 4; attempt++ {
		if a, cerr, ok := s.cache.Get(key); ok {
			if attempt == 0 {
				s.m.cacheHits.Inc()
			}
			if cerr != nil {
				return nil, attempt == 0, time.Since(start), cerr
			}
			return a, attempt == 0, time.Since(start), nil
		}
		if attempt == 0 {
			s.m.cacheMisses.Inc()
		}
		// The flight runs with the context of whoever started it; if that
		// client leaves, the others see a context error and start again.
		ch := s.flights.DoChan(key, func() (any, error) {
			t0 := time.Now()
			bin, ws, err := s.builder.compile(ctx, p)
			if ctx.Err() == nil {
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
				if ctx.Err() == nil && (errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded)) {
					continue // the leader's client left; build it ourselves
				}
				return nil, false, time.Since(start), r.Err
			}
		case <-ctx.Done():
			return nil, false, time.Since(start), ctx.Err()
		}
	}
	return nil, false, time.Since(start), errors.New("the binary cache is too small to hold the program")
}

// chunk is one read from the program's stdout or stderr.
type chunk struct {
	stderr bool
	data   []byte
	at     time.Time
	eof    bool
}

// runBinary runs a built program in the sandbox, emitting start and the
// output lines, and returns the final event (exit, or error).
func (s *Server) runBinary(ctx context.Context, bin string, test bool, emit func(api.Event)) api.Event {
	spec := sandbox.Spec{
		Binary: bin,
		Limits: sandbox.Limits{
			WallTime:  s.cfg.RunTimeout,
			CPUTime:   s.cfg.RunTimeout,
			Memory:    s.cfg.RunMemory,
			Pids:      256,
			FileSize:  16 << 20,
			OpenFiles: 256,
			TmpSize:   16 << 20,
		},
		SeccompProfile: sandbox.ProfileProgram,
	}
	if test {
		spec.Args = []string{"-test.v"}
	}
	// A backstop in case the sandbox's own wall-clock timer fails.
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RunTimeout+5*time.Second)
	defer cancel()
	select {
	case s.starts <- struct{}{}:
	case <-rctx.Done():
		return api.Event{Kind: api.KindExit, Code: -1, Reason: api.ReasonKilled, Message: "the program was killed before it started: " + context.Cause(rctx).Error()}
	}
	proc, err := s.exec.Start(rctx, spec)
	<-s.starts
	if err != nil {
		s.m.sandboxFailures.Inc()
		s.log.Error("playground: sandbox start failed", "err", err)
		return api.Event{Kind: api.KindError, Message: "could not start the program: " + err.Error()}
	}
	started := proc.Started()
	emit(api.Event{Kind: api.KindStart})

	ch := make(chan chunk, 16)
	read := func(r io.Reader, stderr bool) {
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				ch <- chunk{stderr: stderr, data: bytes.Clone(buf[:n]), at: time.Now()}
			}
			if err != nil {
				ch <- chunk{stderr: stderr, eof: true}
				return
			}
		}
	}
	go read(proc.Stdout(), false)
	go read(proc.Stderr(), true)

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
	for open := 2; open > 0; {
		select {
		case c := <-ch:
			if c.eof {
				open--
				continue
			}
			if reason == api.ReasonOutputLimit {
				continue // draining what the killed program left in the pipes
			}
			over := false
			if room := s.cfg.OutputLimit - total; int64(len(c.data)) > room {
				c.data, over = c.data[:room], true
			}
			total += int64(len(c.data))
			ls := streams[0]
			if c.stderr {
				ls = streams[1]
			}
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
	res, err := proc.Wait()
	if err != nil {
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

// readCode reads a {"code": ...} request body, enforcing the size limit.
func readCode(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > 8*MaxSourceSize {
		return nil, fmt.Errorf("request body is %d bytes; the source limit is %d bytes", r.ContentLength, MaxSourceSize)
	}
	var req struct {
		Code *string `json:"code"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8*MaxSourceSize))
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("request body too large; the source limit is %d bytes", MaxSourceSize)
		}
		return nil, fmt.Errorf("bad request JSON: %w", err)
	}
	if req.Code == nil {
		return nil, errors.New(`bad request: want {"code": "..."}`)
	}
	if len(*req.Code) > MaxSourceSize {
		return nil, fmt.Errorf("source is %d bytes; the limit is %d bytes", len(*req.Code), MaxSourceSize)
	}
	return []byte(*req.Code), nil
}

// handleRun is POST /api/run: compile and run, streaming NDJSON events.
func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	admitRun(s, w, r, readCode, func(ctx context.Context, t *ticket, run *Run, src []byte) {
		s.streamRun(ctx, w, t, run, src)
	})
}

// admitRun is the admission that /api/run and /compile share: the
// per-client rate limit (429), reading the request (400), a runner or a
// queue place (503), and registering the run; serve then answers, and the
// run's slot and registration are released when it returns.
func admitRun[T any](s *Server, w http.ResponseWriter, r *http.Request,
	read func(http.ResponseWriter, *http.Request) (T, error),
	serve func(ctx context.Context, t *ticket, run *Run, req T)) {
	client := clientIP(r)
	if !s.allow(w, client) {
		return
	}
	req, err := read(w, r)
	if err != nil {
		s.m.rejected.WithLabelValues("bad-request").Inc()
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	t, ok := s.admitOrReject(w)
	if !ok {
		return
	}
	defer t.done()
	run, ctx := s.newRun(r.Context(), client)
	defer s.endRun(run)
	serve(ctx, t, run, req)
}

// streamRun answers an admitted /api/run with its NDJSON event stream.
func (s *Server) streamRun(ctx context.Context, w http.ResponseWriter, t *ticket, run *Run, src []byte) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // no proxy buffering
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	gone := false
	emit := func(e api.Event) {
		if gone {
			return
		}
		b, err := json.Marshal(e)
		if err == nil {
			_, err = w.Write(append(b, '\n'))
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			gone = true
			run.cancel(errClientGone)
		}
	}
	emit(api.Event{Kind: api.KindAccepted, ID: run.ID})
	rep := s.serveRun(ctx, t, src, emit)
	s.logRun(run, rep)
}

// serveRun waits for a runner and executes the program.
func (s *Server) serveRun(ctx context.Context, t *ticket, src []byte, emit func(api.Event)) runReport {
	if err := t.wait(ctx); err != nil {
		emit(api.Event{Kind: api.KindError, Message: "stopped while queued: " + context.Cause(ctx).Error()})
		return runReport{outcome: string(api.ReasonKilled)}
	}
	p, err := ParseProgram(src)
	if err != nil {
		emit(api.Event{Kind: api.KindCompileStart})
		ce := programError(err)
		emit(api.Event{Kind: api.KindCompileError, Message: ce.Message, Errors: ce.Errors})
		return runReport{outcome: outcomeCompileError}
	}
	return s.execute(ctx, p, emit)
}

// programError turns a ParseProgram refusal into a compile error.
func programError(err error) *CompileError {
	msg := err.Error()
	if after, ok := bytes.CutPrefix([]byte(msg), []byte(errBadProgram.Error()+": ")); ok {
		msg = string(after)
	}
	return &CompileError{Message: msg, Errors: parseDiags(msg)}
}

// allow applies the per-client rate limit, answering 429 when exceeded.
func (s *Server) allow(w http.ResponseWriter, client string) bool {
	if s.limiter.allow(client) {
		return true
	}
	s.m.rejected.WithLabelValues("rate-limit").Inc()
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(1/s.cfg.RateLimit+0.999))))
	httpError(w, http.StatusTooManyRequests, "too many requests from this client, slow down")
	return false
}

// admitOrReject admits a run or answers 503 with Retry-After.
func (s *Server) admitOrReject(w http.ResponseWriter) (*ticket, bool) {
	t, err := s.admit()
	if err != nil {
		s.m.rejected.WithLabelValues("busy").Inc()
		w.Header().Set("Retry-After", s.retryAfter())
		httpError(w, http.StatusServiceUnavailable, err.Error())
		return nil, false
	}
	return t, true
}

// logRun writes the one log line of a run and counts its outcome.
func (s *Server) logRun(run *Run, rep runReport) {
	s.m.runs.WithLabelValues(rep.outcome).Inc()
	s.log.Info("playground run", "id", run.ID, "client", run.Client, "cached", rep.cached,
		"compileMs", ms(rep.compile), "wallMs", ms(rep.exit.Wall), "peakMemKB", rep.exit.PeakMemKB,
		"outcome", rep.outcome, "ms", time.Since(run.Started).Milliseconds())
}

// handleStop is POST /api/stop {"id": "..."}: kill that run now.
func (s *Server) handleStop(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.ID == "" {
		httpError(w, http.StatusBadRequest, `bad request: want {"id": "..."}`)
		return
	}
	s.mu.Lock()
	run := s.runs[req.ID]
	s.mu.Unlock()
	if run == nil {
		httpError(w, http.StatusNotFound, "no such run (it may have ended already)")
		return
	}
	run.cancel(errStopped)
	w.WriteHeader(http.StatusNoContent)
}

// Execute compiles and runs code like POST /api/run, without HTTP, for
// `playdoc check`: emit gets every event from compile-start to the final
// one (exit, compile-error or error). It waits for a runner; it fails
// only when the server is shutting down or its queue is full.
func (s *Server) Execute(ctx context.Context, code string, emit func(api.Event)) error {
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
	rep := s.serveRun(ctx, t, []byte(code), emit)
	s.logRun(run, rep)
	return nil
}
