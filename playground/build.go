package playground

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

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

// buildFlags are the same for every build (user and warm-up), so that
// the build cache is shared and the binary cache key stays valid.
var buildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// BuildLimits bounds one compilation.
type BuildLimits struct {
	Timeout     time.Duration // wall time of one user build
	WarmTimeout time.Duration // wall time of the cold warm-up build
	Memory      int64         // bytes, the whole go command process tree
}

// Builder compiles programs with the local Go toolchain inside the
// sandbox, in a fresh workspace per program.
type Builder struct {
	exec     Executor
	log      *slog.Logger
	limits   BuildLimits
	goBin    string              // host path of the go command
	toolRel  string              // GOTOOLDIR relative to GOROOT (pkg/tool/linux_amd64)
	goroot   string              // host GOROOT
	version  string              // e.g. go1.26.8
	modCache string              // server-owned GOMODCACHE (read-only to builds)
	goCache  string              // warm GOCACHE (copy-on-write to builds)
	workRoot string              // parent of the per-build workspaces
	sem      *semaphore.Weighted // one unit per build at once, maxBuilds units
	slots    int64

	// The warm-up's stages (warmStage), each a channel closed when done:
	// coreReady once warmCore is warm (a program importing only those
	// builds from then on), stdReady once warmStd is too (any program that
	// imports no module), ready when prepare has finished (the module cache
	// is filled and the allowed modules warm too). The module cache is
	// filled beside the first two stages, which need none of it. prepErr is
	// set before ready closes; programs that import no module never see it.
	coreReady chan struct{}
	stdReady  chan struct{}
	ready     chan struct{}
	// raceReady is closed once the warm cache has the race build's
	// standard library too (after ready; race builds wait for it).
	raceReady chan struct{}
	raceOnce  sync.Once
	// bgCtx is prepare's context, which the race warm-up runs under
	// (written before ready closes, read after).
	bgCtx   context.Context
	prepErr error
	// mods is the go.mod and go.sum of a program that imports a module,
	// set once the module cache is filled (nil before, or if that failed).
	mods atomic.Pointer[moduleFiles]
	// fast is the direct compile path's archives; nil until the standard
	// library is warm, replaced once the modules are (read by concurrent
	// builds, hence atomic).
	fast atomic.Pointer[fastPath]

	// cc is the C toolchain of race builds; nil (ccErr says why) where
	// gcc is missing.
	cc    *cToolchain
	ccErr error

	mu     sync.Mutex
	active map[string]struct{} // live workspaces, for tests and cleanup
}

// goArgs is the go command line that builds p into the workspace.
func (b *Builder) goArgs(p *Program) []string {
	flags := buildFlags
	if p.Race {
		flags = append([]string{"-race"}, flags...)
	}
	if p.Test {
		return append(append([]string{"test", "-c", "-vet=off", "-o", sandboxWork + "/prog.test"}, flags...), ".")
	}
	return append(append([]string{"build", "-o", sandboxWork + "/prog"}, flags...), ".")
}

// compile builds p. On success it returns the host path of the binary,
// which lives in a workspace the caller must remove with release.
func (b *Builder) compile(ctx context.Context, p *Program) (binary string, ws *built, err error) {
	if err := b.waitReadyFor(ctx, p); err != nil {
		return "", nil, err
	}
	if p.Race && b.cc == nil {
		return "", nil, &CompileError{Message: "this playground cannot build with the race detector: " + b.ccErr.Error()}
	}
	if !p.Race && b.fastBuildable(p) {
		ws, err = b.fastBuild(ctx, p)
	} else {
		timeout := b.limits.Timeout
		if p.Race {
			// The race runtime's link and gcc's start-ups: a race build
			// takes several times a plain one.
			timeout *= 3
		}
		ws, err = b.runGo(ctx, p, b.goArgs(p), false, timeout)
	}
	if ce := (*CompileError)(nil); errors.As(err, &ce) {
		ce.Message = explainImports(ce.Message, p.modPath())
		ce.Errors = parseDiags(ce.Message)
		for i, d := range ce.Errors {
			if _, ours := p.Files[d.File]; ours { // not a file of GOROOT or a module
				ce.Errors[i].EditorLine = p.EditorLine(d.File, d.Line)
			}
		}
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

// maxBuildOutput caps what is kept of the go command's output.
const maxBuildOutput = 256 << 10

// runGo runs the go command on p in a fresh workspace inside the sandbox,
// holding one of the build slots. warm builds write the build cache;
// user builds see it copy-on-write. A failed build is a *CompileError.
func (b *Builder) runGo(ctx context.Context, p *Program, args []string, warm bool, timeout time.Duration) (*built, error) {
	return b.inWorkspace(ctx, p, warm, func(ws *built) error {
		ws.race = p.Race
		out, err := b.runTool(ctx, ws, b.goBin, sandboxGoroot+"/bin/go", args, warm, timeout)
		ws.output = out
		return err
	})
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
		Limits:         buildLimits(timeout, b.limits.Memory),
		SeccompProfile: sandbox.ProfileBuild,
	}
	if ws.race {
		for i, kv := range spec.Env {
			switch {
			case kv == "CGO_ENABLED=0":
				spec.Env[i] = "CGO_ENABLED=1"
			case strings.HasPrefix(kv, "PATH="):
				spec.Env[i] = kv + ":/usr/bin" // gcc looks for as and ld there
			}
		}
		spec.Env = append(spec.Env, "CC="+ccPath)
		spec.Binds = append(spec.Binds, b.cc.binds...)
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
	read := make(chan struct{})
	go func() {
		defer close(read)
		// The go command's stdout and stderr, interleaved as written.
		for {
			c, err := proc.Next()
			if err != nil {
				return
			}
			_, _ = out.Write(c.Data)
		}
	}()
	res, err := proc.Wait()
	<-read
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
