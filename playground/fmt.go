package playground

import (
	"encoding/json"
	"net/http"
	"strings"

	"golang.org/x/tools/imports"
)

// fmtResponse is the Go playground's /fmt answer.
type fmtResponse struct {
	Body  string
	Error string
}

// handleFmt is POST /fmt and /api/fmt: gofmt the form field body, and fix
// its imports when imports=true.
func (s *Server) handleFmt(w http.ResponseWriter, r *http.Request) {
	if !s.allow(w, clientIP(r)) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8*MaxSourceSize)
	if err := r.ParseForm(); err != nil {
		httpError(w, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	body := r.PostForm.Get("body")
	if len(body) > MaxSourceSize {
		httpError(w, http.StatusBadRequest, "source too large")
		return
	}
	fixImports := r.PostForm.Get("imports") == "true"
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(formatSource(body, fixImports))
}

// formatSource formats src like gofmt (goimports with fixImports). Errors
// name the file prog.go, as the Go playground does.
func formatSource(src string, fixImports bool) fmtResponse {
	out, err := imports.Process("prog.go", []byte(src), &imports.Options{
		Comments: true, TabIndent: true, TabWidth: 8, FormatOnly: !fixImports,
	})
	if err != nil {
		return fmtResponse{Error: strings.TrimSpace(err.Error())}
	}
	return fmtResponse{Body: string(out)}
}
