package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// dirWriter makes a folder hold exactly the files written to it, reusing
// what an earlier write left there: folders that exist are not made again,
// files whose bytes did not change are not rewritten (on a busy disk those
// system calls are most of a build's time), and finish removes the rest.
// write is safe for concurrent use, so that pages are written by the
// workers that render them.
type dirWriter struct {
	dir      string
	existing map[string]fs.FileMode // slash path → type, as found; read-only

	mu      sync.Mutex
	made    map[string]bool // folders that exist now
	written map[string]bool // files written (or found unchanged)
}

// newDirWriter lists what dir holds, making dir if needed (a file in its
// place is removed).
func newDirWriter(dir string) (*dirWriter, error) {
	w := &dirWriter{dir: dir, existing: map[string]fs.FileMode{}, made: map[string]bool{"/": true}, written: map[string]bool{}}
	switch st, err := os.Lstat(dir); {
	case err == nil && st.IsDir():
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != dir {
				rel, _ := filepath.Rel(dir, p)
				w.existing["/"+filepath.ToSlash(rel)] = d.Type()
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	case err == nil:
		if err := os.Remove(dir); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return w, nil
}

// local is the file path of a slash path ("/a/index.html").
func (w *dirWriter) local(p string) string {
	return filepath.Join(w.dir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
}

// ensureDir makes folder d and its parents, removing a file or link that
// an earlier write left in the place of one.
func (w *dirWriter) ensureDir(d string) error {
	w.mu.Lock()
	done := w.made[d]
	w.mu.Unlock()
	if done {
		return nil
	}
	if err := w.ensureDir(path.Dir(d)); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.made[d] {
		return nil
	}
	if mode, had := w.existing[d]; !had || !mode.IsDir() {
		if had {
			if err := os.Remove(w.local(d)); err != nil {
				return err
			}
		}
		if err := os.Mkdir(w.local(d), 0o755); err != nil {
			return err
		}
	}
	w.made[d] = true
	return nil
}

// write puts body at slash path p, unless the file there already holds it.
func (w *dirWriter) write(p string, body []byte) error {
	if err := w.ensureDir(path.Dir(p)); err != nil {
		return err
	}
	target := w.local(p)
	mode, had := w.existing[p]
	switch {
	case had && mode.IsRegular():
		if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, body) {
			w.markWritten(p)
			return nil
		}
	case had: // a folder or a link where the file goes
		if err := os.RemoveAll(target); err != nil {
			return err
		}
	}
	if err := os.WriteFile(target, body, 0o644); err != nil {
		return err
	}
	w.markWritten(p)
	return nil
}

func (w *dirWriter) markWritten(p string) {
	w.mu.Lock()
	w.written[p] = true
	w.mu.Unlock()
}

// isWritten reports whether p was written.
func (w *dirWriter) isWritten(p string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written[p]
}

// finish removes what the folder held before and was not written now;
// a removed folder takes its contents with it. Call it after every write.
func (w *dirWriter) finish() error {
	var stale []string
	for p, mode := range w.existing {
		keep := (w.written[p] && mode.IsRegular()) || (w.made[p] && mode.IsDir())
		if !keep {
			stale = append(stale, p)
		}
	}
	slices.SortFunc(stale, func(a, b string) int { return strings.Count(a, "/") - strings.Count(b, "/") })
	removed := map[string]bool{}
	underRemoved := func(p string) bool {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if removed[d] {
				return true
			}
		}
		return false
	}
	var g errgroup.Group
	g.SetLimit(2 * runtime.GOMAXPROCS(0))
	for _, p := range stale { // parents before children
		if underRemoved(p) {
			continue
		}
		removed[p] = true
		if w.written[p] || w.made[p] {
			continue // replaced, by a file or a folder, when it was written
		}
		g.Go(func() error { return os.RemoveAll(w.local(p)) })
	}
	return g.Wait()
}

// writeFiles writes the files of s that are not written yet, in parallel.
func (w *dirWriter) writeFiles(s *Site) error {
	var g errgroup.Group
	g.SetLimit(2 * runtime.GOMAXPROCS(0))
	for p, f := range s.Files {
		if f.streamed || w.isWritten(p) {
			continue
		}
		g.Go(func() error { return w.write(p, f.Body) })
	}
	return g.Wait()
}

// BuildTo builds the site and writes it into dir, as Build and then
// WriteDir would, but as a stream: each page is written by the worker that
// rendered it, and neither its HTML nor its parsed Markdown is kept, so
// that memory does not grow with the size of the output. dir is replaced
// only when the whole build succeeds (see WriteDir).
//
// The returned Site lists every file, but the rendered pages' Files have
// no Body: it cannot be served or written again. The Builder keeps no
// parsed or rendered page (its next Build starts over); its highlight
// cache is kept, for SaveCache.
func (b *Builder) BuildTo(ctx context.Context, dir string) (*Site, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("write site: %w", err)
	}
	if err := checkReplaceable(dir); err != nil {
		return nil, err
	}
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("write site: %w", err)
	}
	w, err := newDirWriter(filepath.Join(parent, "."+base+".staging"))
	if err != nil {
		return nil, fmt.Errorf("write site: %w", err)
	}
	s, err := b.build(ctx, w)
	b.mu.Lock()
	b.parsed, b.rendered = map[string]*Page{}, map[string]renderedEntry{}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := w.writeFiles(s); err != nil {
		return nil, fmt.Errorf("write site: %w", err)
	}
	if err := w.finish(); err != nil {
		return nil, fmt.Errorf("write site: %w", err)
	}
	if err := swapDir(w.dir, dir); err != nil {
		return nil, err
	}
	return s, nil
}

// releaseTree drops a page's syntax tree, keeping what the build needs
// before rendering (see reparse): the code blocks' language and code, for
// highlighting, and the search excerpts.
func (p *Page) releaseTree() error {
	// The search excerpts are read from the tree: kept, as their JSON.
	text, err := pageTextJSON(p)
	if err != nil {
		return err
	}
	p.searchText = text
	p.doc, p.refOf, p.raw = nil, nil, nil
	for i, c := range p.codes {
		p.codes[i] = &codeNode{Lang: c.Lang, Code: c.Code, key: c.key}
	}
	p.treeReleased = true
	return nil
}

// release drops what only rendering needed of a page: its syntax tree and
// the code blocks but for their cache keys (the highlighter keeps their
// HTML); what the search index, the site files and SaveCache read stays.
func (p *Page) release() {
	p.doc, p.refOf, p.raw = nil, nil, nil
	for i, c := range p.codes {
		p.codes[i] = &codeNode{Lang: c.Lang, key: c.key}
	}
}

// reparse gives back a page its syntax tree, dropped by releaseTree: the
// same source parsed again (parsing is deterministic, so references and
// code blocks come in the same order), its code blocks' HTML from the
// highlighter.
func (b *Builder) reparse(p *Page) error {
	src, err := fs.ReadFile(b.cfg.Content, p.File)
	if err != nil {
		return fmt.Errorf("read content: %w", err)
	}
	if sha256.Sum256(src) != p.hash {
		return fmt.Errorf("%s changed during the build; build again", p.Path)
	}
	np, errs := parsePage(p.File, p.Path, src, b.md)
	if err := errs.err(); err != nil {
		return err
	}
	if len(np.codes) != len(p.codes) || len(np.refs) != len(p.refs) {
		return fmt.Errorf("%s: parsed differently the second time", p.Path)
	}
	for i, c := range np.codes {
		c.key = p.codes[i].key
		html, ok := b.hl.get(c.key)
		if !ok {
			return fmt.Errorf("%s: a code block was not highlighted", p.Path)
		}
		c.html = html
	}
	p.doc, p.refOf, p.raw, p.codes = np.doc, np.refOf, np.raw, np.codes
	p.treeReleased = false
	return nil
}
