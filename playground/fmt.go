package playground

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/imports"
	"golang.org/x/tools/txtar"
)

// fmtResponse is the Go playground's /fmt answer.
type fmtResponse struct {
	Body  string
	Error string
}

// handleFmt is POST /fmt and /api/fmt: gofmt the form field body, and fix
// its imports when imports=true.
func (s *Server) handleFmt(w http.ResponseWriter, r *http.Request) {
	if !s.allow(w, s.clientIP(r)) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8*MaxSourceSize)
	if err := r.ParseForm(); err != nil {
		httpError(w, http.StatusBadRequest, "bad form: "+err.Error())
		return
	}
	body := r.FormValue("body")
	if len(body) > MaxSourceSize {
		httpError(w, http.StatusBadRequest, "source too large")
		return
	}
	// As the Go playground: any non-empty imports value asks for goimports.
	fixImports := r.FormValue("imports") != ""
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(formatSource(body, fixImports))
}

// formatSource formats src like the Go playground's /fmt: a single file
// is prog.go; in a txtar archive (the multi-file format) every .go file
// is formatted, and every go.mod, each named in errors by its own name.
// fixImports runs goimports instead of gofmt.
func formatSource(src string, fixImports bool) fmtResponse {
	a := txtar.Parse([]byte(src))
	if len(a.Files) == 0 {
		out, err := formatFile("prog.go", []byte(src), fixImports)
		if err != nil {
			return fmtResponse{Error: err.Error()}
		}
		return fmtResponse{Body: string(out)}
	}
	if len(bytes.TrimSpace(a.Comment)) > 0 {
		out, err := formatFile("prog.go", a.Comment, fixImports)
		if err != nil {
			return fmtResponse{Error: err.Error()}
		}
		a.Comment = out
	}
	for i, f := range a.Files {
		out, err := formatFile(f.Name, f.Data, fixImports)
		if err != nil {
			return fmtResponse{Error: err.Error()}
		}
		a.Files[i].Data = out
	}
	return fmtResponse{Body: string(txtar.Format(a))}
}

// formatFile formats one file of a submission by its kind; other files
// are left as they are.
func formatFile(name string, data []byte, fixImports bool) ([]byte, error) {
	switch {
	case strings.HasSuffix(name, ".go"):
		out, err := imports.Process(name, data, &imports.Options{
			Comments: true, TabIndent: true, TabWidth: 8, FormatOnly: !fixImports,
		})
		if err != nil {
			return nil, errors.New(strings.TrimSpace(err.Error()))
		}
		return out, nil
	case path.Base(name) == "go.mod":
		f, err := modfile.Parse(name, data, nil)
		if err != nil {
			return nil, errors.New(strings.TrimSpace(err.Error()))
		}
		return modfile.Format(f.Syntax), nil
	}
	return data, nil
}
