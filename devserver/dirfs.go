package devserver

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// dirFS is a folder on disk whose file contents, listings and file infos
// are kept in memory until the watcher reports them changed: every rebuild
// reads every page, and on a big site the system calls of a thousand
// opens and stats, not the bytes, would cost most of the rebuild.
type dirFS struct {
	root string // the folder, as the watcher names it
	disk fs.FS

	mu    sync.Mutex
	files map[string][]byte
	dirs  map[string][]fs.DirEntry
	stats map[string]fs.FileInfo
}

func newDirFS(root string) *dirFS {
	// The maps are made once and only cleared, so they can be read
	// without the lock that guards their contents.
	return &dirFS{
		root:  filepath.Clean(root),
		disk:  os.DirFS(root),
		files: map[string][]byte{},
		dirs:  map[string][]fs.DirEntry{},
		stats: map[string]fs.FileInfo{},
	}
}

// Open reads from the disk; the builder reads through the faster
// interfaces below.
func (d *dirFS) Open(name string) (fs.File, error) { return d.disk.Open(name) }

// ReadFile implements fs.ReadFileFS.
func (d *dirFS) ReadFile(name string) ([]byte, error) {
	b, err := cached(d, d.files, name, fs.ReadFile)
	if err != nil {
		return nil, err
	}
	// The caller may modify what it gets.
	return bytes.Clone(b), nil
}

// ReadDir implements fs.ReadDirFS.
func (d *dirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := cached(d, d.dirs, name, fs.ReadDir)
	if err != nil {
		return nil, err
	}
	return slices.Clone(ents), nil
}

// Stat implements fs.StatFS.
func (d *dirFS) Stat(name string) (fs.FileInfo, error) {
	return cached(d, d.stats, name, fs.Stat)
}

// cached returns m[name], reading it from the disk on a miss and keeping
// it (errors are not kept).
func cached[V any](d *dirFS, m map[string]V, name string, read func(fs.FS, string) (V, error)) (V, error) {
	d.mu.Lock()
	v, ok := m[name]
	d.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := read(d.disk, name)
	if err != nil {
		return v, err
	}
	d.mu.Lock()
	m[name] = v
	d.mu.Unlock()
	return v, nil
}

// rel maps a path reported by the watcher to a name in d; ok is false
// when the path is outside d.
func (d *dirFS) rel(p string) (string, bool) {
	r, err := filepath.Rel(d.root, filepath.Clean(p))
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// invalidate forgets what is known of the file or folder at p (a path as
// the watcher reports it) and of the listing of its folder.
func (d *dirFS) invalidate(p string) {
	name, ok := d.rel(p)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.dirs, path.Dir(name))
	if name == "." {
		clear(d.files)
		clear(d.dirs)
		clear(d.stats)
		return
	}
	forgetUnder(d.files, name)
	forgetUnder(d.dirs, name)
	forgetUnder(d.stats, name)
}

// forgetUnder deletes the entries of m for name and everything below it.
func forgetUnder[V any](m map[string]V, name string) {
	prefix := name + "/"
	for k := range m {
		if k == name || strings.HasPrefix(k, prefix) {
			delete(m, k)
		}
	}
}

// flush forgets everything (after the watcher lost events).
func (d *dirFS) flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.files)
	clear(d.dirs)
	clear(d.stats)
}
