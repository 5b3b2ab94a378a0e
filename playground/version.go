package playground

import (
	"encoding/json"
	"net/http"
	"strings"
)

// versionResponse is the Go playground's /version answer.
type versionResponse struct {
	Version string // e.g. go1.26.8
	Release string // e.g. go1.26
	Name    string // e.g. Go 1.26
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(versionOf(s.builder.Version()))
}

// versionOf derives the release names from a full Go version.
func versionOf(v string) versionResponse {
	rel := v
	if parts := strings.SplitN(strings.TrimPrefix(v, "go"), ".", 3); len(parts) >= 2 {
		rel = "go" + parts[0] + "." + parts[1]
	}
	return versionResponse{Version: v, Release: rel, Name: "Go " + strings.TrimPrefix(rel, "go")}
}
