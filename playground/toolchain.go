package playground

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sync/semaphore"
)

// newBuilder finds the host's Go toolchain (the go command on PATH and its
// GOROOT) and makes the builder's folders under dataDir; prepare then
// fills its caches.
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
		raceReady: make(chan struct{}),
		active:    map[string]struct{}{},
	}
	if b.modCache == "" {
		b.modCache = filepath.Join(dataDir, "gomod")
	}
	b.goBin = filepath.Join(b.goroot, "bin", "go")
	// Without gcc only race builds fail, saying why.
	b.cc, b.ccErr = findCToolchain()
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
