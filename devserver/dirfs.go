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
	d := &dirFS{root: filepath.Clean(root), disk: os.DirFS(root)}
	d.flush()
	return d
}

// Open reads from the disk; the builder reads through the faster
// interfaces below.
func (d *dirFS) Open(name string) (fs.File, error) { return d.disk.Open(name) }

// ReadFile implements fs.ReadFileFS.
func (d *dirFS) ReadFile(name string) ([]byte, error) {
	d.mu.Lock()
	b, ok := d.files[name]
	d.mu.Unlock()
	if !ok {
		var err error
		if b, err = fs.ReadFile(d.disk, name); err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.files[name] = b
		d.mu.Unlock()
	}
	// The caller may modify what it gets.
	return bytes.Clone(b), nil
}

// ReadDir implements fs.ReadDirFS.
func (d *dirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	d.mu.Lock()
	ents, ok := d.dirs[name]
	d.mu.Unlock()
	if !ok {
		var err error
		if ents, err = fs.ReadDir(d.disk, name); err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.dirs[name] = ents
		d.mu.Unlock()
	}
	return slices.Clone(ents), nil
}

// Stat implements fs.StatFS.
func (d *dirFS) Stat(name string) (fs.FileInfo, error) {
	d.mu.Lock()
	st, ok := d.stats[name]
	d.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := fs.Stat(d.disk, name)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.stats[name] = st
	d.mu.Unlock()
	return st, nil
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
	prefix := name + "/"
	for k := range d.files {
		if k == name || strings.HasPrefix(k, prefix) {
			delete(d.files, k)
		}
	}
	for k := range d.dirs {
		if k == name || strings.HasPrefix(k, prefix) {
			delete(d.dirs, k)
		}
	}
	for k := range d.stats {
		if k == name || strings.HasPrefix(k, prefix) {
			delete(d.stats, k)
		}
	}
}

// flush forgets everything (after the watcher lost events).
func (d *dirFS) flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.files = map[string][]byte{}
	d.dirs = map[string][]fs.DirEntry{}
	d.stats = map[string]fs.FileInfo{}
}
