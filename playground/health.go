package playground

import (
	"encoding/json"
	"net/http"

	"playdoc/sandbox"
)

// healthResponse is the /healthz answer.
type healthResponse struct {
	OK      bool `json:"ok"`
	Running int  `json:"running"`
	Queued  int  `json:"queued"`
	// CoreReady: the common standard packages are warm (seconds after a
	// new server starts), so programs that import only those build
	// without waiting. StdReady: the rest of the standard library too, so
	// programs that import no module build without waiting. Ready: the
	// allowed modules are warm too (minutes after StdReady on a new
	// machine).
	CoreReady    bool   `json:"coreReady"`
	StdReady     bool   `json:"stdReady"`
	Ready        bool   `json:"ready"`
	Error        string `json:"error,omitempty"`
	CacheEntries int    `json:"cacheEntries"`
	CacheBytes   int64  `json:"cacheBytes"`
	// Sandbox lists the isolation layers and whether each is active.
	Sandbox []sandbox.Layer `json:"sandbox,omitempty"`
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := healthResponse{OK: true}
	h.Running, h.Queued = s.counts()
	h.CacheEntries, h.CacheBytes = s.cache.Stats()
	if l, ok := s.exec.(interface{ Layers() []sandbox.Layer }); ok {
		h.Sandbox = l.Layers()
	}
	select {
	case <-s.builder.coreReady:
		h.CoreReady = true
	default:
	}
	select {
	case <-s.builder.stdReady:
		h.StdReady = true
	default:
	}
	select {
	case <-s.builder.ready:
		h.Ready = true
		if s.builder.prepErr != nil {
			h.OK, h.Error = false, s.builder.prepErr.Error()
		}
	default:
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !h.OK {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}
