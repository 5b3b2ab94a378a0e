package playground

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"playdoc/playground/api"
)

// runRequest is a POST /api/run body: {"code": "...", "lang": "python",
// "stdin": "...", "stdinOpen": true, "trace": true}.
type runRequest struct {
	code      []byte
	lang      string // LangGo or LangPython
	stdin     string // the program's standard input, from the start
	stdinOpen bool   // stdin stays open after it, for /api/stdin, until EOF
	trace     bool   // record the run's execution trace (the trace event)
	race      bool   // a Go program built with the race detector
}

// readCode reads a {"code": ..., "lang": ...} request body, enforcing the
// size limit; lang is "go" (the default) or "python".
func readCode(w http.ResponseWriter, r *http.Request) (runRequest, error) {
	if r.ContentLength > 8*MaxSourceSize+2*maxStdin {
		return runRequest{}, fmt.Errorf("request body is %d bytes; the source limit is %d bytes", r.ContentLength, MaxSourceSize)
	}
	var req struct {
		Code      *string `json:"code"`
		Lang      string  `json:"lang"`
		Stdin     string  `json:"stdin"`
		StdinOpen bool    `json:"stdinOpen"`
		Trace     bool    `json:"trace"`
		Race      bool    `json:"race"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8*MaxSourceSize+2*maxStdin))
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return runRequest{}, fmt.Errorf("request body too large; the source limit is %d bytes", MaxSourceSize)
		}
		return runRequest{}, fmt.Errorf("bad request JSON: %w", err)
	}
	if req.Code == nil {
		return runRequest{}, errors.New(`bad request: want {"code": "..."}`)
	}
	if len(*req.Code) > MaxSourceSize {
		return runRequest{}, fmt.Errorf("source is %d bytes; the limit is %d bytes", len(*req.Code), MaxSourceSize)
	}
	switch req.Lang {
	case "", LangGo:
		req.Lang = LangGo
	case LangPython:
	default:
		return runRequest{}, fmt.Errorf("bad request: lang %q is not %q or %q", req.Lang, LangGo, LangPython)
	}
	if req.Race && req.Lang != LangGo {
		return runRequest{}, errors.New("bad request: race is for Go programs")
	}
	if len(req.Stdin) > maxStdin {
		return runRequest{}, fmt.Errorf("stdin is %d bytes; the limit is %d bytes", len(req.Stdin), maxStdin)
	}
	return runRequest{code: []byte(*req.Code), lang: req.Lang, stdin: req.Stdin, stdinOpen: req.StdinOpen,
		trace: req.Trace, race: req.Race}, nil
}

// handleRun is POST /api/run: compile and run, streaming NDJSON events.
func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	admitRun(s, w, r, readCode, func(ctx context.Context, t *ticket, run *Run, req runRequest) {
		s.streamRun(ctx, w, t, run, req)
	})
}

// admitRun is the admission that /api/run and /compile share: the
// per-client rate limit (429), reading the request (400), a runner or a
// queue place (503), and registering the run; serve then answers, and the
// run's slot and registration are released when it returns.
func admitRun[T any](s *Server, w http.ResponseWriter, r *http.Request,
	read func(http.ResponseWriter, *http.Request) (T, error),
	serve func(ctx context.Context, t *ticket, run *Run, req T)) {
	client := s.clientIP(r)
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
func (s *Server) streamRun(ctx context.Context, w http.ResponseWriter, t *ticket, run *Run, req runRequest) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // no proxy buffering
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	es := newEventStream(w, func() { run.cancel(errClientGone) })
	defer es.close()
	emit := es.emit
	opts := execOptions{lang: req.lang, trace: req.trace, race: req.race}
	switch {
	case req.stdinOpen:
		in := newRunInput(req.stdin)
		s.mu.Lock() // /api/stdin looks it up concurrently
		run.input = in
		s.mu.Unlock()
		opts.stdin = in
	case req.stdin != "":
		opts.stdin = strings.NewReader(req.stdin)
	}
	emit(api.Event{Kind: api.KindAccepted, ID: run.ID})
	rep := s.serveRun(ctx, t, req.code, opts, emit)
	s.logRun(run, rep)
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
