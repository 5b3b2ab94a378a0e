package devserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run builds the site, then watches the configured folders and rebuilds
// after each burst of changes until ctx ends. A failed build is not an
// error of Run: the pages show it and the next change may fix it.
func (s *Server) Run(ctx context.Context) error {
	if len(s.dirs) == 0 && s.cfg.ConfigFile == "" {
		_ = s.Rebuild(ctx)
		<-ctx.Done()
		return nil
	}
	w, err := newWatcher(s.dirs, s.cfg.ConfigFile, func() { s.configDirty.Store(true) })
	if err != nil {
		return err
	}
	defer w.close()
	s.watch.Store(w)
	defer s.watch.Store(nil)
	// Build after the watches are set, so that no change is lost
	// between the two.
	_ = s.Rebuild(ctx)
	return w.loop(ctx, s.cfg.Quiet, s.cfg.MaxWait, func() {
		if err := s.Rebuild(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Debug("build failed", "err", err)
		}
	}, s.cfg.Logger.Warn)
}

// watcher watches folder trees with fsnotify, which watches single
// folders: subfolders are added as they appear and dropped as they go.
type watcher struct {
	fs   *fsnotify.Watcher
	dirs []*dirFS // told of every change
	// config is the configuration file's absolute path ("" for none);
	// its folder is watched alone (editors save by renaming a new file
	// over the old one, which a watch of the file would lose), and
	// onConfig is called when the file changes.
	config   string
	onConfig func()
}

func newWatcher(dirs []*dirFS, config string, onConfig func()) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	w := &watcher{fs: fw, dirs: dirs, config: config, onConfig: onConfig}
	for _, d := range dirs {
		if err := w.addTree(d.root); err != nil {
			fw.Close()
			return nil, err
		}
	}
	if config != "" {
		if err := fw.Add(filepath.Dir(config)); err != nil {
			fw.Close()
			return nil, fmt.Errorf("watch %s: %w", filepath.Dir(config), err)
		}
	}
	return w, nil
}

func (w *watcher) close() { w.fs.Close() }

// addTree watches dir and every folder below it.
func (w *watcher) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != dir {
				return nil // removed while walking
			}
			return fmt.Errorf("watch %s: %w", p, err)
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && ignored(d.Name()) {
			return filepath.SkipDir
		}
		if err := w.fs.Add(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return fmt.Errorf("watch %s: %w", p, err)
		}
		return nil
	})
}

// dropTree stops watching dir and the folders below it (after a delete or
// a rename away: inotify would keep following a moved folder).
func (w *watcher) dropTree(dir string) {
	prefix := dir + string(filepath.Separator)
	for _, p := range w.fs.WatchList() {
		if p == dir || strings.HasPrefix(p, prefix) {
			_ = w.fs.Remove(p)
		}
	}
}

// inTree reports whether p is inside one of the watched folders.
func (w *watcher) inTree(p string) bool {
	for _, d := range w.dirs {
		if p == d.root || strings.HasPrefix(p, d.root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// ignored reports whether a file name is an editor's or the system's
// scratch file, whose changes never matter: vim's swap files and its
// "4913" write test, backups ending in "~", Emacs lock and autosave files,
// hidden files.
func ignored(name string) bool {
	switch {
	case name == "4913", strings.HasPrefix(name, "."), strings.HasSuffix(name, "~"),
		strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"):
		return true
	}
	switch filepath.Ext(name) {
	case ".swp", ".swx", ".swo", ".tmp", ".bak":
		return true
	}
	return false
}

// loop gathers events into bursts (see burst) and calls build once per
// burst. Events arriving during a build make the next burst.
func (w *watcher) loop(ctx context.Context, quiet, maxWait time.Duration, build func(), warn func(string, ...any)) error {
	b := newBurst(quiet, maxWait)
	defer b.stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fs.Events:
			if !ok {
				return errors.New("watch: event channel closed")
			}
			if w.handle(ev, warn) {
				b.change()
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return errors.New("watch: error channel closed")
			}
			// Overflow and the like: events were lost, so forget
			// every file read and rebuild.
			warn("watch", "err", err)
			for _, d := range w.dirs {
				d.flush()
			}
			b.change()
		case <-b.C():
			if b.end() {
				build()
			}
		}
	}
}

// handle updates the watches for an event and reports whether it may
// change the site.
func (w *watcher) handle(ev fsnotify.Event, warn func(string, ...any)) bool {
	for _, d := range w.dirs {
		d.invalidate(ev.Name)
	}
	if w.config != "" {
		switch {
		case ev.Name == w.config:
			if ev.Op == fsnotify.Chmod {
				return false
			}
			w.onConfig()
			return true
		case filepath.Dir(ev.Name) == filepath.Dir(w.config) && !w.inTree(ev.Name):
			return false // another file beside the configuration
		}
	}
	if ignored(filepath.Base(ev.Name)) {
		return false
	}
	switch {
	case ev.Has(fsnotify.Create):
		if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
			// A new folder (or one moved in): watch it; files
			// made in it before the watch count in this burst.
			if err := w.addTree(ev.Name); err != nil {
				warn("watch new folder", "err", err)
			}
		}
	case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
		w.dropTree(ev.Name)
	case ev.Op == fsnotify.Chmod:
		// Touching metadata (e.g. atime/permission) changes nothing
		// the build reads.
		return false
	}
	return true
}
