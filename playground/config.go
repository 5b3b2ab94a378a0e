package playground

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"time"

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

	RunTimeout time.Duration // wall time of a program (default 10s)
	// RunCPUs is the CPU quota of a program, in CPUs (default 2: enough
	// for goroutines to show a parallel speed-up, as the CPU-bound page's
	// "Run both" does, and still a bound on one program).
	RunCPUs     float64
	RunMemory   int64 // bytes (default 256 MiB)
	OutputLimit int64 // stdout+stderr bytes (default 1 MiB)

	// RateLimit is the sustained number of run/compile/fmt requests per
	// second and client IP (default 2; negative: no limit), RateBurst
	// the bucket size (default 20).
	RateLimit float64
	RateBurst int

	// TrustedProxies are the addresses of the load balancers or reverse
	// proxies in front of the server. A request from one of them is
	// counted, for the rate limit and the share quotas, against the
	// client its X-Forwarded-For names: the rightmost address there that
	// is not itself a trusted proxy. Empty (the default): the peer's
	// address, and X-Forwarded-For, which any client can send, is
	// ignored.
	TrustedProxies []netip.Prefix
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
		RunCPUs:        2,
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
