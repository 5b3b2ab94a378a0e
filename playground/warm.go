package playground

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

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

// prepare fills the private module cache and warms the build cache, the
// standard library first: on a new machine the allowed modules take minutes
// (modernc.org/sqlite above all), and a program that imports none of them
// need not wait for them, nor for the module cache, which is filled beside
// the standard library's stages (unpacking the modules is mostly disk
// work; issue 8's first Run). It runs once, in the background; builds wait
// for the stage they need (waitReadyFor).
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
	b.bgCtx = ctx
	start := time.Now()
	var modsErr error
	modsDone := make(chan struct{})
	go func() {
		defer close(modsDone)
		if modsErr = b.prepareModules(ctx); modsErr == nil {
			b.log.Info("playground: module cache ready", "ms", time.Since(start).Milliseconds())
		}
	}()
	defer func() {
		// On an error every stage is over, prepErr saying why; the module
		// cache's goroutine has ended.
		<-modsDone
		closeThrough(stageStd)
		close(b.ready)
	}()
	waitModules := func() bool {
		<-modsDone
		if modsErr != nil {
			b.prepErr = fmt.Errorf("prepare the module cache: %w", modsErr)
			b.log.Error("playground: toolchain setup failed", "err", b.prepErr)
			return false
		}
		return true
	}
	stages := []warmStage{stageCore, stageStd, stageModules}
	if b.isWarm(stageModules) {
		// Warmed before (an earlier start, or another server sharing the
		// data folder): one step, not three rounds of go list in the
		// sandbox (~2 s each) at every start.
		stages = stages[2:]
	}
	for _, stage := range stages {
		if stage == stageModules && !waitModules() {
			return
		}
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
// stdReady or ready; raceReady for a race build (whose warm-up it starts).
func (b *Builder) readyFor(p *Program) <-chan struct{} {
	if p.Race {
		b.startRaceWarm()
		return b.raceReady
	}
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
// error of preparing the module cache, if that failed and p imports a
// module (or is a race build, which waits for the whole warm-up).
func (b *Builder) waitReadyFor(ctx context.Context, p *Program) error {
	select {
	case <-b.readyFor(p):
		if p.Race || stageFor(p) == stageModules {
			return b.prepErr // written before ready closed
		}
		return nil
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
	return b.warmOnce(ctx, b.warmMarker(stage), func() error { return b.warmStage(ctx, stage) })
}

// warmOnce runs warm unless marker exists, and writes marker once warm
// has succeeded. Servers sharing a data folder (serve, check, the test
// packages run in parallel) warm it once: the others wait here, on one
// lock, for the marker instead of compiling the same packages at the same
// time.
func (b *Builder) warmOnce(ctx context.Context, marker string, warm func() error) error {
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	// flock(2): the kernel drops it when its holder dies, so a crashed
	// server never blocks the next start.
	lock := flock.New(filepath.Join(b.goCache, ".playdoc-warm.lock"))
	if _, err := lock.TryLockContext(ctx, 100*time.Millisecond); err != nil {
		return fmt.Errorf("lock the build cache for its warm-up: %w", err)
	}
	defer lock.Unlock()
	if _, err := os.Stat(marker); err == nil {
		b.log.Info("playground: the build cache was warmed by another server sharing the data folder")
		return nil
	}
	// The sandbox runs builds as an unprivileged user.
	if err := os.Chmod(b.goCache, 0o777); err != nil {
		return err
	}
	if err := warm(); err != nil {
		return err
	}
	return os.WriteFile(marker, []byte(b.toolchainID()+"\n"), 0o644)
}

// warmStage compiles stage's packages into the build cache (warmCache).
func (b *Builder) warmStage(ctx context.Context, stage warmStage) error {
	progs := []*Program{{Files: map[string][]byte{"prog.go": warmSource(false, stage)}}}
	if stage < stageModules {
		// Only the common packages, fast: tests and vet come with the
		// modules. go list -export compiles them as the build would,
		// without linking a program, and its list of archives is the
		// direct compile path that loadExports would otherwise ask the
		// sandbox for in a second go command: two steps fewer before a new
		// reader's first Run (issue 8).
		ws, err := b.runGo(ctx, progs[0], exportsArgs(), true, b.limits.WarmTimeout)
		if err != nil {
			return err
		}
		defer b.release(ws)
		return b.keepExports(stage, ws.output, true)
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
	return nil
}
