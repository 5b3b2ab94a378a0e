package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yuin/goldmark"
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

	// prev is what the last builds wrote into this folder and into out
	// (the output folder, whose files may be hard-linked here instead of
	// written again); nil: nothing is known.
	prev       *outputs
	dirID      string // dirIdentity of dir, when prev is set
	out, outID string // the output folder and its identity; "" for none
	mu         sync.Mutex
	made       map[string]bool      // folders that exist now
	written    map[string]bool      // files written (or found unchanged)
	stamps     map[string]fileStamp // the files written, as written
}

// newDirWriter lists what dir holds, making dir if needed (a file in its
// place is removed).
func newDirWriter(dir string) (*dirWriter, error) {
	w := &dirWriter{dir: dir, existing: map[string]fs.FileMode{}, made: map[string]bool{"/": true}, written: map[string]bool{},
		stamps: map[string]fileStamp{}}
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
	_, err := w.writeSum(p, body)
	return err
}

// writeSum is write, returning the sha256 of body.
func (w *dirWriter) writeSum(p string, body []byte) ([sha256.Size]byte, error) {
	sum := sha256.Sum256(body)
	if w.reuse(p, sum) {
		return sum, nil
	}
	if err := w.ensureDir(path.Dir(p)); err != nil {
		return sum, err
	}
	target := w.local(p)
	mode, had := w.existing[p]
	switch {
	case had && mode.IsRegular():
		if _, known := w.prev.stamp(w.dirID, p); !known {
			if old, err := os.ReadFile(target); err == nil && bytes.Equal(old, body) {
				return sum, w.keep(p, sum)
			}
		}
		// Not written in place: the file may be a hard link to the
		// output's (see reuse).
		if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return sum, err
		}
	case had: // a folder or a link where the file goes
		if err := os.RemoveAll(target); err != nil {
			return sum, err
		}
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return sum, err
	}
	_, werr := f.Write(body)
	fi, serr := f.Stat()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return sum, err
	}
	w.record(p, stampOf(sum, fi))
	return sum, nil
}

// keep records the file at p, found to hold the bytes of sum, as written.
func (w *dirWriter) keep(p string, sum [sha256.Size]byte) error {
	fi, err := os.Lstat(w.local(p))
	if err != nil {
		return err
	}
	w.record(p, stampOf(sum, fi))
	return nil
}

// record marks p written, as st.
func (w *dirWriter) record(p string, st fileStamp) {
	w.mu.Lock()
	w.written[p] = true
	w.stamps[p] = st
	w.mu.Unlock()
}

// reuse gives p the bytes of sum without writing them, when an earlier
// build left them on disk: in this folder (kept as is), or in the output
// folder (hard-linked here; write never writes into a file in place, so
// the output's copy stays as it is). It reports whether it did.
func (w *dirWriter) reuse(p string, sum [sha256.Size]byte) bool {
	if w.prev == nil {
		return false
	}
	target := w.local(p)
	if st, ok := w.prev.stamp(w.dirID, p); ok && st.Sum == sum {
		if fi, err := os.Lstat(target); err == nil && st.matches(fi) {
			// Its folder is kept too (finish removes what was not made).
			if err := w.ensureDir(path.Dir(p)); err != nil {
				return false // write reports it
			}
			w.record(p, st)
			return true
		}
	}
	st, ok := w.prev.stamp(w.outID, p)
	if !ok || st.Sum != sum || w.outID == w.dirID {
		return false
	}
	src := filepath.Join(w.out, filepath.FromSlash(strings.TrimPrefix(p, "/")))
	if fi, err := os.Lstat(src); err != nil || !st.matches(fi) {
		return false
	}
	if err := w.ensureDir(path.Dir(p)); err != nil {
		return false // write reports it
	}
	if _, had := w.existing[p]; had {
		if err := os.RemoveAll(target); err != nil {
			return false
		}
	}
	if err := os.Link(src, target); err != nil {
		return false
	}
	w.record(p, st)
	return true
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
// With a CacheDir, BuildTo keeps a page cache there (see pagecache.go):
// the next BuildTo neither parses a page whose source did not change nor
// renders or writes one whose output would be the bytes already on disk
// (hard-linked from dir into the staging folder when needed).
//
// The highlight cache is saved too, as SaveCache would (which then has
// nothing to write).
//
// The returned Site lists every file, but the rendered pages' Files (and
// the search index's, when reused from disk) have no Body: it cannot be
// served or written again. The Snippets of pages taken from the page cache
// carry their place and name, not their Code or Expected output (use Build
// or LoadSnippets for those). The Builder keeps no parsed or rendered page
// (its next Build starts over); its highlight cache is kept, for SaveCache.
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
	unlock, err := lockOutput(ctx, dir, func() {
		b.cfg.Logger.Info("waiting for another build writing the same output", "out", dir)
	})
	if err != nil {
		return nil, err
	}
	defer unlock()
	w, err := newDirWriter(filepath.Join(parent, "."+base+".staging"))
	if err != nil {
		return nil, fmt.Errorf("write site: %w", err)
	}
	start := time.Now()
	pc, prev := b.readPageCache()
	b.cfg.Logger.Debug("page cache read", "pages", len(pc.pagesOrNil()), "took", time.Since(start))
	if prev != nil {
		w.prev, w.dirID, w.out, w.outID = prev, dirIdentity(w.dir), dir, dirIdentity(dir)
	}
	s, err := b.build(ctx, w, pc)
	b.mu.Lock()
	b.parsed, b.rendered = map[string]*Page{}, map[string]renderedEntry{}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	built := time.Now()
	// The page cache is encoded while the files are written: one is CPU,
	// the other mostly waiting for the disk. Written before the swap, it
	// is still right if the swap fails: the records of the files on disk
	// (saveOutputs) are what lets the next build use it.
	saved := make(chan error, 1)
	go func() { saved <- b.savePages(s, pc) }()
	// So is the highlight cache, which SaveCache would write after: it
	// then has nothing left to write.
	hlSaved := make(chan error, 1)
	go func() { hlSaved <- b.hl.save(usedHighlights(s)) }()
	werr := w.writeFiles(s)
	if werr == nil {
		werr = w.finish()
	}
	if err := <-saved; err != nil {
		b.cfg.Logger.Warn("page cache not saved", "err", err)
	}
	if err := <-hlSaved; err != nil {
		b.cfg.Logger.Warn("highlight cache not saved", "err", err)
	}
	if werr != nil {
		return nil, fmt.Errorf("write site: %w", werr)
	}
	if err := swapDir(w.dir, dir); err != nil {
		return nil, err
	}
	written := time.Now()
	if err := b.saveOutputs(pc, prev, w); err != nil {
		b.cfg.Logger.Warn("output record not saved", "err", err)
	}
	b.cfg.Logger.Debug("site written", "files", len(s.Files), "write", written.Sub(built), "save outputs", time.Since(written))
	return s, nil
}

// readPageCache reads the page cache and the record of the outputs from
// CacheDir (see pagecache.go): nil, nil without a cache folder; empty
// ones when they are missing or unusable (a damaged cache is ignored: the
// build is then a cold one, never a wrong one).
func (b *Builder) readPageCache() (*pageCache, *outputs) {
	if b.cfg.CacheDir == "" {
		return nil, nil
	}
	pc := &pageCache{Pages: map[string]*cachedPage{}, Renders: map[string]renderRecord{}}
	out := &outputs{Dirs: map[string]map[string]fileStamp{}}
	if b.binID == "" && b.binErr == nil {
		b.binID, b.binErr = binaryID()
	}
	if b.binErr != nil {
		b.cfg.Logger.Warn("page cache not used", "err", b.binErr)
		return nil, nil
	}
	var got pageCache
	if ok, err := readCacheFile(filepath.Join(b.cfg.CacheDir, pageCacheFile), b.binID, &got); err != nil {
		b.cfg.Logger.Warn("page cache ignored", "err", err)
		return pc, out // without pages, the outputs are of no use
	} else if ok {
		if got.Pages != nil {
			pc.Pages = got.Pages
		}
		if got.Renders != nil {
			pc.Renders = got.Renders
		}
		pc.Search = got.Search
		pc.prevRenders, pc.prevSearch = pc.Renders, pc.Search
	}
	var gotOut outputs
	if ok, err := readCacheFile(filepath.Join(b.cfg.CacheDir, outputsFile), b.binID, &gotOut); err != nil {
		b.cfg.Logger.Warn("output record ignored", "err", err)
	} else if ok && gotOut.Dirs != nil {
		out = &gotOut
	}
	return pc, out
}

// savePages writes what build s learnt of the pages (pc, as the build
// updated it, and the search terms) into CacheDir, each file only when it
// changed.
func (b *Builder) savePages(s *Site, pc *pageCache) error {
	if pc == nil {
		return nil
	}
	pages := make(map[string]*cachedPage, len(s.Pages))
	dirty := false
	for _, p := range s.Pages {
		if p.hash == ([sha256.Size]byte{}) {
			continue // a generated page of a section without _index.md
		}
		if e := pc.Pages[p.File]; e != nil && p.fromCache {
			pages[p.File] = e
			continue
		}
		pages[p.File] = newCachedPage(p)
		dirty = true
	}
	dirty = dirty || len(pages) != len(pc.Pages) || !maps.Equal(pc.Renders, pc.prevRenders) ||
		pc.Search.Key != pc.prevSearch.Key || !maps.Equal(pc.Search.Files, pc.prevSearch.Files)
	var errs []error
	if pc.termsChanged {
		terms := make(termsStore, len(s.Pages))
		for _, p := range s.Pages {
			if ps := b.terms[p.termsKey]; ps != nil {
				terms[p.termsKey] = newStoredTerms(ps)
			}
		}
		errs = append(errs, writeCacheFile(filepath.Join(b.cfg.CacheDir, termsFile), b.binID, terms))
	}
	if dirty {
		pc.Pages = pages
		errs = append(errs, writeCacheFile(filepath.Join(b.cfg.CacheDir, pageCacheFile), b.binID, pc))
	}
	return errors.Join(errs...)
}

// saveOutputs writes the stamps of the files w wrote into CacheDir, when
// they changed. After the swap, w's folder is the output folder and the
// former output folder is the staging folder: both keep their records.
func (b *Builder) saveOutputs(pc *pageCache, prev *outputs, w *dirWriter) error {
	if pc == nil || prev == nil {
		return nil
	}
	out := &outputs{Dirs: map[string]map[string]fileStamp{}}
	if w.dirID != "" {
		out.Dirs[w.dirID] = w.stamps
	}
	if st, ok := prev.Dirs[w.outID]; ok && w.outID != w.dirID {
		out.Dirs[w.outID] = st
	}
	same := len(out.Dirs) == len(prev.Dirs)
	for id, st := range out.Dirs {
		same = same && maps.Equal(st, prev.Dirs[id])
	}
	if same {
		return nil
	}
	return writeCacheFile(filepath.Join(b.cfg.CacheDir, outputsFile), b.binID, out)
}

// releaseTree drops a page's syntax tree, keeping what the build needs
// to render it: its body template (see bodyTemplate), the code blocks
// without the tree around them, for highlighting, and the search excerpts.
func (p *Page) releaseTree(md goldmark.Markdown) error {
	// The search excerpts are read from the tree: kept, as their JSON.
	text, err := pageTextJSON(p)
	if err != nil {
		return err
	}
	p.searchText = text
	if p.tmpl, err = newBodyTemplate(p, md); err != nil {
		return fmt.Errorf("%s: %w", p.Path, err)
	}
	p.doc, p.refOf, p.raw = nil, nil, nil
	for i, c := range p.codes {
		p.codes[i] = &codeNode{Lang: c.Lang, Code: c.Code, Snippet: c.Snippet, HL: c.HL, LineNos: c.LineNos, key: c.key, html: c.html}
	}
	p.treeReleased = true
	return nil
}

// release drops what only rendering needed of a page: its syntax tree and
// the code blocks but for their cache keys (the highlighter keeps their
// HTML); what the search index, the site files and SaveCache read stays.
func (p *Page) release() {
	// The search index, made meanwhile, reads the doc of a page without
	// excerpts (a section's generated page, which has none): left alone.
	if p.doc != nil {
		p.doc = nil
	}
	p.refOf, p.raw, p.tmpl = nil, nil, nil
	for i, c := range p.codes {
		p.codes[i] = &codeNode{Lang: c.Lang, key: c.key}
	}
}

// reparse gives back a page its syntax tree, dropped by releaseTree or
// never built (a page from the page cache): the same source parsed again
// (parsing is deterministic, so references and code blocks come in the
// same order), its code blocks' HTML from the highlighter (highlighted now
// if the highlight cache lost them).
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
	if len(np.codes) > 0 {
		b.loadHighlights()
	}
	for i, c := range np.codes {
		c.key = p.codes[i].key
		html, ok := b.hl.get(c.key)
		if !ok {
			if !p.fromCache {
				return fmt.Errorf("%s: a code block was not highlighted", p.Path)
			}
			if html, err = b.hl.highlight(c.Lang, c.Code); err != nil {
				return err
			}
			b.hl.put(c.key, html)
		}
		c.html = html
	}
	p.doc, p.refOf, p.raw, p.codes, p.tmpl = np.doc, np.refOf, np.raw, np.codes, nil
	p.body, p.bodyLine, p.newlines = np.body, np.bodyLine, np.newlines
	p.treeReleased = false
	return nil
}
