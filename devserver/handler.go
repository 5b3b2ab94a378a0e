package devserver

import (
	"embed"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"slices"
	"strconv"

	"playdoc/templates"
)

// Paths under which the dev server answers; none of them is ever part of a
// built site (templates.ReloadScript is the script the pages load).
const (
	Prefix     = "/_playdoc/"
	EventsPath = "/_playdoc/events"
	StylePath  = "/_playdoc/reload.css"
	ScriptPath = templates.ReloadScript
)

// CSP is the Content-Security-Policy of the published site, applied by the
// dev server too so that authors see what readers get.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// WithCSP returns h with CSP set on every answer, before h writes: the
// dev server, `playdoc playground`'s site pages and the browser tests'
// servers all serve under the one policy.
func WithCSP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		h.ServeHTTP(w, r)
	})
}

// assets holds the overlay's stylesheet, served at StylePath.
//
//go:embed reload.css
var assets embed.FS

// Handler serves the current site, the event stream, and the reload
// script and stylesheet. Before any good build it serves a page listing
// the errors, which reloads itself once the site builds.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+EventsPath, func(w http.ResponseWriter, r *http.Request) {
		s.hub.serveEvents(w, r, s.cfg.Heartbeat, s.done)
	})
	mux.HandleFunc("GET "+ScriptPath, s.serveScript)
	mux.HandleFunc("GET "+StylePath, func(w http.ResponseWriter, r *http.Request) {
		css, err := assets.ReadFile("reload.css")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		serveBytes(w, r, "text/css; charset=utf-8", css)
	})
	mux.HandleFunc(Prefix, http.NotFound)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b := s.current.Load()
		if b == nil {
			s.serveBroken(w)
			return
		}
		b.handler.ServeHTTP(w, r)
	})
	return WithCSP(mux)
}

// serveScript serves reload.js from the static folder, fresh, so that the
// script works even before the first good build.
func (s *Server) serveScript(w http.ResponseWriter, r *http.Request) {
	var js []byte
	var err error
	if s.static != nil {
		js, err = fs.ReadFile(s.static, "reload.js")
	}
	if (err != nil || js == nil) && s.Site() != nil {
		if f, ok := s.Site().Files[ScriptPath]; ok {
			js, err = f.Body, nil
		}
	}
	if err != nil {
		http.Error(w, "reload.js: "+err.Error(), http.StatusNotFound)
		return
	}
	serveBytes(w, r, "text/javascript; charset=utf-8", js)
}

func serveBytes(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// serveBroken answers before the first good build: the errors, and the
// reload script, which reloads the page on the next good build.
func (s *Server) serveBroken(w http.ResponseWriter) {
	s.hub.mu.Lock()
	errs := slices.Clone(s.errs)
	s.hub.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprint(w, `<!DOCTYPE html><html lang="en" data-livereload data-playdoc-broken><head><meta charset="utf-8">`+
		`<title>Build failed · playdoc</title><script src="`+ScriptPath+`" defer></script></head><body><main><h1>The site does not build</h1><pre>`)
	for _, e := range errs {
		fmt.Fprintln(w, html.EscapeString(e))
	}
	if len(errs) == 0 {
		fmt.Fprintln(w, "building…")
	}
	fmt.Fprint(w, "</pre><p>Fix the files above: this page reloads itself.</p></main></body></html>\n")
}
