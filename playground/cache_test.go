package playground

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// putFile writes size bytes to a temp file and puts it under key.
func putFile(t *testing.T, c *Cache, dir, key string, size int) {
	t.Helper()
	src := filepath.Join(dir, "src-"+key[:8])
	if err := os.WriteFile(src, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.PutBinary(key, src); err != nil {
		t.Fatal(err)
	}
}

func key(c byte) string { return strings.Repeat(string(c), 64) }

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	c, err := NewCache(filepath.Join(dir, "bin"), 250)
	if err != nil {
		t.Fatal(err)
	}
	putFile(t, c, dir, key('a'), 100)
	putFile(t, c, dir, key('b'), 100)
	a, _, ok := c.Get(key('a')) // a is now the most recent
	if !ok {
		t.Fatal("a missing")
	}
	a.Release()
	putFile(t, c, dir, key('c'), 100) // over 250: b goes
	if _, _, ok := c.Get(key('b')); ok {
		t.Error("b was not evicted")
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", key('b'))); !os.IsNotExist(err) {
		t.Errorf("b's file is still on disk: %v", err)
	}
	for _, k := range []string{key('a'), key('c')} {
		art, _, ok := c.Get(k)
		if !ok {
			t.Errorf("%c evicted", k[0])
			continue
		}
		art.Release()
	}
	if n, size := c.Stats(); n != 2 || size != 200 {
		t.Errorf("stats = %d entries, %d bytes", n, size)
	}
}

func TestCachePinnedBinarySurvivesEviction(t *testing.T) {
	dir := t.TempDir()
	c, err := NewCache(filepath.Join(dir, "bin"), 150)
	if err != nil {
		t.Fatal(err)
	}
	putFile(t, c, dir, key('a'), 100)
	a, _, ok := c.Get(key('a'))
	if !ok {
		t.Fatal("a missing")
	}
	putFile(t, c, dir, key('b'), 100) // evicts a from the index
	if _, err := os.Stat(a.Path); err != nil {
		t.Fatalf("a pinned binary was deleted under its run: %v", err)
	}
	a.Release()
	if _, err := os.Stat(a.Path); !os.IsNotExist(err) {
		t.Errorf("evicted binary still on disk after release: %v", err)
	}
}

func TestCacheKeepsCompileErrorsAndReloads(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	c, err := NewCache(bin, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	c.PutError(key('e'), &CompileError{Message: "prog.go:1:1: x", Cacheable: true})
	if _, cerr, ok := c.Get(key('e')); !ok || cerr == nil || cerr.Message != "prog.go:1:1: x" {
		t.Errorf("compile error not cached: %v %v", cerr, ok)
	}
	putFile(t, c, dir, key('a'), 10)
	// A leftover temp file of an interrupted insert is removed on reload.
	if err := os.WriteFile(filepath.Join(bin, key('z')+".tmp-1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c2, err := NewCache(bin, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if a, _, ok := c2.Get(key('a')); !ok {
		t.Error("binary not reloaded")
	} else {
		a.Release()
	}
	if n, _ := c2.Stats(); n != 1 {
		t.Errorf("%d entries after reload, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(bin, key('z')+".tmp-1")); !os.IsNotExist(err) {
		t.Error("temp file survived reload")
	}
}
