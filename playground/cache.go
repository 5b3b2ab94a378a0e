package playground

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"playdoc/playground/internal/lru"
)

// Cache keeps built binaries on disk, bounded in total size, evicting the
// least recently used. Compile errors are kept too (in memory).
//
// Several servers may share the folder (tests share one warm data folder;
// an operator may restart a server while the old one drains), and each
// evicts by its own index. So a run never uses the shared name: Get
// hard-links the binary to a name of this Cache's own (pins/), which an
// eviction elsewhere cannot remove, and a binary some other server
// removed is a miss, built again.
type Cache struct {
	dir  string
	pins string // this Cache's own folder of pinned links, under dir+".pins"
	max  int64

	mu      sync.Mutex
	entries *lru.Cache[string, *cacheEntry] // by key, cost in bytes
}

type cacheEntry struct {
	key  string
	path string        // binary on disk ("" for a compile error)
	err  *CompileError // cached compile failure
	size int64
}

// Artifact is a binary taken from the cache, under a name of its own until
// Release.
type Artifact struct {
	Path    string
	release func()
}

// Release removes the artifact's own link; the binary stays in the cache.
func (a *Artifact) Release() {
	if a != nil && a.release != nil {
		a.release()
		a.release = nil
	}
}

// staleAfter is the age past which a temporary file or pin folder in the
// cache is taken for a dead server's leftover: inserts take milliseconds,
// runs at most minutes.
const staleAfter = time.Hour

// NewCache opens (or creates) a binary cache in dir bounded to max bytes;
// binaries left by an earlier server, or shared with another, are kept.
func NewCache(dir string, max int64) (*Cache, error) {
	// The pins live beside dir, not in it: older versions removed what
	// dir held besides binaries.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache dir: %w", err)
	}
	if err := os.MkdirAll(dir+".pins", 0o755); err != nil {
		return nil, fmt.Errorf("create cache pin dir: %w", err)
	}
	removeStale(dir + ".pins")
	pins, err := os.MkdirTemp(dir+".pins", "server-")
	if err != nil {
		return nil, fmt.Errorf("create cache pin dir: %w", err)
	}
	c := &Cache{dir: dir, pins: pins, max: max}
	c.entries = lru.New(max, func(e *cacheEntry) int64 { return e.size }, c.evicted)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read cache dir: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile by a server sharing the folder
		}
		if fi.Mode().IsRegular() && len(e.Name()) == 64 {
			c.entries.Add(e.Name(), &cacheEntry{key: e.Name(), path: p, size: fi.Size()})
			continue
		}
		// A temporary file of an insert: another server's in progress, or
		// an interrupted one's when old.
		if time.Since(fi.ModTime()) > staleAfter {
			_ = os.RemoveAll(p)
		}
	}
	return c, nil
}

// removeStale removes the pin folders under dir older than staleAfter:
// dead servers' (a live server's folder is as old as the server, but its
// pins are younger and a server lives long; see Get).
func removeStale(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAfter {
			_ = os.RemoveAll(p)
		}
	}
}

// Close removes this Cache's pin folder; artifacts not yet released lose
// their files.
func (c *Cache) Close() error {
	return os.RemoveAll(c.pins)
}

// Get returns the cached binary or compile error for key. ok is false on
// a miss, also when a server sharing the folder removed the binary. A
// returned artifact keeps its file until released, whatever is evicted.
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
	pin := filepath.Join(c.pins, key+"-"+newID())
	err := os.Link(e.path, pin)
	if errors.Is(err, fs.ErrNotExist) && os.MkdirAll(c.pins, 0o755) == nil {
		// Our pin folder went (another server took it for a dead one's
		// after an idle hour), or the binary did: try once more.
		err = os.Link(e.path, pin)
	}
	if err != nil {
		c.entries.Remove(key)
		return nil, nil, false
	}
	return &Artifact{Path: pin, release: func() { _ = os.Remove(pin) }}, nil, true
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
	// Built twice (a race, or a server sharing the folder removed the
	// first): the same key is the same program, so replacing is harmless,
	// and runs of the old file hold links of their own.
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

// evicted removes an evicted binary's file; the runs using it have links
// of their own. Called with c.mu held.
func (c *Cache) evicted(_ string, e *cacheEntry) {
	if e.path != "" {
		_ = os.Remove(e.path)
	}
}

// Stats reports the number of entries and their total size.
func (c *Cache) Stats() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.Len(), c.entries.Cost()
}
