package playground

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"
)

// built is the result of one go command run in a workspace.
type built struct {
	workspace string // host path; the caller removes it with b.release
	output    []byte // combined stdout and stderr, capped
	race      bool   // built with -race: cgo on, the C toolchain visible
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

// inWorkspace holds a build slot, writes p into a fresh workspace and
// calls build on it; the workspace is removed unless build succeeds.
func (b *Builder) inWorkspace(ctx context.Context, p *Program, warm bool, build func(*built) error) (*built, error) {
	if !warm {
		if err := b.waitReadyFor(ctx, p); err != nil {
			return nil, err
		}
	}
	if err := b.sem.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	defer b.sem.Release(1)

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
	goMod, goSum, err := b.goModFor(p)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"go.mod": goMod, "go.sum": goSum}
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

// goModFor is the go.mod and go.sum of p's workspace, with the module path
// p asks for: stdGoMod for a program that imports no module, else the
// allowed modules' (an error while the module cache is not filled, or if
// filling it failed: such programs wait for prepare first).
func (b *Builder) goModFor(p *Program) (goMod, goSum []byte, err error) {
	goMod = stdGoMod
	if stageFor(p) == stageModules {
		mf := b.mods.Load()
		if mf == nil {
			return nil, nil, errors.New("the module cache is not ready")
		}
		goMod, goSum = mf.goMod, mf.goSum
	}
	if p.ModPath == "" {
		return goMod, goSum, nil
	}
	f, err := modfile.Parse("go.mod", goMod, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the server's go.mod: %w", err)
	}
	if err := f.AddModuleStmt(p.ModPath); err != nil {
		return nil, nil, &CompileError{Message: "go.mod: " + err.Error(), Cacheable: true}
	}
	return modfile.Format(f.Syntax), goSum, nil
}
