package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// newPlaygroundProxy forwards the page's playground calls (every path of
// playgroundPaths) to the playground backend at rawURL, e.g.
// "https://play.example.com" or "http://10.0.0.5:8081/base": serve then
// needs no local sandbox, which only Linux has. A run's NDJSON events are
// passed on as the backend writes them.
//
// The backend sees all of serve's readers as one client (serve's address),
// so its per-client rate limit applies to them together. rawURL must be an
// absolute http or https URL; other values return an error.
func newPlaygroundProxy(rawURL string, log *slog.Logger) (http.Handler, error) {
	target, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--playground %q: %w", rawURL, err)
	}
	if (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("--playground %q: want an absolute http:// or https:// URL", rawURL)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
		},
		// Negative: flush after every write, so that a program's output
		// reaches the page when it is printed, not when a buffer fills.
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the reader went away (Stop, closed tab): nobody to answer
			}
			log.Warn("playground proxy: backend unreachable", "backend", target.Redacted(), "path", r.URL.Path, "err", err)
			jsonError(w, http.StatusBadGateway, fmt.Sprintf("the playground at %s cannot be reached: %v", target.Redacted(), err))
		},
	}, nil
}

// unavailablePlayground answers every playground call with 501 and why
// (err, e.g. that the sandbox needs Linux), which the page shows next to
// the recorded output.
func unavailablePlayground(err error) http.Handler {
	msg := err.Error() + "; run `playdoc serve --playground URL` to use a playground running on Linux"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jsonError(w, http.StatusNotImplemented, msg)
	})
}

// jsonError answers with status and a JSON {"error": msg}, the shape of
// the playground's own errors (docs/contracts.md §3).
func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
