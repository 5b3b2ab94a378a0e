package playground

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/modfile"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// Where the builder's directories appear inside the build sandbox. They
// are the same for the warm-up build and for user builds, so that the
// warm build cache's keys match.
const (
	sandboxGoroot   = "/goroot"
	sandboxModCache = "/gomod"
	sandboxGoCache  = "/gocache"
	sandboxWork     = "/work"
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

// warmStd lists the standard packages that snippets commonly import; the
// warm-up build compiles them into the shared build cache.
var warmStd = []string{
	"bufio", "bytes", "container/heap", "context", "crypto/sha256", "database/sql",
	"encoding/binary", "encoding/json", "errors", "fmt", "io", "iter", "log", "log/slog",
	"maps", "math", "math/rand/v2", "net", "net/http", "net/http/httptest", "os",
	"os/signal", "path/filepath", "regexp", "runtime", "slices", "sort", "strconv",
	"strings", "sync", "sync/atomic", "text/tabwriter", "time", "unicode",
}

// buildFlags are the same for every build (user and warm-up), so that
// the build cache is shared and the binary cache key stays valid.
var buildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// BuildLimits bounds one compilation.
type BuildLimits struct {
	Timeout     time.Duration // wall time of one user build
	WarmTimeout time.Duration // wall time of the cold warm-up build
	Memory      int64         // bytes, the whole go command process tree
}

// CompileError is a build that failed: the cleaned compiler output and
// the diagnostics parsed from it.
type CompileError struct {
	Message string
	Errors  []api.Diag
	// Cacheable is false for failures that a retry may not repeat
	// (timeout, out of memory): those are never cached.
	Cacheable bool
	Timeout   bool // the compile time limit was reached
}

func (e *CompileError) Error() string { return e.Message }

// Builder compiles programs with the local Go toolchain inside the
// sandbox, in a fresh workspace per program.
type Builder struct {
	exec     Executor
	log      *slog.Logger
	limits   BuildLimits
	goBin    string // host path of the go command
	toolRel  string // GOTOOLDIR relative to GOROOT (pkg/tool/linux_amd64)
	goroot   string // host GOROOT
	version  string // e.g. go1.26.8
	modCache string // server-owned GOMODCACHE (read-only to builds)
	goCache  string // warm GOCACHE (copy-on-write to builds)
	workRoot string // parent of the per-build workspaces
	sem      chan struct{}

	ready   chan struct{} // closed when prepare has finished
	prepErr error
	goMod   []byte // written into every workspace
	goSum   []byte
	// exports maps each package of the warm cache to its archive there
	// (a path inside the sandbox): programs that import only these are
	// compiled and linked directly, without the go command (fastBuild).
	exports map[string]string
	fastCfg []byte // importcfg listing every archive of exports

	mu     sync.Mutex
	active map[string]struct{} // live workspaces, for tests and cleanup
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
		exec:     ex,
		log:      log,
		limits:   limits,
		goroot:   lines[0],
		version:  lines[1],
		toolRel:  filepath.ToSlash(toolRel),
		modCache: modCache,
		goCache:  filepath.Join(dataDir, "gocache"),
		workRoot: filepath.Join(dataDir, "work"),
		sem:      make(chan struct{}, maxBuilds),
		ready:    make(chan struct{}),
		active:   map[string]struct{}{},
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

// prepare fills the private module cache and warms the build cache. It
// runs once, in the background; builds wait for it.
func (b *Builder) prepare(ctx context.Context) {
	defer close(b.ready)
	start := time.Now()
	if err := b.prepareModules(ctx); err != nil {
		b.prepErr = fmt.Errorf("prepare the module cache: %w", err)
		b.log.Error("playground: toolchain setup failed", "err", b.prepErr)
		return
	}
	if err := b.warmCache(ctx); err != nil {
		// Builds still work, compiling what the cache lacks (slowly).
		b.log.Error("playground: could not warm the build cache; builds will be slow", "err", err)
	}
	if err := b.loadExports(ctx); err != nil {
		// Not fatal: every build then takes the go command's way.
		b.log.Warn("playground: no direct compile path", "err", err)
	}
	b.log.Info("playground: toolchain ready", "go", b.version, "ms", time.Since(start).Milliseconds())
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
	for i := range cap(b.sem) {
		select {
		case b.sem <- struct{}{}:
		case <-ctx.Done():
			for range i {
				<-b.sem
			}
			return ctx.Err()
		}
	}
	defer func() {
		for range cap(b.sem) {
			<-b.sem
		}
	}()
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

// isReady reports, without waiting, whether prepare has finished.
func (b *Builder) isReady() bool {
	select {
	case <-b.ready:
		return true
	default:
		return false
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
	if err := os.WriteFile(filepath.Join(dir, "warm.go"), warmSource(false), 0o644); err != nil {
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
// standard packages and every allowed package.
func warmSource(test bool) []byte {
	var src strings.Builder
	if test {
		src.WriteString("package main\n\nimport (\n\t\"testing\"\n")
	} else {
		src.WriteString("package main\n\nimport (\n")
	}
	for _, p := range warmStd {
		fmt.Fprintf(&src, "\t_ %q\n", p)
	}
	for _, m := range AllowedModules {
		for _, p := range m.Packages {
			fmt.Fprintf(&src, "\t_ %q\n", p)
		}
	}
	if test {
		src.WriteString(")\n\nfunc TestWarm(t *testing.T) {}\n")
	} else {
		src.WriteString(")\n\nfunc main() {}\n")
	}
	return []byte(src.String())
}

// warmCache compiles the allowed packages into the build cache, inside
// the sandbox with the cache writable, with the flags and environment of
// user builds. User builds only ever see the cache copy-on-write.
func (b *Builder) warmCache(ctx context.Context) error {
	marker := filepath.Join(b.goCache, ".playdoc-warm-"+shortHash(b.toolchainID()+string(warmSource(false))+strings.Join(vetArgs, " ")))
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
	for _, prog := range []*Program{
		{Files: map[string][]byte{"prog.go": warmSource(false)}},
		{Files: map[string][]byte{"prog_test.go": warmSource(true)}, Test: true},
	} {
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
	ws, err := b.runGo(ctx, &Program{Files: map[string][]byte{"prog.go": warmSource(false)}}, vetArgs, true, b.limits.WarmTimeout)
	if err != nil {
		return fmt.Errorf("vet: %w", err) // the marker stays unwritten: retried at the next start
	}
	b.release(ws)
	return os.WriteFile(marker, []byte(b.toolchainID()+"\n"), 0o644)
}

// loadExports asks the go command (in the sandbox, with the cache
// writable, on the trusted warm-up program) where the warm packages'
// archives are.
func (b *Builder) loadExports(ctx context.Context) error {
	prog := &Program{Files: map[string][]byte{"prog.go": warmSource(false)}}
	// The build flags matter: -trimpath changes the archives.
	args := append(append([]string{"list", "-export", "-deps"}, buildFlags...), "-f", "{{if .Export}}{{.ImportPath}}={{.Export}}{{end}}", ".")
	ws, err := b.runGo(ctx, prog, args, true, b.limits.WarmTimeout)
	if err != nil {
		return err
	}
	defer b.release(ws)
	exports := map[string]string{}
	var cfg strings.Builder
	for _, l := range strings.Split(string(ws.output), "\n") {
		pkg, file, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || pkg == "play" || !strings.HasPrefix(file, sandboxGoCache+"/") {
			continue
		}
		exports[pkg] = file
		fmt.Fprintf(&cfg, "packagefile %s=%s\n", pkg, file)
	}
	if exports["fmt"] == "" || exports["runtime"] == "" {
		return fmt.Errorf("go list -export: unexpected output %q", ws.output)
	}
	b.exports, b.fastCfg = exports, []byte(cfg.String())
	return nil
}

// fastBuildable reports whether p can be compiled and linked directly:
// one plain main file, importing only warm packages (the go command would
// do nothing more than run compile and link with these archives).
func (b *Builder) fastBuildable(p *Program) bool {
	src, ok := p.Files["prog.go"]
	if b.exports == nil || p.Test || len(p.Files) != 1 || !ok || p.ModPath != "" {
		return false
	}
	f, err := parser.ParseFile(token.NewFileSet(), "prog.go", src, parser.ImportsOnly|parser.ParseComments)
	if err != nil || f.Name.Name != "main" {
		return false // the go command's own messages
	}
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			// Build tags, and //go:debug (the go command turns it into
			// the binary's default GODEBUG), need the go command.
			if strings.HasPrefix(c.Text, "//go:build") || strings.HasPrefix(c.Text, "// +build") || strings.HasPrefix(c.Text, "//go:debug") {
				return false
			}
		}
	}
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil || path == "embed" || (path != "unsafe" && b.exports[path] == "") {
			return false
		}
	}
	return true
}

// fastBuild compiles and links p with the toolchain's compile and link,
// the flags the go command would use (see go build -x).
func (b *Builder) fastBuild(ctx context.Context, p *Program) (*built, error) {
	deadline := time.Now().Add(b.limits.Timeout)
	tool := func(name string) (string, string) {
		return filepath.Join(b.goroot, filepath.FromSlash(b.toolRel), name), sandboxGoroot + "/" + b.toolRel + "/" + name
	}
	return b.inWorkspace(ctx, p, false, func(ws *built) error {
		if err := os.WriteFile(filepath.Join(ws.workspace, "importcfg"), b.fastCfg, 0o644); err != nil {
			return err
		}
		host, path := tool("compile")
		out, err := b.runTool(ctx, ws, host, path, []string{
			"-o", sandboxWork + "/prog.a", "-trimpath", sandboxWork + "=>play", "-p", "main",
			"-lang=go1.26", "-complete", "-goversion", b.version, "-c=2", "-nolocalimports",
			"-importcfg", sandboxWork + "/importcfg", "-pack", "./prog.go",
		}, false, b.limits.Timeout)
		ws.output = out
		if err != nil {
			return err
		}
		host, path = tool("link")
		out, err = b.runTool(ctx, ws, host, path, []string{
			"-o", sandboxWork + "/prog", "-importcfg", sandboxWork + "/importcfg",
			"-buildmode=exe", "-s", "-w", sandboxWork + "/prog.a",
		}, false, max(time.Until(deadline), time.Second))
		ws.output = append(ws.output, out...)
		return err
	})
}

// goArgs is the go command line that builds p into the workspace.
func (b *Builder) goArgs(p *Program) []string {
	if p.Test {
		return append(append([]string{"test", "-c", "-vet=off", "-o", sandboxWork + "/prog.test"}, buildFlags...), ".")
	}
	return append(append([]string{"build", "-o", sandboxWork + "/prog"}, buildFlags...), ".")
}

// built is the result of one go command run in a workspace.
type built struct {
	workspace string // host path; the caller removes it with b.release
	output    []byte // combined stdout and stderr, capped
}

// compile builds p. On success it returns the host path of the binary,
// which lives in a workspace the caller must remove with release.
func (b *Builder) compile(ctx context.Context, p *Program) (binary string, ws *built, err error) {
	if err := b.waitReady(ctx); err != nil {
		return "", nil, err
	}
	if b.fastBuildable(p) {
		ws, err = b.fastBuild(ctx, p)
	} else {
		ws, err = b.runGo(ctx, p, b.goArgs(p), false, b.limits.Timeout)
	}
	if err != nil {
		return "", nil, err
	}
	name := "prog"
	if p.Test {
		name = "prog.test"
	}
	binary = filepath.Join(ws.workspace, name)
	if fi, err := os.Lstat(binary); err != nil || !fi.Mode().IsRegular() {
		b.release(ws)
		return "", nil, fmt.Errorf("build produced no binary: %s", cleanOutput(ws.output))
	}
	return binary, ws, nil
}

// vetArgs is the go vet command line, with the build flags of builds so
// that vet finds the dependencies' archives (and facts) in the warm cache.
var vetArgs = append(append([]string{"vet"}, buildFlags...), ".")

// vet runs go vet on p; the returned string is empty when vet is happy.
func (b *Builder) vet(ctx context.Context, p *Program) (string, error) {
	ws, err := b.runGo(ctx, p, vetArgs, false, b.limits.Timeout)
	if err != nil {
		var ce *CompileError
		if errors.As(err, &ce) {
			return ce.Message, nil
		}
		return "", err
	}
	b.release(ws)
	return "", nil
}

// release removes a workspace.
func (b *Builder) release(ws *built) {
	if ws == nil {
		return
	}
	if err := os.RemoveAll(ws.workspace); err != nil {
		b.log.Warn("playground: remove workspace", "dir", ws.workspace, "err", err)
	}
	b.mu.Lock()
	delete(b.active, ws.workspace)
	b.mu.Unlock()
}

// Workspaces is the number of build workspaces that exist right now.
func (b *Builder) Workspaces() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.active)
}

// maxBuildOutput caps what is kept of the go command's output.
const maxBuildOutput = 256 << 10

// runGo runs the go command on p in a fresh workspace inside the sandbox,
// holding one of the build slots. warm builds write the build cache;
// user builds see it copy-on-write. A failed build is a *CompileError.
func (b *Builder) runGo(ctx context.Context, p *Program, args []string, warm bool, timeout time.Duration) (*built, error) {
	return b.inWorkspace(ctx, p, warm, func(ws *built) error {
		out, err := b.runTool(ctx, ws, b.goBin, sandboxGoroot+"/bin/go", args, warm, timeout)
		ws.output = out
		return err
	})
}

// inWorkspace holds a build slot, writes p into a fresh workspace and
// calls build on it; the workspace is removed unless build succeeds.
func (b *Builder) inWorkspace(ctx context.Context, p *Program, warm bool, build func(*built) error) (*built, error) {
	if !warm {
		if err := b.waitReady(ctx); err != nil {
			return nil, err
		}
	}
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-b.sem }()

	dir, err := os.MkdirTemp(b.workRoot, "ws-")
	if err != nil {
		return nil, fmt.Errorf("create workspace: %w", err)
	}
	ws := &built{workspace: dir}
	b.mu.Lock()
	b.active[dir] = struct{}{}
	b.mu.Unlock()
	ok := false
	defer func() {
		if !ok {
			b.release(ws)
		}
	}()
	// The build runs as an unprivileged user and writes its binary here.
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, err
	}
	goMod, err := b.goModFor(p)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"go.mod": goMod, "go.sum": b.goSum}
	for n, d := range p.Files {
		files[n] = d
	}
	for n, d := range files {
		// ParseProgram allows only clean relative paths; the directories
		// are the sandbox user's, like the workspace.
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, filepath.FromSlash(n))), 0o777); err != nil {
			return nil, fmt.Errorf("write %s: %w", n, err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(n)), d, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", n, err)
		}
	}
	if err := build(ws); err != nil {
		return nil, err
	}
	ok = true
	return ws, nil
}

// goModFor is the go.mod of p's workspace: the server's, with the module
// path p asks for.
func (b *Builder) goModFor(p *Program) ([]byte, error) {
	if p.ModPath == "" {
		return b.goMod, nil
	}
	f, err := modfile.Parse("go.mod", b.goMod, nil)
	if err != nil {
		return nil, fmt.Errorf("the server's go.mod: %w", err)
	}
	if err := f.AddModuleStmt(p.ModPath); err != nil {
		return nil, &CompileError{Message: "go.mod: " + err.Error(), Cacheable: true}
	}
	return modfile.Format(f.Syntax), nil
}

// runTool runs one toolchain program (hostPath, seen as path) in the
// build sandbox on workspace ws and returns its output.
func (b *Builder) runTool(ctx context.Context, ws *built, hostPath, path string, args []string, warm bool, timeout time.Duration) ([]byte, error) {
	spec := sandbox.Spec{
		Binary: hostPath,
		Path:   path,
		Args:   args,
		Env: []string{
			"CGO_ENABLED=0", "GOPROXY=off", "GOTOOLCHAIN=local", "GOENV=off", "GOWORK=off",
			"GOFLAGS=-mod=readonly", "GOSUMDB=off", "GOTELEMETRY=off",
			"GOCACHE=" + sandboxGoCache, "GOMODCACHE=" + sandboxModCache, "GOROOT=" + sandboxGoroot,
			"HOME=/tmp", "GOTMPDIR=/tmp", "TMPDIR=/tmp", "PATH=" + sandboxGoroot + "/bin",
		},
		Dir: sandboxWork,
		Binds: []sandbox.Bind{
			{Host: b.goroot, Target: sandboxGoroot},
			{Host: b.modCache, Target: sandboxModCache},
			{Host: ws.workspace, Target: sandboxWork, Writable: true},
		},
		Limits: sandbox.Limits{
			WallTime:  timeout,
			CPUTime:   2 * timeout,
			Memory:    b.limits.Memory,
			Pids:      1024,
			FileSize:  512 << 20,
			OpenFiles: 4096,
			TmpSize:   1 << 30,
		},
		SeccompProfile: sandbox.ProfileBuild,
	}
	if warm {
		spec.Binds = append(spec.Binds, sandbox.Bind{Host: b.goCache, Target: sandboxGoCache, Writable: true})
	} else {
		spec.Overlays = []sandbox.Overlay{{Lower: b.goCache, Target: sandboxGoCache}}
	}
	proc, err := b.exec.Start(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("start the build sandbox: %w", err)
	}
	var out cappedBuffer
	out.max = maxBuildOutput
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = io.Copy(&out, proc.Stdout()) }()
	go func() { defer wg.Done(); _, _ = io.Copy(&out, proc.Stderr()) }()
	wg.Wait()
	res, err := proc.Wait()
	if err != nil {
		return nil, fmt.Errorf("build sandbox: %w", err)
	}
	output := out.Bytes()
	switch res.Reason {
	case sandbox.ReasonTimeout, sandbox.ReasonCPU:
		return output, &CompileError{Message: fmt.Sprintf("compilation timed out (limit %s)", timeout), Timeout: true}
	case sandbox.ReasonOOM:
		return output, &CompileError{Message: fmt.Sprintf("compilation ran out of memory (limit %d MiB)", b.limits.Memory>>20)}
	case sandbox.ReasonKilled:
		if ctx.Err() != nil {
			return output, ctx.Err()
		}
		return output, &CompileError{Message: "compilation was killed"}
	}
	if res.ExitCode != 0 || res.Signal != "" {
		msg := cleanOutput(output)
		if msg == "" {
			msg = fmt.Sprintf("%s failed (exit status %d %s)", filepath.Base(path), res.ExitCode, res.Signal)
		}
		return output, &CompileError{Message: msg, Errors: parseDiags(msg), Cacheable: res.Signal == ""}
	}
	return output, nil
}

// cappedBuffer keeps the first max bytes written to it and drops the rest.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *cappedBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

var diagRE = regexp.MustCompile(`^([^\s:]+\.go):(\d+):(?:(\d+):)? (.*)$`)

// cleanOutput drops the go command's "# package" headers and rewrites
// "./prog.go:3:5" to "prog.go:3:5", as the Go playground shows errors.
func cleanOutput(out []byte) string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "# ") {
			continue
		}
		l = strings.TrimPrefix(l, "vet: ")
		l = strings.ReplaceAll(l, sandboxWork+"/", "")
		l = strings.TrimPrefix(l, "./")
		lines = append(lines, l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// parseDiags extracts file:line:col: msg diagnostics, sorted by position.
func parseDiags(msg string) []api.Diag {
	var ds []api.Diag
	for _, l := range strings.Split(msg, "\n") {
		m := diagRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		ds = append(ds, api.Diag{File: m[1], Line: line, Col: col, Msg: m[4]})
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].File != ds[j].File {
			return ds[i].File < ds[j].File
		}
		return ds[i].Line < ds[j].Line
	})
	return ds
}
