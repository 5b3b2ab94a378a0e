package playground

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		t.Errorf("the artifact's link is still on disk after release: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", key('a'))); !os.IsNotExist(err) {
		t.Errorf("evicted binary still on disk: %v", err)
	}
}

// TestCacheSharedFolder: two servers share one cache folder (as the tests
// share one warm data folder) and each evicts by its own index. A binary
// the other removed is a miss, not a failed run, and one in use survives
// the other's eviction; one's start leaves the other's insert alone.
func TestCacheSharedFolder(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	one, err := NewCache(bin, 150)
	if err != nil {
		t.Fatal(err)
	}
	putFile(t, one, dir, key('a'), 100)
	// An insert of another server, in progress (its temporary name).
	inFlight := filepath.Join(bin, key('z')+".tmp-123")
	if err := os.WriteFile(inFlight, []byte("x"), 0o555); err != nil {
		t.Fatal(err)
	}
	two, err := NewCache(bin, 150) // sees a
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inFlight); err != nil {
		t.Errorf("a new server removed another's insert in progress: %v", err)
	}
	running, _, ok := one.Get(key('a'))
	if !ok {
		t.Fatal("a missing in one")
	}
	defer running.Release()
	putFile(t, two, dir, key('b'), 100) // two evicts a: the file goes
	if _, err := os.Stat(filepath.Join(bin, key('a'))); !os.IsNotExist(err) {
		t.Fatalf("two's eviction left a: %v", err)
	}
	if b, err := os.ReadFile(running.Path); err != nil || len(b) != 100 {
		t.Errorf("one's run lost its binary to two's eviction: %d bytes, %v", len(b), err)
	}
	if _, _, ok := one.Get(key('a')); ok {
		t.Error("one still serves a, which two removed: a run would fail to start")
	}
	putFile(t, one, dir, key('a'), 100) // built again
	again, _, ok := one.Get(key('a'))
	if !ok {
		t.Fatal("a missing after it was built again")
	}
	again.Release()
	for _, c := range []*Cache{one, two} {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}
	if ents, _ := os.ReadDir(bin + ".pins"); len(ents) != 0 {
		t.Errorf("pin folders left after Close: %d", len(ents))
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
	// A leftover temp file of an interrupted insert (older than any insert
	// in progress) is removed on reload.
	old := time.Now().Add(-2 * staleAfter)
	if err := os.WriteFile(filepath.Join(bin, key('z')+".tmp-1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(bin, key('z')+".tmp-1"), old, old); err != nil {
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
