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
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"playdoc/sandbox"
	"playdoc/share"
)

// Config configures a Server. Zero fields take the values of
// DefaultConfig, given in the comments.
type Config struct {
	// DataDir holds the private module cache, the warm build cache, the
	// binary cache and the build workspaces (default
	// os.UserCacheDir()/playdoc).
	DataDir string
	// ModCache is the private module cache (default DataDir/gomod); it
	// may be shared by several servers.
	ModCache string
	// Executor runs sandboxed processes; nil means the real sandbox.
	Executor Executor
	// Prebuild holds program sources (whole files, as sent to /api/run)
	// that are built in the background at start, so that their first
	// Run skips the compiler. The caller extracts them (cmd/playdoc takes
	// the content's runnable snippets): the backend knows no Markdown.
	Prebuild []string
	Logger   *slog.Logger

	MaxBuilds int // concurrent compilations (default 2)
	// Runners caps the runs holding a runner at once, compile included
	// (default 256). Within it, runs are admitted by resources: a run
	// starts while all runs together use under 90% of the sandbox's
	// totals (memory, processes; sandbox.Totals), so programs that sleep
	// (1-2 MB each) are not held back by a count sized for busy ones.
	Runners int
	Queue   int // runs waiting for a runner before 503 (default 256)
	// RunTotals bound all programs together, enforced by the kernel on the
	// run sandbox's parent cgroup (sandbox.Totals' defaults: half the
	// machine's memory, 8192 processes).
	RunTotals sandbox.Totals
	CacheSize int64 // bytes of cached binaries (default 1 GiB)

	// Shares keeps the shared snippets (/share, /p/ID); the caller closes
	// it. nil: the server opens a share.SQLite at ShareDB (default
	// share.DefaultPath(), a data folder) and closes it at Shutdown; the
	// old file store under DataDir/share is imported on first open.
	Shares      share.Store
	ShareDB     string
	ShareLimits share.Limits // per client and day (share.Limits' defaults)
	// SharePage renders /p/ID in the site's look; nil: a plain page.
	SharePage SharePageFunc

	CompileTimeout time.Duration // one user build (default 30s)
	WarmTimeout    time.Duration // each step of the cold warm-up (default 5m)
	CompileMemory  int64         // bytes (default 1 GiB)

	// Python is the interpreter Python programs run on (default
	// /usr/bin/python3, Debian's); without one, Python runs answer an
	// error event.
	Python string

	RunTimeout  time.Duration // wall time of a program (default 10s)
	RunCPUs     float64       // CPU quota of a program, in CPUs (default 1)
	RunMemory   int64         // bytes (default 256 MiB)
	OutputLimit int64         // stdout+stderr bytes (default 1 MiB)

	// RateLimit is the sustained number of run/compile/fmt requests per
	// second and client IP (default 2; negative: no limit), RateBurst
	// the bucket size (default 20).
	RateLimit float64
	RateBurst int
}

// DefaultConfig returns what each zero field of a Config stands for.
// DataDir, ModCache, Executor, Logger, Shares and ShareDB stay empty here:
// NewServer resolves them (the user cache folder, DataDir/gomod, the real
// sandbox, slog.Default, share.DefaultPath).
func DefaultConfig() Config {
	return Config{
		MaxBuilds:      2,
		Runners:        256,
		Queue:          256,
		CacheSize:      1 << 30,
		CompileTimeout: 30 * time.Second,
		WarmTimeout:    5 * time.Minute,
		CompileMemory:  1 << 30,
		RunTimeout:     10 * time.Second,
		RunCPUs:        1,
		RunMemory:      256 << 20,
		OutputLimit:    1 << 20,
		RateLimit:      2,
		RateBurst:      20,
	}
}

// Validate reports every field whose value means nothing: a negative
// count, size or duration, a CPU quota or rate that is not a number. Zero
// fields are valid (they take DefaultConfig's values), and so is a
// negative RateLimit (no limit).
func (c Config) Validate() error {
	var errs []error
	check := func(name string, bad bool) {
		if bad {
			errs = append(errs, fmt.Errorf("playground config: %s must not be negative", name))
		}
	}
	check("MaxBuilds", c.MaxBuilds < 0)
	check("Runners", c.Runners < 0)
	check("Queue", c.Queue < 0)
	check("CacheSize", c.CacheSize < 0)
	check("CompileTimeout", c.CompileTimeout < 0)
	check("WarmTimeout", c.WarmTimeout < 0)
	check("CompileMemory", c.CompileMemory < 0)
	check("RunTimeout", c.RunTimeout < 0)
	check("RunCPUs", c.RunCPUs < 0)
	check("RunMemory", c.RunMemory < 0)
	check("OutputLimit", c.OutputLimit < 0)
	check("RateBurst", c.RateBurst < 0)
	if math.IsNaN(c.RunCPUs) || math.IsInf(c.RunCPUs, 0) {
		errs = append(errs, fmt.Errorf("playground config: RunCPUs is %v", c.RunCPUs))
	}
	if math.IsNaN(c.RateLimit) || math.IsInf(c.RateLimit, 0) {
		errs = append(errs, fmt.Errorf("playground config: RateLimit is %v", c.RateLimit))
	}
	return errors.Join(errs...)
}

// orDefault sets *v to d when it is the zero value.
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// setDefaults fills the zero fields of a valid Config.
func (c *Config) setDefaults() error {
	if c.DataDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("no data dir: %w", err)
		}
		c.DataDir = filepath.Join(dir, "playdoc")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	d := DefaultConfig()
	orDefault(&c.MaxBuilds, d.MaxBuilds)
	orDefault(&c.Runners, d.Runners)
	orDefault(&c.Queue, d.Queue)
	orDefault(&c.CacheSize, d.CacheSize)
	orDefault(&c.CompileTimeout, d.CompileTimeout)
	orDefault(&c.WarmTimeout, d.WarmTimeout)
	orDefault(&c.CompileMemory, d.CompileMemory)
	orDefault(&c.RunTimeout, d.RunTimeout)
	orDefault(&c.RunCPUs, d.RunCPUs)
	orDefault(&c.RunMemory, d.RunMemory)
	orDefault(&c.OutputLimit, d.OutputLimit)
	orDefault(&c.RateLimit, d.RateLimit)
	orDefault(&c.RateBurst, d.RateBurst)
	return nil
}

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
			Totals: sandbox.Totals{Memory: int64(cfg.MaxBuilds)*cfg.CompileMemory + 512<<20}})
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

// errBusy and errClosing are admission failures (503).
var (
	errBusy    = errors.New("the playground is busy: too many programs queued, try again shortly")
	errClosing = errors.New("the playground is shutting down")
)

// ticket is an admitted run's place in the queue.
type ticket struct {
	s     *Server
	state int // 0 queued, 1 running, 2 done
}

// admit reserves a place for one run (a runner or a queue slot), or
// fails at once when both are full: callers answer 503.
func (s *Server) admit() (*ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, errClosing
	}
	if s.queued+s.running >= s.cfg.Runners+s.cfg.Queue {
		return nil, errBusy
	}
	s.queued++
	s.m.queueDepth.Set(float64(s.queued))
	s.active.Add(1)
	return &ticket{s: s}, nil
}

// wait blocks until a runner is free and the runs already going leave
// room (memory and processes under 90% of the sandbox's totals). Holding
// the runner while waiting for room keeps the queue's order.
func (t *ticket) wait(ctx context.Context) error {
	s := t.s
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := s.waitForRoom(ctx); err != nil {
		<-s.slots
		return err
	}
	s.mu.Lock()
	s.queued--
	s.running++
	s.m.queueDepth.Set(float64(s.queued))
	s.m.running.Set(float64(s.running))
	s.mu.Unlock()
	t.state = 1
	return nil
}

// usager is an Executor that can tell what all its runs use (the real
// sandbox; fakes cannot, and then only the runner count admits).
type usager interface{ Usage() sandbox.Usage }

// waitForRoom polls (every 20 ms: a run ending frees memory in the kernel,
// not through us) until the runs going leave room for one more.
func (s *Server) waitForRoom(ctx context.Context) error {
	u, ok := s.exec.(usager)
	if !ok {
		return nil
	}
	logged := false
	for {
		usage := u.Usage()
		if usage.Room() {
			return nil
		}
		if !logged {
			s.log.Info("playground: a run waits for room", "usage", usage.String())
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// done gives the runner (or queue slot) back.
func (t *ticket) done() {
	s := t.s
	s.mu.Lock()
	switch t.state {
	case 0:
		s.queued--
	case 1:
		s.running--
		<-s.slots
	default:
		s.mu.Unlock()
		return
	}
	t.state = 2
	s.m.queueDepth.Set(float64(s.queued))
	s.m.running.Set(float64(s.running))
	s.mu.Unlock()
	s.active.Done()
}

// counts returns how many runs are running and queued.
func (s *Server) counts() (running, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running, s.queued
}

// retryAfter is the Retry-After hint when busy, in seconds.
func (s *Server) retryAfter() string {
	return strconv.Itoa(max(1, int(s.cfg.RunTimeout.Seconds()/2)))
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
