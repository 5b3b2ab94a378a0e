package playground

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"playdoc/playground/internal/lru"
)

// Cache keeps built binaries on disk, bounded in total size, evicting the
// least recently used. Compile errors are kept too (in memory). Entries
// in use by a run are pinned and never evicted under it.
type Cache struct {
	dir string
	max int64

	mu      sync.Mutex
	entries *lru.Cache[string, *cacheEntry] // by key, cost in bytes
}

type cacheEntry struct {
	key  string
	path string        // binary on disk ("" for a compile error)
	err  *CompileError // cached compile failure
	size int64
	refs int  // runs holding the binary
	gone bool // evicted: the last release removes the file
}

// Artifact is a binary taken from the cache; Release unpins it.
type Artifact struct {
	Path    string
	release func()
}

// Release lets the cache evict the binary again.
func (a *Artifact) Release() {
	if a != nil && a.release != nil {
		a.release()
		a.release = nil
	}
}

// NewCache opens (or creates) a binary cache in dir bounded to max bytes;
// binaries left by an earlier server are kept.
func NewCache(dir string, max int64) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache dir: %w", err)
	}
	c := &Cache{dir: dir, max: max}
	c.entries = lru.New(max, func(e *cacheEntry) int64 { return e.size }, c.evicted)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read cache dir: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || len(e.Name()) != 64 {
			_ = os.RemoveAll(p) // a temp file of an interrupted insert
			continue
		}
		c.entries.Add(e.Name(), &cacheEntry{key: e.Name(), path: p, size: fi.Size()})
	}
	return c, nil
}

// Get returns the cached binary or compile error for key. ok is false on
// a miss. A returned artifact is pinned until released.
func (c *Cache) Get(key string) (a *Artifact, cerr *CompileError, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.entries.Get(key)
	if !found {
		return nil, nil, false
	}
	if e.err != nil {
		return nil, e.err, true
	}
	e.refs++
	return &Artifact{Path: e.path, release: c.unpinFunc(e)}, nil, true
}

func (c *Cache) unpinFunc(e *cacheEntry) func() {
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		e.refs--
		// Evicted while pinned; a newer entry of the key owns the path.
		if e.refs == 0 && e.gone && !c.entries.Contains(e.key) {
			_ = os.Remove(e.path)
		}
	}
}

// PutBinary moves the binary at src (same file system) into the cache.
func (c *Cache) PutBinary(key, src string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	dst := filepath.Join(c.dir, key)
	tmp := dst + ".tmp-" + newID()
	if err := os.Rename(src, tmp); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	// Readable by the sandbox; nobody writes it again.
	if err := os.Chmod(tmp, 0o555); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cache: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries.Get(key); ok {
		// Built twice (e.g. after an eviction race): keep the first.
		_ = os.Remove(tmp)
		return nil
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cache: %w", err)
	}
	c.entries.Add(key, &cacheEntry{key: key, path: dst, size: fi.Size()})
	return nil
}

// PutError records a deterministic compile failure.
func (c *Cache) PutError(key string, ce *CompileError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries.Contains(key) {
		return
	}
	size := int64(len(ce.Message) + 64*len(ce.Errors) + 128)
	c.entries.Add(key, &cacheEntry{key: key, err: ce, size: size})
}

// evicted removes an evicted binary's file, or leaves it to the last
// release while a run holds it. Called with c.mu held.
func (c *Cache) evicted(_ string, e *cacheEntry) {
	e.gone = true
	if e.path != "" && e.refs == 0 {
		_ = os.Remove(e.path)
	}
}

// Stats reports the number of entries and their total size.
func (c *Cache) Stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.Len(), c.entries.Cost()
}
