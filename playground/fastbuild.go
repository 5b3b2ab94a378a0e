package playground

import (
	"context"
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
