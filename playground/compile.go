package playground

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"
)

// compileRequest is the Go playground's /compile request.
type compileRequest struct {
	Body    string
	WithVet bool
}

// compileEvent is one output event of a /compile answer; Delay is the
// real gap since the previous event (the first: since the start).
type compileEvent struct {
	Message string
	Kind    string // "stdout" or "stderr"
	Delay   time.Duration
}

// compileResponse is the Go playground's /compile answer.
type compileResponse struct {
	Errors      string
	Events      []compileEvent
	Status      int
	IsTest      bool
	TestsFailed int
	VetErrors   string `json:",omitempty"`
	VetOK       bool   `json:",omitempty"`
}

// readCompileRequest accepts the form (body, withVet, version=2) and the
// JSON ({"Body", "WithVet"}) variants.
func readCompileRequest(w http.ResponseWriter, r *http.Request) (compileRequest, error) {
	var req compileRequest
	r.Body = http.MaxBytesReader(w, r.Body, 8*MaxSourceSize)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, errors.New("bad request JSON: " + err.Error())
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return req, errors.New("bad form: " + err.Error())
		}
		req.Body = r.PostForm.Get("body")
		req.WithVet = r.PostForm.Get("withVet") == "true"
	}
	if len(req.Body) > MaxSourceSize {
		return req, errors.New("source too large: the limit is 64 KiB")
	}
	return req, nil
}

// handleCompile is POST /compile, for existing Go playground clients: it
// compiles and runs like /api/run but answers once, with all events.
func (s *Server) handleCompile(w http.ResponseWriter, r *http.Request) {
	client := clientIP(r)
	if !s.allow(w, client) {
		return
	}
	req, err := readCompileRequest(w, r)
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
	resp, rep := s.compileAndRun(ctx, t, req)
	s.logRun(run, rep)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *Server) compileAndRun(ctx context.Context, t *ticket, req compileRequest) (compileResponse, runReport) {
	resp := compileResponse{Events: []compileEvent{}}
	if err := t.wait(ctx); err != nil {
		resp.Errors = "stopped while queued"
		return resp, runReport{outcome: ReasonKilled}
	}
	p, err := ParseProgram([]byte(req.Body))
	if err != nil {
		resp.Errors = programError(err).Message
		return resp, runReport{outcome: outcomeCompileError}
	}
	resp.IsTest = p.Test
	art, cached, dur, err := s.build(ctx, p)
	rep := runReport{cached: cached, compileMs: float64(dur.Microseconds()) / 1000}
	var ce *CompileError
	switch {
	case errors.As(err, &ce):
		resp.Errors = ce.Message
		rep.outcome = outcomeCompileError
		return resp, rep
	case err != nil:
		resp.Errors = "build failed: " + err.Error()
		rep.outcome = outcomeError
		return resp, rep
	}
	defer art.Release()
	if req.WithVet {
		out, err := s.builder.vet(ctx, p)
		if err != nil {
			resp.Errors = "vet failed: " + err.Error()
			rep.outcome = outcomeError
			return resp, rep
		}
		resp.VetErrors, resp.VetOK = out, out == ""
	}
	var last time.Duration
	var stdout strings.Builder
	last0 := s.runBinary(ctx, art.Path, p.Test, func(e Event) {
		if e.Kind != KindStdout && e.Kind != KindStderr {
			return
		}
		at := time.Duration(e.T * float64(time.Millisecond))
		delay := max(at-last, 0)
		last = max(at, last)
		// Consecutive writes to one stream with no gap are one event, as
		// the Go playground sends them.
		if n := len(resp.Events); n > 0 && delay == 0 && resp.Events[n-1].Kind == e.Kind {
			resp.Events[n-1].Message += e.Data
		} else {
			resp.Events = append(resp.Events, compileEvent{Message: e.Data, Kind: e.Kind, Delay: delay})
		}
		if e.Kind == KindStdout {
			stdout.WriteString(e.Data)
		}
	})
	if last0.Kind == KindError {
		resp.Errors = last0.Message
		rep.outcome = outcomeError
		return resp, rep
	}
	rep.exit = last0
	resp.Status = last0.Code
	switch last0.Reason {
	case ReasonTimeout:
		resp.Errors = "timeout running program"
	case ReasonOutputLimit:
		resp.Errors = "Output too large"
	case ReasonOOM:
		resp.Errors = "out of memory running program"
	case ReasonKilled, ReasonSignal:
		resp.Errors = last0.Message
	}
	if p.Test {
		for _, l := range strings.Split(stdout.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
				resp.TestsFailed++
			}
		}
	}
	switch {
	case last0.Reason != ReasonNone:
		rep.outcome = last0.Reason
	case last0.Code != 0:
		rep.outcome = outcomeExitNonZero
	default:
		rep.outcome = outcomeOK
	}
	return resp, rep
}
