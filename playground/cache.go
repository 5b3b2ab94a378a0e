package playground

import (
	"container/list"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Cache keeps built binaries on disk, bounded in total size, evicting the
// least recently used. Compile errors are kept too (in memory). Entries
// in use by a run are pinned and never evicted under it.
type Cache struct {
	dir string
	max int64

	mu    sync.Mutex
	size  int64
	lru   *list.List // front = most recently used; values are *cacheEntry
	items map[string]*list.Element
}

type cacheEntry struct {
	key  string
	path string        // binary on disk ("" for a compile error)
	err  *CompileError // cached compile failure
	size int64
	refs int
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
	c := &Cache{dir: dir, max: max, lru: list.New(), items: map[string]*list.Element{}}
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
		c.items[e.Name()] = c.lru.PushBack(&cacheEntry{key: e.Name(), path: p, size: fi.Size()})
		c.size += fi.Size()
	}
	c.mu.Lock()
	c.evictLocked()
	c.mu.Unlock()
	return c, nil
}

// Get returns the cached binary or compile error for key. ok is false on
// a miss. A returned artifact is pinned until released.
func (c *Cache) Get(key string) (a *Artifact, cerr *CompileError, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.items[key]
	if !found {
		return nil, nil, false
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*cacheEntry)
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
		if e.refs == 0 && c.items[e.key] == nil {
			_ = os.Remove(e.path) // evicted while pinned
		}
		c.evictLocked()
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
	if el, ok := c.items[key]; ok {
		// Built twice (e.g. after an eviction race): keep the first.
		_ = os.Remove(tmp)
		c.lru.MoveToFront(el)
		return nil
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cache: %w", err)
	}
	c.items[key] = c.lru.PushFront(&cacheEntry{key: key, path: dst, size: fi.Size()})
	c.size += fi.Size()
	c.evictLocked()
	return nil
}

// PutError records a deterministic compile failure.
func (c *Cache) PutError(key string, ce *CompileError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return
	}
	size := int64(len(ce.Message) + 64*len(ce.Errors) + 128)
	c.items[key] = c.lru.PushFront(&cacheEntry{key: key, err: ce, size: size})
	c.size += size
	c.evictLocked()
}

// evictLocked drops least recently used entries until the cache fits.
// Pinned binaries leave the index at once but their file stays until the
// last user releases it.
func (c *Cache) evictLocked() {
	for el := c.lru.Back(); el != nil && c.size > c.max; {
		prev := el.Prev()
		e := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.items, e.key)
		c.size -= e.size
		if e.path != "" && e.refs == 0 {
			_ = os.Remove(e.path)
		}
		el = prev
	}
}

// Stats reports the number of entries and their total size.
func (c *Cache) Stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.size
}
