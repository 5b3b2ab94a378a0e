// Package devserver is the authoring side of `playdoc serve`: it watches
// the content and static folders, rebuilds the site in memory through the
// incremental site.Builder, serves the last good build, and tells the open
// pages what changed over a Server-Sent Events stream (/_playdoc/events)
// so that they reload themselves or show the build's errors in an overlay.
package devserver

import (
	"context"
	"errors"
	"fmt"
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
)

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
