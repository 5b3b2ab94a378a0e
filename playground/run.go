package playground

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"playdoc/playground/api"
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
	// race builds a Go program with the race detector.
	race bool
}

// toolchainWaitMessage is compile-start's message while a new server is
// still preparing what p needs: the standard library (seconds), or the
// modules p imports, warmed after it (minutes on a new machine, for
// modernc.org/sqlite).
func toolchainWaitMessage(p *Program) string {
	if p.Race {
		return "preparing the standard library for the race detector (once per new server; a minute or two on a new machine)"
	}
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
	if err == nil && opts.race {
		p.Race = true
		err = p.CheckRace()
	}
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
	return s.ExecuteWith(ctx, RunOptions{Lang: lang}, code, emit)
}

// RunOptions are the options of a run for ExecuteWith, as /api/run takes
// them.
type RunOptions struct {
	Lang  string // LangGo (default) or LangPython
	Race  bool   // a Go program built with the race detector
	Trace bool   // the trace event: the run's goroutine lanes (Go; Python ignores it)
}

// ExecuteWith is Execute with the options of /api/run.
func (s *Server) ExecuteWith(ctx context.Context, o RunOptions, code string, emit func(api.Event)) error {
	lang := o.Lang
	if lang == "" {
		lang = LangGo
	}
	if o.Race && lang != LangGo {
		return errors.New("race is for Go programs")
	}
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
	rep := s.serveRun(ctx, t, []byte(code), execOptions{lang: lang, race: o.Race, trace: o.Trace}, emit)
	s.logRun(run, rep)
	return nil
}
