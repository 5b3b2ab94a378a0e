package playground

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRefreshCacheRenewsTimes(t *testing.T) {
	s, _, _ := newFakeServer(t, nil)
	b := s.builder
	old := time.Now().Add(-48 * time.Hour)
	entry := filepath.Join(b.goCache, "ab", "ab12-d")
	if err := os.MkdirAll(filepath.Dir(entry), 0o755); err != nil {
		t.Fatal(err)
	}
	trim := filepath.Join(b.goCache, "trim.txt")
	for _, f := range []string{entry, trim} {
		if err := os.WriteFile(f, []byte(strconv.FormatInt(old.Unix(), 10)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.refreshCache(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(entry)
	if err != nil || time.Since(fi.ModTime()) > time.Minute {
		t.Errorf("entry mtime not renewed: %v %v", fi.ModTime(), err)
	}
	data, _ := os.ReadFile(trim)
	sec, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)) > time.Minute {
		t.Errorf("trim.txt = %q", data)
	}
	// It waits for running builds: with one slot taken it blocks. The
	// server's own background refresh may hold every slot for a moment
	// (it runs once at start), so the slot is waited for, not tried.
	slotCtx, cancelSlot := context.WithTimeout(context.Background(), time.Minute)
	defer cancelSlot()
	if err := b.sem.Acquire(slotCtx, 1); err != nil {
		t.Fatalf("no build slot within a minute: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.refreshCache(ctx); err == nil {
		t.Error("refresh ran while builds held every slot")
	}
	b.sem.Release(1)
	if err := b.refreshCache(context.Background()); err != nil {
		t.Errorf("refresh after the build ended: %v", err)
	}
}

func TestFastBuildable(t *testing.T) {
	b := &Builder{}
	b.fast.Store(&fastPath{exports: map[string]string{"fmt": "/gocache/a", "modernc.org/sqlite": "/gocache/b"}})
	cases := map[string]bool{
		"package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println() }\n":               true,
		"package main\n\nimport (\n\t\"fmt\"\n\t\"unsafe\"\n)\n":                          true,
		"package main\n\nimport _ \"modernc.org/sqlite\"\n":                               true,
		"package main\n\nimport \"net/http\"\n":                                           false, // not warm
		"package main\n\nimport _ \"embed\"\n":                                            false,
		"//go:build ignore\n\npackage main\n\nimport \"fmt\"\n":                           false,
		"//go:debug panicnil=1\n\npackage main\n\nimport \"fmt\"\n":                       false,
		"package lib\n\nimport \"fmt\"\n":                                                 false,
		"package main\n\nimport \"fmt\n":                                                  false, // the go command's message
		"package main\n\nimport \"fmt\"\n\nfunc main() {}\n-- util.go --\npackage main\n": false, // two files
		"package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n":             false, // a test
	}
	for src, want := range cases {
		p, err := ParseProgram([]byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got := b.fastBuildable(p); got != want {
			t.Errorf("fastBuildable(%q) = %v, want %v", src, got, want)
		}
	}
	if (&Builder{}).fastBuildable(&Program{Files: map[string][]byte{"prog.go": []byte("package main\n")}}) {
		t.Error("fast path without the warm exports")
	}
}
