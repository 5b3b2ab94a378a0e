// Package devserver is the authoring side of `playdoc serve`: it watches
// the content and static folders, rebuilds the site in memory through the
// incremental site.Builder, serves the last good build, and tells the open
// pages what changed over a Server-Sent Events stream (/_playdoc/events)
// so that they reload themselves or show the build's errors in an overlay.
package devserver

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"playdoc/site"
	"playdoc/snippet"
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

// Defaults of Config's timing fields.
const (
	DefaultQuiet     = 8 * time.Millisecond
	DefaultMaxWait   = 200 * time.Millisecond
	DefaultHeartbeat = 15 * time.Second
	// DefaultErrorDelay holds a failed build's errors back briefly: a
	// build that read a file in the middle of a non-atomic save fails,
	// and the build of the rest of the save follows at once.
	DefaultErrorDelay = 100 * time.Millisecond
)

//go:embed reload.css
var assets embed.FS

// Config configures a Server.
type Config struct {
	// Site is what to build; LiveReload is forced on.
	Site site.Config
	// ContentDir and StaticDir, when set, are folders on disk that
	// replace Site.Content and Site.Static: the server watches them
	// recursively and keeps their files in memory between changes.
	// Unset, Site's file systems are used as they are and not watched
	// (embedded files never change).
	ContentDir, StaticDir string
	// Quiet is how long the folders must stay still before a rebuild;
	// MaxWait bounds the wait under a continuous stream of changes.
	Quiet, MaxWait time.Duration
	// Heartbeat is the interval of keep-alive comments on event streams.
	Heartbeat time.Duration
	// ErrorDelay is how long a failed build's errors wait, unshown,
	// for a next build that may supersede them (negative: no wait).
	ErrorDelay time.Duration
	Logger     *slog.Logger
	// Errors receives each failed build's errors, one "file:line:
	// message" per line, once per change (default: discarded).
	Errors io.Writer
	// ConfigFile, when set, is the site's configuration file on disk
	// (it need not exist yet): the server watches it and, when it
	// changes, rebuilds with the configuration Reload returns. A Reload
	// error (a broken file: "playdoc.toml:3: ...") is shown like a
	// build's errors and the last good site stays served, until a save
	// of the file makes Reload succeed.
	ConfigFile string
	// Reload reads the site configuration again; ContentDir and
	// StaticDir still replace its file systems. Required with ConfigFile.
	Reload func() (site.Config, error)
	// OnBuild, if set, is called after each good build with the
	// previous good site (nil at first) and the new one; serve uses it
	// to re-warm changed snippets. It must not block for long.
	OnBuild func(old, cur *site.Site)
}

// built is a good build and its handler, swapped in as one.
type built struct {
	site    *site.Site
	handler http.Handler
	n       int // build number, counting good builds from 1
	at      time.Time
	changed []string
}

// Server rebuilds the site on changes and serves it with live reload.
type Server struct {
	cfg     Config
	builder *site.Builder // guarded by buildMu
	current atomic.Pointer[built]
	hub     *hub
	id      string        // distinguishes server instances for the pages
	done    chan struct{} // closed by Close: ends the event streams
	close   sync.Once

	// Guarded by hub.mu (the state new clients get).
	errs []string // errors of the last build; nil when it was good

	watch atomic.Pointer[watcher] // set while Run watches
	dirs  []*dirFS                // the folders on disk, watched
	// static serves reload.js; a reloaded configuration keeps the
	// static folder (the flags choose it, not the file).
	static fs.FS

	buildMu     sync.Mutex  // serializes Rebuild; guards the fields below
	gen         uint64      // counts Rebuild calls
	pendingFail *time.Timer // a failed build's errors, held back
	lastErrs    []string    // last errors printed, to print each once
	builds      atomic.Int64
	// configDirty is set when ConfigFile changed and stays set until
	// Reload succeeds: a content edit must not hide a broken config.
	configDirty atomic.Bool
}

// New returns a Server; call Rebuild (or Run) to build the site.
func New(cfg Config) *Server {
	var dirs []*dirFS
	if cfg.ContentDir != "" {
		dirs = append(dirs, newDirFS(cfg.ContentDir))
	}
	if cfg.StaticDir != "" {
		dirs = append(dirs, newDirFS(cfg.StaticDir))
	}
	if cfg.ConfigFile != "" {
		if abs, err := filepath.Abs(cfg.ConfigFile); err == nil {
			cfg.ConfigFile = abs // as the watcher names it
		}
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = DefaultQuiet
	}
	if cfg.MaxWait < cfg.Quiet {
		cfg.MaxWait = max(DefaultMaxWait, cfg.Quiet)
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.ErrorDelay == 0 {
		cfg.ErrorDelay = DefaultErrorDelay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Errors == nil {
		cfg.Errors = io.Discard
	}
	s := &Server{
		cfg:  cfg,
		id:   strconv.FormatInt(time.Now().UnixNano(), 36),
		done: make(chan struct{}),
		dirs: dirs,
	}
	s.cfg.Site = s.served(cfg.Site)
	s.static = s.cfg.Site.Static
	s.builder = site.New(s.cfg.Site)
	s.hub = newHub(s.state)
	return s
}

// served adapts a site configuration to serving: live reload on, and the
// watched folders in place of its file systems.
func (s *Server) served(c site.Config) site.Config {
	c.LiveReload = true
	i := 0
	if s.cfg.ContentDir != "" {
		c.Content = s.dirs[i]
		i++
	}
	if s.cfg.StaticDir != "" {
		c.Static = s.dirs[i]
	}
	return c
}

// reconfigure reads the configuration file again when it changed since
// the last successful read, and starts a new builder with it. Called with
// buildMu held.
func (s *Server) reconfigure() error {
	if s.cfg.Reload == nil || !s.configDirty.Swap(false) {
		return nil
	}
	c, err := s.cfg.Reload()
	if err != nil {
		s.configDirty.Store(true) // read it again on the next build
		return err
	}
	s.cfg.Site = s.served(c)
	s.builder = s.builder.Reconfigured(s.cfg.Site)
	s.cfg.Logger.Info("configuration reloaded", "file", s.cfg.ConfigFile)
	return nil
}

// Site returns the site being served: the last good build, or nil.
func (s *Server) Site() *site.Site {
	if b := s.current.Load(); b != nil {
		return b.site
	}
	return nil
}

// Builds is the number of builds attempted so far, good or bad.
func (s *Server) Builds() int { return int(s.builds.Load()) }

// Clients is the number of connected event streams.
func (s *Server) Clients() int { return s.hub.count() }

// Close ends every event stream (call it before shutting the HTTP server
// down, since streams never end by themselves).
func (s *Server) Close() {
	s.close.Do(func() { close(s.done) })
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.gen++ // no held-back error is published any more
	if s.pendingFail != nil {
		s.pendingFail.Stop()
	}
}

// state is what a newly connected page gets: hello, and the errors when
// the current build is broken. Called under hub.mu.
func (s *Server) state() []Event {
	hello := HelloData{Server: s.id, Paths: []string{}}
	if b := s.current.Load(); b != nil {
		hello.Build, hello.Time, hello.Paths = b.n, b.at.UnixMilli(), b.changed
	}
	n := hello.Build
	ev := []Event{{Name: "hello", Data: hello}}
	if s.errs != nil {
		ev = append(ev, Event{Name: "error", Data: ErrorData{Errors: s.errs, Build: n}})
	}
	return ev
}

// Rebuild builds the site. On success it swaps the new site in and tells
// the pages which paths changed; on a content error it keeps the last good
// site, prints the errors (once per distinct set) and shows them on the
// pages. The returned error is the build's.
func (s *Server) Rebuild(ctx context.Context) error {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	start := time.Now()
	s.builds.Add(1)
	s.gen++
	if s.pendingFail != nil {
		s.pendingFail.Stop()
		s.pendingFail = nil
	}
	if err := s.reconfigure(); err != nil {
		s.fail(err)
		return err
	}
	next, err := s.builder.Build(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		s.fail(err)
		return err
	}
	old := s.current.Load()
	var oldSite *site.Site
	n := 1
	if old != nil {
		oldSite, n = old.site, old.n+1
	}
	changed := next.Changed(oldSite)
	if changed == nil {
		changed = []string{}
	}
	b := &built{site: next, handler: next.Handler(), n: n, at: time.Now(), changed: changed}
	if s.lastErrs != nil {
		fmt.Fprintln(s.cfg.Errors, "build fixed")
	}
	s.lastErrs = nil
	if perr := s.hub.publish(func() Event {
		s.current.Store(b)
		s.errs = nil
		return Event{Name: "reload", Data: ReloadData{Paths: changed, Build: n}}
	}); perr != nil {
		return perr
	}
	s.cfg.Logger.Info("rebuilt", "build", n, "changed", len(changed), "took", time.Since(start).Round(time.Microsecond))
	if s.cfg.OnBuild != nil {
		s.cfg.OnBuild(oldSite, next)
	}
	return nil
}

// fail records a failed build: after ErrorDelay unless another build
// starts first, it prints the errors and shows them on the pages. Called
// with buildMu held.
func (s *Server) fail(err error) {
	msgs := errorLines(err)
	if s.cfg.ErrorDelay < 0 {
		s.publishFail(msgs)
		return
	}
	gen := s.gen
	s.pendingFail = time.AfterFunc(s.cfg.ErrorDelay, func() {
		s.buildMu.Lock()
		defer s.buildMu.Unlock()
		if s.gen == gen {
			s.publishFail(msgs)
		}
	})
}

// publishFail prints and broadcasts a failed build's errors. Called with
// buildMu held.
func (s *Server) publishFail(msgs []string) {
	if !slices.Equal(msgs, s.lastErrs) {
		for _, m := range msgs {
			fmt.Fprintln(s.cfg.Errors, m)
		}
	}
	s.lastErrs = msgs
	if perr := s.hub.publish(func() Event {
		s.errs = msgs
		n := 0
		if b := s.current.Load(); b != nil {
			n = b.n
		}
		return Event{Name: "error", Data: ErrorData{Errors: msgs, Build: n}}
	}); perr != nil {
		s.cfg.Logger.Error("publish build error", "err", perr)
	}
}

// errorLines turns a build error into "file:line: message" lines: every
// content error of an ErrorList, or the error's lines (a configuration's
// errors are joined, one per line).
func errorLines(err error) []string {
	var list site.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Error()
		}
		return out
	}
	return strings.Split(strings.TrimRight(err.Error(), "\n"), "\n")
}

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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		mux.ServeHTTP(w, r)
	})
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

// SaveCache writes the builder's highlight cache for the next start (see
// site.Builder.SaveCache); without a good build there is nothing to save.
func (s *Server) SaveCache() error {
	cur := s.Site()
	if cur == nil {
		return nil
	}
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	return s.builder.SaveCache(cur)
}

// newSnippets returns the snippets of cur whose code old did not have,
// each code once.
func newSnippets(old, cur *site.Site) []snippet.Snippet {
	seen := map[string]bool{}
	if old != nil {
		for _, sn := range old.Snippets {
			seen[sn.Code] = true
		}
	}
	var out []snippet.Snippet
	for _, sn := range cur.Snippets {
		if sn.IsGo() && !seen[sn.Code] { // only Go programs are pre-built
			seen[sn.Code] = true
			out = append(out, sn)
		}
	}
	return out
}
