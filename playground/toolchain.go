package playground

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"
)

// Module is a third-party module that programs may import.
type Module struct {
	Path, Version string
	Packages      []string // the packages the warm-up build compiles
}

// AllowedModules is the fixed set of modules a program may import; the
// versions are those of playdoc's own go.mod (a test checks it), so the
// host's module cache already holds them.
var AllowedModules = []Module{
	{"golang.org/x/sync", "v0.25.0", []string{"golang.org/x/sync/errgroup", "golang.org/x/sync/semaphore", "golang.org/x/sync/singleflight"}},
	{"modernc.org/sqlite", "v1.62.0", []string{"modernc.org/sqlite"}},
	// Pinned so that every module of the build list is one playdoc itself
	// uses (sqlite alone would pick an older x/sys than the host caches).
	{"golang.org/x/sys", "v0.50.0", []string{"golang.org/x/sys/unix"}},
}

// warmCore lists the standard packages that most snippets import, and all
// that a new reader's first program usually needs (the three tasks of the
// tutorial import fmt, sync and time): the first stage of the warm-up, ~10 s
// of CPU on a new machine, after which such programs build.
var warmCore = []string{
	"bufio", "bytes", "container/heap", "context", "encoding/binary", "errors", "fmt",
	"io", "iter", "log", "maps", "math", "math/rand/v2", "os", "os/signal",
	"path/filepath", "runtime", "slices", "sort", "strconv", "strings", "sync",
	"sync/atomic", "text/tabwriter", "time", "unicode",
}

// warmStd lists the other standard packages that snippets commonly import,
// the heavier ones (the network stack, crypto, database/sql): the second
// stage of the warm-up.
var warmStd = []string{
	"crypto/sha256", "database/sql", "encoding/json", "log/slog", "net", "net/http",
	"net/http/httptest", "regexp",
}

// warmStage is a stage of the warm-up. Each compiles more packages into the
// shared build cache than the one before; a program waits only for the
// stage that covers its imports (Builder.readyFor).
type warmStage int

const (
	stageCore    warmStage = iota // warmCore
	stageStd                      // warmCore and warmStd
	stageModules                  // and the allowed modules, their tests and vet facts
)

func (st warmStage) String() string {
	switch st {
	case stageCore:
		return "common standard packages"
	case stageStd:
		return "standard library"
	default:
		return "allowed modules"
	}
}

// stageFor is the first warm-up stage after which p builds from the warm
// cache: core when every import of p is in warmCore.
func stageFor(p *Program) warmStage {
	if len(p.moduleImports()) > 0 {
		return stageModules
	}
	for _, imp := range p.imports() {
		if !slices.Contains(warmCore, imp) {
			return stageStd
		}
	}
	return stageCore
}

func newBuilder(ex Executor, log *slog.Logger, dataDir, modCache string, maxBuilds int, limits BuildLimits) (*Builder, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("find the go command: %w", err)
	}
	out, err := exec.Command(goBin, "env", "GOROOT", "GOVERSION", "GOTOOLDIR").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 {
		return nil, fmt.Errorf("go env: unexpected output %q", out)
	}
	toolRel, err := filepath.Rel(lines[0], lines[2])
	if err != nil || strings.HasPrefix(toolRel, "..") {
		return nil, fmt.Errorf("go env: GOTOOLDIR %s is outside GOROOT %s", lines[2], lines[0])
	}
	b := &Builder{
		exec:      ex,
		log:       log,
		limits:    limits,
		goroot:    lines[0],
		version:   lines[1],
		toolRel:   filepath.ToSlash(toolRel),
		modCache:  modCache,
		goCache:   filepath.Join(dataDir, "gocache"),
		workRoot:  filepath.Join(dataDir, "work"),
		sem:       semaphore.NewWeighted(int64(maxBuilds)),
		slots:     int64(maxBuilds),
		coreReady: make(chan struct{}),
		stdReady:  make(chan struct{}),
		ready:     make(chan struct{}),
		active:    map[string]struct{}{},
	}
	if b.modCache == "" {
		b.modCache = filepath.Join(dataDir, "gomod")
	}
	b.goBin = filepath.Join(b.goroot, "bin", "go")
	for _, d := range []string{b.modCache, b.goCache, b.workRoot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	// Several servers may share a data dir (serve and check, tests): each
	// has a workspace folder of its own, named after its pid, and removes
	// those of dead servers (workspaces are never reused).
	if ents, err := os.ReadDir(b.workRoot); err == nil {
		for _, e := range ents {
			pid, _, _ := strings.Cut(e.Name(), "-")
			if _, err := os.Stat("/proc/" + pid); err != nil {
				_ = os.RemoveAll(filepath.Join(b.workRoot, e.Name()))
			}
		}
	}
	own, err := os.MkdirTemp(b.workRoot, strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("create workspace folder: %w", err)
	}
	b.workRoot = own
	return b, nil
}

// Version is the Go version of the toolchain, e.g. "go1.26.8".
func (b *Builder) Version() string { return b.version }

// buildRecipe changes whenever the way binaries are built changes, so
// that binaries cached by an older server are not reused.
const buildRecipe = "2"

// toolchainID is everything besides the source that changes a binary.
func (b *Builder) toolchainID() string {
	var sb strings.Builder
	sb.WriteString("recipe " + buildRecipe + " " + b.version)
	sb.WriteString(" " + strings.Join(buildFlags, " "))
	for _, m := range AllowedModules {
		sb.WriteString(" " + m.Path + "@" + m.Version)
	}
	return sb.String()
}

// prepare fills the private module cache and warms the build cache, the
// standard library first: on a new machine the allowed modules take minutes
// (modernc.org/sqlite above all), and a program that imports none of them
// need not wait for them. It runs once, in the background; builds wait for
// the stage they need (waitReadyFor).
func (b *Builder) prepare(ctx context.Context) {
	done := stageCore - 1 // the last stage whose channel is closed
	closeThrough := func(stage warmStage) {
		for ; done < stage; done++ {
			switch done + 1 {
			case stageCore:
				close(b.coreReady)
			case stageStd:
				close(b.stdReady)
			}
		}
	}
	defer func() {
		// On an error every stage is over, prepErr saying why.
		closeThrough(stageStd)
		close(b.ready)
	}()
	start := time.Now()
	if err := b.prepareModules(ctx); err != nil {
		b.prepErr = fmt.Errorf("prepare the module cache: %w", err)
		b.log.Error("playground: toolchain setup failed", "err", b.prepErr)
		return
	}
	b.log.Info("playground: module cache ready", "ms", time.Since(start).Milliseconds())
	stages := []warmStage{stageCore, stageStd, stageModules}
	if b.isWarm(stageModules) {
		// Warmed before (an earlier start, or another server sharing the
		// data folder): one step, not three rounds of go list in the
		// sandbox (~2 s each) at every start.
		stages = stages[2:]
	}
	for _, stage := range stages {
		// The modules' warm-up writes new entries into the cache that user
		// builds already see as their overlay's lower layer: an entry a
		// build misses, or finds half written (the go command checks sizes
		// and hashes), it compiles itself.
		if err := b.warmCache(ctx, stage); err != nil {
			// Builds still work, compiling what the cache lacks (slowly).
			b.log.Error("playground: could not warm the build cache; builds will be slow", "stage", stage.String(), "err", err)
		}
		if err := b.loadExports(ctx, stage); err != nil {
			// Not fatal: builds then take the go command's way.
			b.log.Warn("playground: no direct compile path", "stage", stage.String(), "err", err)
		}
		b.log.Info("playground: toolchain ready", "stage", stage.String(), "go", b.version, "ms", time.Since(start).Milliseconds())
		closeThrough(min(stage, stageStd))
	}
}

// cacheRefresh is how often the warm cache's times are renewed: under
// the go command's one-hour "mark used" interval and its daily trim.
const cacheRefresh = 20 * time.Minute

// keepCacheFresh renews, until ctx ends, the modification times of the
// warm build cache and its trim.txt. Otherwise, an hour after warming,
// every build would touch the entries it uses (a copy-up of each into
// its overlay) and, a day after, trim the whole cache.
func (b *Builder) keepCacheFresh(ctx context.Context) {
	tick := time.NewTicker(cacheRefresh)
	defer tick.Stop()
	for {
		if err := b.refreshCache(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("playground: refresh the warm build cache", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// refreshCache renews the warm cache's times while no build runs (the
// cache is an overlay's lower layer, which must not change under it).
func (b *Builder) refreshCache(ctx context.Context) error {
	// Every slot: no build runs meanwhile, and new ones wait.
	if err := b.sem.Acquire(ctx, b.slots); err != nil {
		return err
	}
	defer b.sem.Release(b.slots)
	now := time.Now()
	if err := os.WriteFile(filepath.Join(b.goCache, "trim.txt"), []byte(strconv.FormatInt(now.Unix(), 10)+"\n"), 0o666); err != nil {
		return err
	}
	return filepath.WalkDir(b.goCache, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(p, now, now)
	})
}

// readyFor is the stage of prepare that p waits for (stageFor): coreReady,
// stdReady or ready.
func (b *Builder) readyFor(p *Program) <-chan struct{} {
	switch stageFor(p) {
	case stageCore:
		return b.coreReady
	case stageStd:
		return b.stdReady
	default:
		return b.ready
	}
}

// isReadyFor reports, without waiting, whether p may be built now.
func (b *Builder) isReadyFor(p *Program) bool {
	select {
	case <-b.readyFor(p):
		return true
	default:
		return false
	}
}

// waitReadyFor blocks until p may be built (see readyFor) and returns the
// error of preparing the module cache, if that failed.
func (b *Builder) waitReadyFor(ctx context.Context, p *Program) error {
	select {
	case <-b.readyFor(p):
		return b.prepErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitReady blocks until prepare has finished.
func (b *Builder) waitReady(ctx context.Context) error {
	select {
	case <-b.ready:
		return b.prepErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// prepareModules downloads the allowed modules from the host's module
// cache (trusted, host side) into the server's own module cache, and
// records the go.mod and go.sum that every workspace gets.
func (b *Builder) prepareModules(ctx context.Context) error {
	dir, err := os.MkdirTemp(b.workRoot, "modules-")
	if err != nil {
		return fmt.Errorf("helper workspace: %w", err)
	}
	defer os.RemoveAll(dir)
	var mod strings.Builder
	mod.WriteString("module play\n\ngo 1.26\n\nrequire (\n")
	for _, m := range AllowedModules {
		fmt.Fprintf(&mod, "\t%s %s\n", m.Path, m.Version)
	}
	mod.WriteString(")\n")
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod.String()), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "warm.go"), warmSource(false, stageModules), 0o644); err != nil {
		return err
	}
	hostCache, err := exec.CommandContext(ctx, b.goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		return fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	run := func(proxy, sumdb string) error {
		cmd := exec.CommandContext(ctx, b.goBin, "list", "-deps", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY="+proxy, "GOSUMDB="+sumdb, "GOFLAGS=-mod=mod",
			"GOMODCACHE="+b.modCache, "GOTOOLCHAIN=local", "GOWORK=off", "CGO_ENABLED=0", "GOENV=off")
		var stderr bytes.Buffer
		cmd.Stdout = io.Discard
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go list (GOPROXY=%s): %w: %s", proxy, err, bytes.TrimSpace(stderr.Bytes()))
		}
		return nil
	}
	// The host's cache is trusted: playdoc's own go.sum verified it.
	local := "file://" + filepath.ToSlash(filepath.Join(strings.TrimSpace(string(hostCache)), "cache", "download"))
	if err := run(local, "off"); err != nil {
		b.log.Warn("playground: host module cache lacks the allowed modules, using the module proxy", "err", err)
		if err := run("https://proxy.golang.org", "sum.golang.org"); err != nil {
			return err
		}
	}
	if b.goMod, err = os.ReadFile(filepath.Join(dir, "go.mod")); err != nil {
		return err
	}
	if b.goSum, err = os.ReadFile(filepath.Join(dir, "go.sum")); err != nil {
		return err
	}
	return nil
}

// warmSource is a program (a test with test) that imports the common
// standard packages, and with modules every allowed package too.
func warmSource(test bool, stage warmStage) []byte {
	var src strings.Builder
	if test {
		src.WriteString("package main\n\nimport (\n\t\"testing\"\n")
	} else {
		src.WriteString("package main\n\nimport (\n")
	}
	pkgs := warmCore
	if stage >= stageStd {
		pkgs = slices.Concat(warmCore, warmStd)
	}
	for _, p := range pkgs {
		fmt.Fprintf(&src, "\t_ %q\n", p)
	}
	if stage >= stageModules {
		for _, m := range AllowedModules {
			for _, p := range m.Packages {
				fmt.Fprintf(&src, "\t_ %q\n", p)
			}
		}
	}
	if test {
		src.WriteString(")\n\nfunc TestWarm(t *testing.T) {}\n")
	} else {
		src.WriteString(")\n\nfunc main() {}\n")
	}
	return []byte(src.String())
}

// warmMarker is the file that warmCache writes once stage is warm, named
// by a hash of the toolchain, the stage's packages and vet's flags.
func (b *Builder) warmMarker(stage warmStage) string {
	return filepath.Join(b.goCache, ".playdoc-warm-"+shortHash(b.toolchainID()+string(warmSource(false, stage))+strings.Join(vetArgs, " ")))
}

// isWarm reports whether stage was warmed (by this server or another
// sharing the data folder).
func (b *Builder) isWarm(stage warmStage) bool {
	_, err := os.Stat(b.warmMarker(stage))
	return err == nil
}

// warmCache compiles the common standard packages (with modules: and the
// allowed ones, their test variant and vet facts) into the build cache,
// inside the sandbox with the cache writable, with the flags and
// environment of user builds. User builds only ever see the cache
// copy-on-write.
func (b *Builder) warmCache(ctx context.Context, stage warmStage) error {
	marker := b.warmMarker(stage)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	// Servers sharing a data folder (serve, check, the test packages run in
	// parallel) warm it once: the others wait here for the marker instead
	// of compiling the same packages at the same time.
	unlock, err := lockFile(ctx, filepath.Join(b.goCache, ".playdoc-warm.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(marker); err == nil {
		b.log.Info("playground: the build cache was warmed by another server sharing the data folder")
		return nil
	}
	// The sandbox runs builds as an unprivileged user.
	if err := os.Chmod(b.goCache, 0o777); err != nil {
		return err
	}
	progs := []*Program{{Files: map[string][]byte{"prog.go": warmSource(false, stage)}}}
	if stage < stageModules {
		// Only the common packages, fast: tests and vet come with the
		// modules.
		ws, err := b.runGo(ctx, progs[0], b.goArgs(progs[0]), true, b.limits.WarmTimeout)
		if err != nil {
			return err
		}
		b.release(ws)
		return os.WriteFile(marker, []byte(b.toolchainID()+"\n"), 0o644)
	}
	progs = append(progs, &Program{Files: map[string][]byte{"prog_test.go": warmSource(true, stageModules)}, Test: true})
	for _, prog := range progs {
		ws, err := b.runGo(ctx, prog, b.goArgs(prog), true, b.limits.WarmTimeout)
		if err != nil {
			return err
		}
		b.release(ws)
	}
	// Vet facts of every warm package, sqlite included: go vet analyses
	// each dependency of the vetted package for facts, and for sqlite's
	// generated C translation that takes minutes cold (a /compile with
	// withVet would hit the compile time limit). With the build flags of
	// the build above, vet reuses its archives instead of recompiling.
	ws, err := b.runGo(ctx, &Program{Files: map[string][]byte{"prog.go": warmSource(false, stageModules)}}, vetArgs, true, b.limits.WarmTimeout)
	if err != nil {
		return fmt.Errorf("vet: %w", err) // the marker stays unwritten: retried at the next start
	}
	b.release(ws)
	return os.WriteFile(marker, []byte(b.toolchainID()+"\n"), 0o644)
}

// fastPath is what the direct compile path needs: each package of the warm
// cache and its archive there (a path inside the sandbox), and the
// importcfg listing them all. Programs that import only these are compiled
// and linked without the go command (fastBuild).
type fastPath struct {
	exports   map[string]string
	importcfg []byte
}

// loadExports asks the go command (in the sandbox, with the cache
// writable, on the trusted warm-up program of stage) where the warm
// packages' archives are. Once a stage is warm the answer is kept next to
// its marker and reused while every archive it names is still in the
// cache: a server start then runs no go list at all (~2 s of CPU each).
func (b *Builder) loadExports(ctx context.Context, stage warmStage) error {
	saved := b.exportsFile(stage)
	if b.isWarm(stage) {
		if out, err := os.ReadFile(saved); err == nil {
			if fp, err := parseExports(out); err == nil && b.archivesExist(fp) {
				b.fast.Store(fp)
				return nil
			}
		}
	}
	prog := &Program{Files: map[string][]byte{"prog.go": warmSource(false, stage)}}
	// The build flags matter: -trimpath changes the archives.
	args := append(append([]string{"list", "-export", "-deps"}, buildFlags...), "-f", "{{if .Export}}{{.ImportPath}}={{.Export}}{{end}}", ".")
	ws, err := b.runGo(ctx, prog, args, true, b.limits.WarmTimeout)
	if err != nil {
		return err
	}
	defer b.release(ws)
	fp, err := parseExports(ws.output)
	if err != nil {
		return err
	}
	b.fast.Store(fp)
	if b.isWarm(stage) {
		// Written whole or not at all: servers sharing the folder read it.
		err := os.MkdirAll(filepath.Dir(saved), 0o755)
		if err == nil {
			err = writeFileAtomic(saved, ws.output)
		}
		if err != nil {
			b.log.Warn("playground: keep the warm packages' archive list", "err", err)
		}
	}
	return nil
}

// exportsFile is where loadExports keeps stage's archive list: beside the
// warm cache, not in it (the cache is the lower layer of running builds'
// overlays).
func (b *Builder) exportsFile(stage warmStage) string {
	return filepath.Join(filepath.Dir(b.goCache), "warm-exports", filepath.Base(b.warmMarker(stage)))
}

// parseExports reads go list's "importpath=archive" lines (archives in
// the sandbox's view of the cache) into a fast path.
func parseExports(out []byte) (*fastPath, error) {
	exports := map[string]string{}
	var cfg strings.Builder
	for _, l := range strings.Split(string(out), "\n") {
		pkg, file, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || pkg == "play" || !strings.HasPrefix(file, sandboxGoCache+"/") {
			continue
		}
		exports[pkg] = file
		fmt.Fprintf(&cfg, "packagefile %s=%s\n", pkg, file)
	}
	if exports["fmt"] == "" || exports["runtime"] == "" {
		return nil, fmt.Errorf("go list -export: unexpected output %q", out)
	}
	return &fastPath{exports: exports, importcfg: []byte(cfg.String())}, nil
}

// archivesExist reports whether every archive fp names is in the warm
// cache on the host (an entry the go command trimmed is not).
func (b *Builder) archivesExist(fp *fastPath) bool {
	for _, file := range fp.exports {
		rel := strings.TrimPrefix(file, sandboxGoCache+"/")
		if _, err := os.Stat(filepath.Join(b.goCache, filepath.FromSlash(rel))); err != nil {
			return false
		}
	}
	return true
}

// writeFileAtomic writes data to a temporary file beside name and renames
// it into place.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), name)
	}
	if werr != nil {
		os.Remove(f.Name())
	}
	return werr
}
