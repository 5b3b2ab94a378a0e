package playground

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"playdoc/playground/api"
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

// readCompileRequest reads a /compile request the ways Go playground
// clients send it: form fields body, withVet and version=2 (urlencoded,
// multipart or in the query), else a JSON {"Body", "WithVet"} body,
// whatever its Content-Type (some clients send JSON as text/plain to
// avoid a CORS preflight).
func readCompileRequest(w http.ResponseWriter, r *http.Request) (compileRequest, error) {
	var req compileRequest
	r.Body = http.MaxBytesReader(w, r.Body, 8*MaxSourceSize)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return req, errors.New("bad form: " + err.Error())
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(8 * MaxSourceSize); err != nil {
			return req, errors.New("bad form: " + err.Error())
		}
	}
	if body := r.FormValue("body"); body != "" || mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
		req.Body = body
		req.WithVet, _ = strconv.ParseBool(r.FormValue("withVet"))
	} else {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return req, fmt.Errorf("source too large: the limit is %d KiB", MaxSourceSize>>10)
		}
		if err := json.Unmarshal(raw, &req); err != nil {
			return req, errors.New(`bad request: want the form field body, or JSON {"Body": "...", "WithVet": bool}: ` + err.Error())
		}
	}
	if len(req.Body) > MaxSourceSize {
		return req, fmt.Errorf("source too large: the limit is %d KiB", MaxSourceSize>>10)
	}
	return req, nil
}

// handleCompile is POST /compile, for existing Go playground clients: it
// compiles and runs like /api/run but answers once, with all events.
func (s *Server) handleCompile(w http.ResponseWriter, r *http.Request) {
	admitRun(s, w, r, readCompileRequest, func(ctx context.Context, t *ticket, run *Run, req compileRequest) {
		resp, rep := s.compileAndRun(ctx, t, req)
		s.logRun(run, rep)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// compileErrorText is a build failure as the Go playground reports it:
// the go command's output, files of the program's directory as
// "./prog.go:4:2: ...", newline-terminated; a build over its time limit
// is "timeout running go build".
func compileErrorText(ce *CompileError) string {
	if ce.Timeout {
		return "timeout running go build\n"
	}
	var sb strings.Builder
	for _, l := range strings.Split(ce.Message, "\n") {
		if m := diagRE.FindStringSubmatch(l); m != nil && !strings.Contains(m[1], "/") {
			sb.WriteString("./")
		}
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// compileAndRun executes an admitted /compile request and folds the
// events into the Go playground's answer.
func (s *Server) compileAndRun(ctx context.Context, t *ticket, req compileRequest) (compileResponse, runReport) {
	resp := compileResponse{Events: []compileEvent{}}
	var opts execOptions
	if req.WithVet {
		opts.afterBuild = func(ctx context.Context, p *Program) error {
			out, err := s.builder.vet(ctx, p)
			if err != nil {
				return fmt.Errorf("vet failed: %w", err)
			}
			resp.VetErrors, resp.VetOK = out, out == ""
			return nil
		}
	}
	var last time.Duration
	var stdout, msg strings.Builder // msg: the last event's message, growing
	rep := s.serveRun(ctx, t, []byte(req.Body), opts, func(e api.Event) {
		if e.Kind != api.KindStdout && e.Kind != api.KindStderr {
			return
		}
		delay := max(e.T-last, 0)
		last = max(e.T, last)
		// Consecutive writes to one stream with no gap are one event, as
		// the Go playground sends them.
		if n := len(resp.Events); n > 0 && delay == 0 && resp.Events[n-1].Kind == string(e.Kind) {
			msg.WriteString(e.Data)
		} else {
			if n > 0 {
				resp.Events[n-1].Message = msg.String()
			}
			msg.Reset()
			msg.WriteString(e.Data)
			resp.Events = append(resp.Events, compileEvent{Kind: string(e.Kind), Delay: delay})
		}
		if e.Kind == api.KindStdout {
			stdout.WriteString(e.Data)
		}
	})
	if n := len(resp.Events); n > 0 {
		resp.Events[n-1].Message = msg.String()
	}
	resp.IsTest = rep.test
	final := rep.final
	switch final.Kind {
	case api.KindCompileError:
		resp.Errors, resp.Events = compileErrorText(rep.compileErr), nil
		return resp, rep
	case api.KindError:
		resp.Errors = final.Message
		return resp, rep
	}
	resp.Status = final.Code
	switch final.Reason {
	case api.ReasonTimeout:
		resp.Errors = "timeout running program"
	case api.ReasonOutputLimit:
		resp.Errors = "Output too large"
	case api.ReasonOOM:
		resp.Errors = "out of memory running program"
	case api.ReasonKilled, api.ReasonSignal:
		resp.Errors = final.Message
	}
	if rep.test {
		for _, l := range strings.Split(stdout.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") {
				resp.TestsFailed++
			}
		}
	}
	return resp, rep
}
