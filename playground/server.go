// Package playground is playdoc's playground backend: it compiles untrusted
// Go programs with the local toolchain and runs them, both inside the
// sandbox, and streams their timed output over HTTP (docs/contracts.md §3).
// It also speaks the Go playground's /compile, /fmt and /version protocol.
package playground

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"playdoc/sandbox"
	"playdoc/share"
)

// Server is the playground backend. Create it with NewServer, serve
// Handler, and end it with Shutdown.
type Server struct {
	cfg     Config
	log     *slog.Logger
	exec    Executor
	builder *Builder
	python  *Python // nil: no interpreter found
	pyErr   error   // why, for the error event
	cache   *Cache
	shares  share.Store
	flights singleflight.Group
	limiter *rateLimiter
	m       *metrics
	mux     *http.ServeMux

	bgCtx context.Context // background work (prepare, warm); ended by Shutdown
	// killCtx ends shared compiles: only when Shutdown gives up waiting
	// for the runs in flight (which may be waiting on such a compile).
	killCtx  context.Context
	killAll  context.CancelFunc
	initDone chan struct{} // closed when the init program is in use, or failed
	initErr  error         // why it failed; read after initDone
	bgCancel context.CancelFunc
	bg       sync.WaitGroup

	slots chan struct{} // one token per runner in use
	// starts bounds the sandbox starts in progress: starting is CPU-bound,
	// and under a burst it is better that the first runs start quickly
	// than that all of them start late together.
	starts  chan struct{}
	mu      sync.Mutex
	queued  int
	running int
	closing bool
	runs    map[string]*Run // admitted runs, by id
	active  sync.WaitGroup  // admitted runs not yet finished
	closers []func() error  // what NewServer opened: the sandboxes, the share store
}

// NewServer prepares a playground: it returns at once, while the module
// cache, the warm build cache and the content's snippets are prepared in
// the background (runs wait for the toolchain to be ready).
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	// Private: the warm build cache and the workspaces below it must be
	// writable by the sandbox's user, so nobody else may reach them.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	ex, buildEx := cfg.Executor, cfg.Executor
	var closers []func() error
	var sandboxes []*sandbox.Sandbox
	if ex == nil {
		// Programs get RunCPUs each (fair under a burst); builds get all
		// (the compiler and linker use them, and few run at once).
		runSB, err := sandbox.New(context.Background(), sandbox.Options{Logger: cfg.Logger, CPUs: cfg.RunCPUs, Totals: cfg.RunTotals})
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		// Builds have their own, smaller budget: MaxBuilds compiles at
		// their own memory limit, plus room for the warm-up's go command.
		buildSB, err := sandbox.New(context.Background(), sandbox.Options{Logger: cfg.Logger, CPUs: float64(runtime.NumCPU()),
			Totals: sandbox.Totals{Memory: int64(cfg.MaxBuilds)*cfg.CompileMemory + 512<<20}, WarmMax: cfg.MaxBuilds})
		if err != nil {
			_ = runSB.Close()
			return nil, fmt.Errorf("build sandbox: %w", err)
		}
		ex, buildEx = SandboxExecutor{Sandbox: runSB}, SandboxExecutor{Sandbox: buildSB}
		closers = append(closers, runSB.Close, buildSB.Close)
		sandboxes = append(sandboxes, runSB, buildSB)
	}
	fail := func(err error) (*Server, error) {
		for _, c := range closers {
			_ = c()
		}
		return nil, err
	}
	b, err := newBuilder(buildEx, cfg.Logger, cfg.DataDir, cfg.ModCache, cfg.MaxBuilds, BuildLimits{
		Timeout: cfg.CompileTimeout, WarmTimeout: cfg.WarmTimeout, Memory: cfg.CompileMemory,
	})
	if err != nil {
		return fail(err)
	}
	cache, err := NewCache(filepath.Join(cfg.DataDir, "bin"), cfg.CacheSize)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, cache.Close)
	shares := cfg.Shares
	if shares == nil {
		if cfg.ShareDB == "" {
			if cfg.ShareDB, err = share.DefaultPath(); err != nil {
				return fail(err)
			}
		}
		db, err := share.OpenSQLite(context.Background(), cfg.ShareDB, share.SQLiteOptions{
			Limits: cfg.ShareLimits, ImportDir: filepath.Join(cfg.DataDir, "share"), Logger: cfg.Logger,
		})
		if err != nil {
			return fail(err)
		}
		shares = db
		closers = append(closers, db.Close)
	}
	s := &Server{
		shares:  shares,
		cfg:     cfg,
		log:     cfg.Logger,
		exec:    ex,
		builder: b,
		cache:   cache,
		limiter: newRateLimiter(cfg.RateLimit, cfg.RateBurst, 10000),
		m:       newMetrics(),
		slots:   make(chan struct{}, cfg.Runners),
		starts:  make(chan struct{}, max(2, runtime.NumCPU())),
		runs:    map[string]*Run{},
		closers: closers,
	}
	if py, err := FindPython(cfg.Python); err == nil {
		s.python = py
		s.closers = append(s.closers, py.Close)
	} else {
		s.pyErr = err
		s.log.Warn("playground: Python programs cannot run", "err", err)
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.killCtx, s.killAll = context.WithCancel(context.Background())
	s.routes()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		b.prepare(s.bgCtx)
		if b.prepErr == nil {
			b.keepCacheFresh(s.bgCtx)
		}
	}()
	s.initDone = make(chan struct{})
	if len(sandboxes) > 0 {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			defer close(s.initDone)
			s.initErr = s.useSmallInit(s.bgCtx, sandboxes)
		}()
	} else {
		close(s.initDone)
	}
	if len(cfg.Prebuild) > 0 {
		s.Warm(s.bgCtx, cfg.Prebuild)
	}
	return s, nil
}

// useSmallInit builds the sandbox's init as a program of its own and has
// the sandboxes start their inits from it: a re-executed playdoc pays the
// generator's package initialisation (~70 ms of CPU) at every run. Until it
// is built, and if building fails, the inits are playdoc itself.
func (s *Server) useSmallInit(ctx context.Context, sbs []*sandbox.Sandbox) error {
	// After the standard library's warm-up: on a new machine both compile
	// from an empty cache, and a reader's first Run waits on the warm-up,
	// not on this.
	select {
	case <-s.builder.stdReady:
	case <-ctx.Done():
		return ctx.Err()
	}
	start := time.Now()
	path, err := sandbox.BuildInit(ctx, sandbox.InitBuild{Go: s.builder.goBin, Dir: filepath.Join(s.cfg.DataDir, "init")})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("playground: sandbox inits stay playdoc re-executed", "err", err)
		}
		return err
	}
	for _, sb := range sbs {
		if err := sb.UseInitBinary(path); err != nil {
			s.log.Warn("playground: sandbox inits stay playdoc re-executed", "err", err)
			return err
		}
	}
	s.log.Info("playground: sandbox init program ready", "ms", time.Since(start).Milliseconds())
	return nil
}

// InitReady waits until the sandbox's init program is built and in use
// (or ctx ends), and reports whether building it failed (the server then
// keeps re-executing itself as the init, which works but costs more).
func (s *Server) InitReady(ctx context.Context) error {
	select {
	case <-s.initDone:
		return s.initErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DataDir is the server's data folder.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Ready waits until the toolchain is prepared (or ctx ends) and reports
// whether preparing it failed.
func (s *Server) Ready(ctx context.Context) error { return s.builder.waitReady(ctx) }

// Warm builds the given programs into the cache in the background, one
// at a time, so that a later Run of the same source skips the compiler.
// Programs that do not compile are cached as such; nothing is run.
func (s *Server) Warm(ctx context.Context, codes []string) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.bg.Add(1)
	s.mu.Unlock()
	// Ends with the caller's context or at Shutdown, whichever is first.
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.bgCtx, cancel)
	go func() {
		defer s.bg.Done()
		defer cancel()
		defer stop()
		start, built := time.Now(), 0
		for _, code := range codes {
			if ctx.Err() != nil {
				return
			}
			p, err := ParseProgram([]byte(code))
			if err != nil {
				continue
			}
			b, err := s.build(ctx, p)
			if err == nil {
				b.art.Release()
			}
			if !b.cached {
				built++
			}
		}
		s.log.Info("playground: snippets pre-built", "snippets", len(codes), "compiled", built, "ms", time.Since(start).Milliseconds())
	}()
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/run", s.handleRun)
	mux.HandleFunc("POST /api/stop", s.handleStop)
	mux.HandleFunc("POST /api/stdin", s.handleStdin)
	for _, p := range []string{"/api/fmt", "/fmt"} {
		mux.HandleFunc("POST "+p, cors(s.handleFmt))
		mux.HandleFunc("OPTIONS "+p, cors(nil))
	}
	mux.HandleFunc("POST /compile", cors(s.handleCompile))
	mux.HandleFunc("OPTIONS /compile", cors(nil))
	mux.HandleFunc("GET /version", cors(s.handleVersion))
	mux.HandleFunc("OPTIONS /version", cors(nil))
	mux.HandleFunc("POST /share", cors(s.handleShare))
	mux.HandleFunc("OPTIONS /share", cors(nil))
	mux.HandleFunc("GET /p/{id}", cors(s.handleSnippet))
	mux.HandleFunc("OPTIONS /p/{id}", cors(nil))
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", s.m.handler())
	s.mux = mux
}

// Handler serves the playground API (docs/contracts.md §3); mount it at
// the root of an origin.
func (s *Server) Handler() http.Handler { return s.mux }

// cors lets pages on other origins call the Go playground compatible
// endpoints; a nil handler answers the preflight.
func cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if h == nil {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	}
}

// httpError answers with a JSON {"error": msg}.
func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// Shutdown stops admitting runs, lets the running ones finish until ctx
// ends, then kills what is left and waits for it to be gone.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.bgCancel()
	done := make(chan struct{})
	go func() {
		s.active.Wait()
		s.bg.Wait()
		close(done)
	}()
	defer func() {
		s.killAll()
		if s.builder.Workspaces() == 0 {
			_ = os.RemoveAll(s.builder.workRoot)
		}
		for _, c := range s.closers {
			if err := c(); err != nil {
				s.log.Warn("playground: close sandbox", "err", err)
			}
		}
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.killAll() // shared compiles: their runs are killed next
	s.mu.Lock()
	for _, r := range s.runs {
		r.cancel(errServerShutdown)
	}
	s.mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		return errors.New("shutdown: runs still ending after kill")
	}
	return ctx.Err()
}

var errServerShutdown = errors.New("the server is shutting down")
