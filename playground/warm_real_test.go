package playground

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// The warm build cache over the real sandbox: builds never write it, and
// the warm packages' archive list is kept across starts.

// cacheListing lists a directory tree's files with their sizes.
func cacheListing(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			m[p] = fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRealBuildsNeverWriteTheWarmCache(t *testing.T) {
	s, ts := newRealServer(t, nil)
	before := cacheListing(t, s.builder.goCache)
	// A fresh program compiles new packages, and a test binary too: the
	// go command writes their objects to GOCACHE, which must be a
	// throwaway layer.
	for _, src := range []string{
		uniq("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"one\") }\n"),
		uniq("package main\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {}\n"),
	} {
		evs := runCode(t, ts.URL, src)
		if exit, ok := find(evs, api.KindExit); !ok || exit.Code != 0 {
			t.Fatalf("run: %s %+v %q", kinds(evs), exit.Event, output(evs, api.KindStderr))
		}
	}
	after := cacheListing(t, s.builder.goCache)
	for p, size := range after {
		if b, ok := before[p]; !ok || b != size {
			t.Errorf("the warm cache changed: %s", p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("the warm cache has %d files, had %d", len(after), len(before))
	}
}

// countingExecutor counts the sandboxed processes it starts.
type countingExecutor struct {
	Executor
	n atomic.Int64
}

func (c *countingExecutor) Start(ctx context.Context, spec sandbox.Spec) (Proc, error) {
	c.n.Add(1)
	return c.Executor.Start(ctx, spec)
}

// TestRealWarmExportsAreKept: once a stage is warm, a server start reads
// the warm packages' archive list from the data folder instead of running
// go list in the sandbox, and runs it again when an archive it names is
// gone.
func TestRealWarmExportsAreKept(t *testing.T) {
	s, ts := newRealServer(t, nil)
	saved := s.builder.exportsFile(stageModules)
	orig, err := os.ReadFile(saved)
	if err != nil {
		t.Fatalf("a warm server kept no archive list: %v", err)
	}
	ce := &countingExecutor{Executor: s.builder.exec}
	b, err := newBuilder(ce, slog.New(slog.NewTextHandler(io.Discard, nil)), filepath.Dir(s.builder.goCache), s.builder.modCache, 1, s.builder.limits)
	if err != nil {
		t.Fatal(err)
	}
	b.mods.Store(s.builder.mods.Load()) // what prepareModules would find
	ctx := t.Context()
	if err := b.loadExports(ctx, stageModules); err != nil {
		t.Fatal(err)
	}
	if n := ce.n.Load(); n != 0 {
		t.Errorf("loadExports with a kept list started %d sandboxed processes, want 0", n)
	}
	if got, want := b.fast.Load().exports, s.builder.fast.Load().exports; !maps.Equal(got, want) {
		t.Errorf("kept list: %d archives, want the server's %d", len(got), len(want))
	}

	// A list naming an archive the cache no longer has is not trusted.
	bad := append(bytes.Clone(orig), []byte("example.com/gone="+sandboxGoCache+"/00/gone-d\n")...)
	if err := os.WriteFile(saved, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.loadExports(ctx, stageModules); err != nil {
		t.Fatal(err)
	}
	if n := ce.n.Load(); n != 1 {
		t.Errorf("loadExports with a stale list started %d sandboxed processes, want 1 (go list)", n)
	}
	if now, err := os.ReadFile(saved); err != nil || bytes.Contains(now, []byte("example.com/gone")) {
		t.Errorf("the stale list was not replaced (%v):\n%s", err, now)
	}
	// The fast path still builds and runs.
	if evs := runCode(t, ts.URL, uniq("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"kept\") }\n")); output(evs, api.KindStdout) != "kept\n" {
		t.Errorf("run after: %s", kinds(evs))
	}
}

// TestRealModulesPreparedOnce: a server start on a data folder whose
// module cache another server filled takes the go.mod and go.sum it
// recorded, without running the go command; a damaged record is not
// trusted.
func TestRealModulesPreparedOnce(t *testing.T) {
	s, _ := newRealServer(t, nil)
	want := s.builder.mods.Load()
	if want == nil {
		t.Fatal("a ready server has no module files")
	}
	b, err := newBuilder(s.builder.exec, slog.New(slog.NewTextHandler(io.Discard, nil)), filepath.Dir(s.builder.goCache), s.builder.modCache, 1, s.builder.limits)
	if err != nil {
		t.Fatal(err)
	}
	realGo := b.goBin
	b.goBin = filepath.Join(t.TempDir(), "no-go") // running the go command now fails
	if err := b.prepareModules(t.Context()); err != nil {
		t.Fatalf("prepareModules ran the go command although the module cache was prepared: %v", err)
	}
	if got := b.mods.Load(); !bytes.Equal(got.goMod, want.goMod) || !bytes.Equal(got.goSum, want.goSum) {
		t.Errorf("recorded module files differ from the server's:\n%s\n%s\nwant\n%s\n%s", got.goMod, got.goSum, want.goMod, want.goSum)
	}

	markers, err := filepath.Glob(filepath.Join(s.builder.modCache, ".playdoc-modules-*"))
	if err != nil || len(markers) == 0 {
		t.Fatalf("no record in the module cache: %v", err)
	}
	for _, m := range markers {
		if err := os.WriteFile(m, []byte(`{"go.mod":"module play`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.prepareModules(t.Context()); err == nil {
		t.Error("a damaged record was trusted: prepareModules did not run the go command")
	}
	b.goBin = realGo
	if err := b.prepareModules(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := b.mods.Load(); !bytes.Equal(got.goSum, want.goSum) {
		t.Errorf("go.sum after preparing again differs:\n%s\nwant\n%s", got.goSum, want.goSum)
	}
}
