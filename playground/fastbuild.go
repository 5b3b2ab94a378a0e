package playground

import (
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// fastBuildable reports whether p can be compiled and linked directly:
// one plain main file, importing only warm packages (the go command would
// do nothing more than run compile and link with these archives).
func (b *Builder) fastBuildable(p *Program) bool {
	src, ok := p.Files["prog.go"]
	fp := b.fast.Load()
	if fp == nil || p.Test || len(p.Files) != 1 || !ok || p.ModPath != "" {
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
		if err != nil || path == "embed" || (path != "unsafe" && fp.exports[path] == "") {
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
	fp := b.fast.Load() // fastBuildable saw it set; it is never unset
	return b.inWorkspace(ctx, p, false, func(ws *built) error {
		if err := os.WriteFile(filepath.Join(ws.workspace, "importcfg"), fp.importcfg, 0o644); err != nil {
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
	ws, err := b.runGo(ctx, prog, exportsArgs(), true, b.limits.WarmTimeout)
	if err != nil {
		return err
	}
	defer b.release(ws)
	return b.keepExports(stage, ws.output, b.isWarm(stage))
}

// exportsArgs is the go command line that prints "importpath=archive" for
// every package the program in the working directory depends on,
// compiling into the cache those it lacks, as a build would, but linking
// nothing. The build flags matter: -trimpath changes the archives.
func exportsArgs() []string {
	return append(append([]string{"list", "-export", "-deps"}, buildFlags...), "-f", "{{if .Export}}{{.ImportPath}}={{.Export}}{{end}}", ".")
}

// keepExports makes go list's output (exportsArgs) the direct compile
// path and, with save, keeps it beside the cache for the next start
// (loadExports), written whole or not at all: servers sharing the folder
// read it. Only a list go list could not have printed is an error.
func (b *Builder) keepExports(stage warmStage, out []byte, save bool) error {
	fp, err := parseExports(out)
	if err != nil {
		return err
	}
	b.fast.Store(fp)
	if save {
		saved := b.exportsFile(stage)
		err := os.MkdirAll(filepath.Dir(saved), 0o755)
		if err == nil {
			err = writeFileAtomic(saved, out)
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
