package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// moduleFiles is the go.mod and go.sum of a workspace whose program
// imports an allowed module: the allowed modules required, with the
// indirect requirements and checksums go list resolved.
type moduleFiles struct {
	goMod, goSum []byte
}

// stdGoMod is the go.mod of a workspace whose program imports only the
// standard library: it needs no module cache, so such programs build
// before (or without) the allowed modules.
var stdGoMod = []byte("module play\n\ngo 1.26\n")

// prepareModules downloads the allowed modules from the host's module
// cache (trusted, host side) into the server's own module cache, and
// records the go.mod and go.sum that the workspaces of programs that
// import a module get (b.mods).
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
	// Filled before by a server sharing the module cache (an earlier
	// start, serve beside check, every test package): its go.mod and
	// go.sum, without two go commands (~0.2 s of CPU each, issue 8).
	marker := filepath.Join(b.modCache, ".playdoc-modules-"+shortHash(b.version+"\n"+mod.String()+string(warmSource(false, stageModules))))
	if mf, err := readModulesMarker(marker); err == nil {
		b.mods.Store(mf)
		return nil
	}
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
	var mf moduleFiles
	if mf.goMod, err = os.ReadFile(filepath.Join(dir, "go.mod")); err != nil {
		return err
	}
	if mf.goSum, err = os.ReadFile(filepath.Join(dir, "go.sum")); err != nil {
		return err
	}
	b.mods.Store(&mf)
	if err := writeModulesMarker(marker, &mf); err != nil {
		b.log.Warn("playground: could not record the prepared module cache; the next start prepares it again", "err", err)
	}
	return nil
}

// modulesMarker is the file, in the module cache, that records the go.mod
// and go.sum resolved when the cache was filled.
type modulesMarker struct {
	GoMod string `json:"go.mod"`
	GoSum string `json:"go.sum"`
}

// readModulesMarker reads what writeModulesMarker wrote at path; an error
// when there is none, or it is damaged.
func readModulesMarker(path string) (*moduleFiles, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m modulesMarker
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.GoMod == "" || m.GoSum == "" {
		return nil, fmt.Errorf("%s: no go.mod or go.sum", path)
	}
	return &moduleFiles{goMod: []byte(m.GoMod), goSum: []byte(m.GoSum)}, nil
}

// writeModulesMarker records mf at path, whole or not at all (a rename),
// so that a server starting meanwhile never reads half of it.
func writeModulesMarker(path string, mf *moduleFiles) error {
	data, err := json.Marshal(modulesMarker{GoMod: string(mf.goMod), GoSum: string(mf.goSum)})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".playdoc-modules-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
