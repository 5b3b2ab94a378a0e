package site

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yuin/goldmark"
	"golang.org/x/sync/errgroup"

	"playdoc/snippet"
)

// Config says what to build and how.
type Config struct {
	Content     fs.FS  // the Markdown pages, at its root
	ContentName string // how errors name the content folder ("content")
	Static      fs.FS  // site.css, playground.css, playground.js, reload.js
	// BaseURL is the absolute site URL for canonical links, Open Graph and
	// the sitemap; "" leaves them out (and writes no sitemap).
	BaseURL   string
	SiteTitle string // required
	Intro     string // the index page's introduction and meta description
	Language  string // <html lang>; "en" if empty
	Footer    string // every page's footer text
	// PlaygroundURL is the origin of the playground backend the pages
	// call; "" for their own origin.
	PlaygroundURL string
	// EditURL gives a content file's (relative to Content) "Edit this
	// page" link; nil or "" for none.
	EditURL func(file string) string
	// NavOrder lists top-level section and page slugs that come first,
	// in this order; errors about it point at ConfigFile:NavOrderLine.
	NavOrder     []string
	NavOrderLine int
	// ConfigFile names the site's configuration file in errors about
	// NavOrder and Redirects ("playdoc.toml").
	ConfigFile string
	// Redirects maps old URL paths to new ones: each old path gets a page
	// that sends the reader on.
	Redirects map[string]string
	// Synonyms are search synonyms: a search for a key also finds its
	// words' pages, and the reverse.
	Synonyms map[string][]string
	// Dates gives the pages' last update times ("Last updated", the
	// sitemap's lastmod) where front matter has no lastmod; nil for none.
	Dates DateSource
	// LiveReload injects the live-reload script into every page. Only
	// `playdoc serve` sets it; a build for publishing never does.
	LiveReload bool
	// CacheDir keeps the highlight cache across runs; "" keeps it in memory
	// only (for the Builder's lifetime).
	CacheDir string
	Workers  int // parallel workers; 0 means GOMAXPROCS
	Logger   *slog.Logger
}

// Builder builds a site, again and again: it keeps what it parsed,
// highlighted and rendered, and redoes only what changed since the last
// build (for `playdoc serve`). Build calls are serialized.
type Builder struct {
	cfg Config
	md  goldmark.Markdown
	hl  *highlighter

	// binID is binaryID's, once known (see pagecache.go); binErr its error.
	binID  string
	binErr error

	// hlMu guards hlLoaded: the highlight cache is read from disk when a
	// build first needs it (a rebuild that renders nothing never does).
	hlMu     sync.Mutex
	hlLoaded bool

	mu       sync.Mutex
	parsed   map[string]*Page         // by file: the last error-free parse
	rendered map[string]renderedEntry // by URL path: last rendered page
	// terms are the search terms of the last build's pages, by the hash
	// of what they are read from (see pageTerms): an edit re-reads one
	// page, not the site.
	terms map[[sha256.Size]byte]*pageSearch
}

// renderedEntry is a rendered page and what it was rendered from.
type renderedEntry struct {
	key  [sha256.Size]byte
	body []byte
}

// Site is a built site, in memory.
type Site struct {
	Pages    []*Page           // in reading order (a section's index, then its pages)
	Files    map[string]*File  // by URL path ("/gather/index.html")
	Snippets []snippet.Snippet // every runnable snippet, in page order
	Built    time.Time

	top  []navEntry // the navigation's top level: root pages and sections
	play *playPage  // for the shared snippets' pages (WriteShared)
	// streamed: BuildTo wrote the pages and kept no Body of theirs.
	streamed bool
	// parsed and rendered count the pages this build parsed and rendered
	// (the others came from the Builder's or the page cache).
	parsed, rendered int
}

// File is one output file.
type File struct {
	Path string // URL path, starting with "/"
	Body []byte
	// Source is the content file the file was rendered from ("05-gather.md");
	// "" for files made from the whole site (index, sitemap, assets).
	Source string

	hashOnce sync.Once
	hash     string

	gzOnce sync.Once
	gz     []byte // see Gzip

	streamed bool // written by BuildTo, Body not kept
}

// Hash is the hex sha256 of the body, computed on first use (a build that
// only writes files never needs it).
func (f *File) Hash() string {
	f.hashOnce.Do(func() {
		sum := sha256.Sum256(f.Body)
		f.hash = hex.EncodeToString(sum[:])
	})
	return f.hash
}

// New returns a Builder for cfg.
func New(cfg Config) *Builder {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Language == "" {
		cfg.Language = "en"
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hlPath := ""
	if cfg.CacheDir != "" {
		hlPath = filepath.Join(cfg.CacheDir, cacheFile)
	}
	return &Builder{
		cfg:      cfg,
		md:       newMarkdown(),
		hl:       newHighlighter(hlPath),
		parsed:   map[string]*Page{},
		rendered: map[string]renderedEntry{},
		terms:    map[[sha256.Size]byte]*pageSearch{},
	}
}

// Reconfigured returns a Builder for cfg that keeps b's highlight cache
// when both cache in the same folder (highlighting depends on the code
// alone, not on the configuration); the parsed and rendered pages are not
// kept, since the configuration shapes every page. Do not use b after.
func (b *Builder) Reconfigured(cfg Config) *Builder {
	nb := New(cfg)
	b.mu.Lock()
	defer b.mu.Unlock()
	if cfg.CacheDir == b.cfg.CacheDir {
		b.hlMu.Lock()
		nb.hl, nb.hlLoaded = b.hl, b.hlLoaded
		b.hlMu.Unlock()
	}
	return nb
}

// Build builds the whole site into memory. Content mistakes come back as
// an ErrorList holding all of them; the Builder keeps its caches either way.
func (b *Builder) Build(ctx context.Context) (*Site, error) { return b.build(ctx, nil, nil) }

// loadHighlights reads the highlight cache from disk, the first time only.
func (b *Builder) loadHighlights() {
	b.hlMu.Lock()
	defer b.hlMu.Unlock()
	if b.hlLoaded {
		return
	}
	if err := b.hl.load(); err != nil {
		b.cfg.Logger.Warn("highlight cache ignored", "err", err)
	}
	b.hlLoaded = true
}

// build builds the site; with w, each page is written to w as soon as it
// is rendered, and released (see BuildTo). With pc, pages whose source is
// in pc are not parsed, and pages whose output w still holds from an
// earlier build are not rendered; pc is then updated to this build.
func (b *Builder) build(ctx context.Context, w *dirWriter, pc *pageCache) (*Site, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	start := time.Now()
	ld, err := b.load(ctx, w != nil, pc)
	if err != nil {
		return nil, err
	}
	loaded := time.Now()
	pages := ld.pages
	if err := b.datePages(ctx, pages); err != nil {
		return nil, err
	}
	if err := b.highlight(ctx, pages); err != nil {
		return nil, err
	}
	site := &Site{Pages: pages, Files: map[string]*File{}, Built: time.Now(), top: ld.top, streamed: w != nil, parsed: ld.parsed}
	for _, p := range pages {
		for _, s := range p.Snippets {
			site.Snippets = append(site.Snippets, *s)
		}
	}
	assets, err := b.assets(site)
	if err != nil {
		return nil, err
	}
	nav, err := renderNav(ctx, ld.top)
	if err != nil {
		return nil, err
	}
	for _, f := range ld.files {
		site.add(f.url, f.body, f.file)
	}
	rendering := time.Now()
	// The site-wide files (the search index is most of them) need the
	// pages' files listed but not their HTML: made while the pages
	// render, they keep both cores busy instead of one at the end.
	pageFiles := make([]*File, len(pages))
	for i, p := range pages {
		pageFiles[i] = &File{Path: p.URL + "index.html", Source: p.File, streamed: w != nil}
		site.Files[pageFiles[i].Path] = pageFiles[i]
	}
	siteFiles := make(chan error, 1)
	go func() { siteFiles <- b.renderSiteFiles(ctx, site, nav, assets, ld.redirects, w, pc) }()
	err = b.renderPages(ctx, site, pageFiles, ld.links, nav, assets, w, pc)
	rendered := time.Now()
	if serr := <-siteFiles; err == nil {
		err = serr
	}
	if err != nil {
		return nil, err
	}
	if err := b.renderPlay(ctx, site, nav, assets); err != nil {
		return nil, err
	}
	b.cfg.Logger.Debug("site built", "pages", len(pages), "parsed", site.parsed, "rendered", site.rendered, "files", len(site.Files), "took", time.Since(start),
		"load", loaded.Sub(start), "render pages", rendered.Sub(rendering), "site files after", time.Since(rendered))
	return site, nil
}

// SaveCache writes the highlight cache to CacheDir if it changed, keeping
// only the entries the last build used.
func (b *Builder) SaveCache(s *Site) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hl.save(usedHighlights(s))
}

// usedHighlights are the highlight cache keys of site s's code blocks.
func usedHighlights(s *Site) map[string]bool {
	used := map[string]bool{}
	for _, p := range s.Pages {
		for _, c := range p.codes {
			used[c.key] = true
		}
	}
	return used
}

// loaded is the content of a build, checked: the pages in order, where
// each of their references leads, and the files beside the pages that
// they refer to.
type loaded struct {
	top    []navEntry     // the navigation's top level: root pages and sections
	pages  []*Page        // in reading order
	parsed int            // how many of them were parsed (not cached)
	links  [][]resolved   // by page, then by reference (Page.refs)
	files  []*contentFile // to publish, sorted by URL
	// redirects are Config.Redirects and the pages' aliases.
	redirects map[string]redirect
}

// load reads every page (in content/ and its section folders), parses the ones that changed (in parallel) and
// checks the whole: what spans pages, and every reference.
//
// With release (BuildTo), each page drops its syntax tree once parsed and
// checked, keeping its body template instead (see bodyTemplate): the trees
// of all pages together were half of the memory of a build.
//
// With pc, a page whose source pc holds is taken from it, not parsed.
func (b *Builder) load(ctx context.Context, release bool, pc *pageCache) (*loaded, error) {
	var files []string
	var misnamed ErrorList
	err := fs.WalkDir(b.cfg.Content, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != "." && (strings.HasPrefix(name, ".") || (strings.HasPrefix(name, "_") && name != indexFile)) {
			if d.IsDir() {
				return fs.SkipDir // hidden and private folders
			}
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(name, ".md") {
			files = append(files, p)
		} else if ext := path.Ext(name); !d.IsDir() && markdownExts[strings.ToLower(ext)] {
			// Left out, the page would be missing without a word.
			misnamed.errorf(path.Join(b.cfg.ContentName, p), 1, "playdoc reads pages only from .md files: rename it %s.md", strings.TrimSuffix(name, ext))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list content: %w", err)
	}
	if len(files) == 0 {
		if err := misnamed.err(); err != nil {
			return nil, err
		}
		return nil, errNoContent
	}
	pages := make([]*Page, len(files))
	errLists := make([]ErrorList, len(files))
	var parsed atomic.Int32
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.cfg.Workers)
	for i, f := range files {
		// Read, hashed and parsed by the workers: reading a thousand
		// files one after the other was a third of a rebuild that parses
		// none of them.
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			src, err := fs.ReadFile(b.cfg.Content, f)
			if err != nil {
				return fmt.Errorf("read content: %w", err)
			}
			sum := sha256.Sum256(src)
			if old := b.parsed[f]; old != nil && old.hash == sum {
				pages[i] = old
				return nil
			}
			if e := pc.page(f); e != nil && e.Hash == sum {
				pages[i] = e.page(f, path.Join(b.cfg.ContentName, f))
				return nil
			}
			pages[i], errLists[i] = parsePage(f, path.Join(b.cfg.ContentName, f), src, b.md)
			parsed.Add(1)
			if len(errLists[i]) == 0 {
				// Highlighted as soon as parsed, by the same worker: the
				// code (most of a cold build's CPU) keeps both cores busy
				// while the pages are parsed and checked, not after.
				if err := b.highlightPage(pages[i]); err != nil {
					return fmt.Errorf("%s: %w", pages[i].Path, err)
				}
			}
			if release && len(errLists[i]) == 0 {
				return pages[i].releaseTree(b.md)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	errs := misnamed
	for i, p := range pages {
		if len(errLists[i]) == 0 {
			b.parsed[p.File] = p
		} else {
			delete(b.parsed, p.File)
		}
		errs = append(errs, errLists[i]...)
	}
	for f := range b.parsed {
		if _, err := fs.Stat(b.cfg.Content, f); err != nil {
			delete(b.parsed, f) // deleted since the last build
		}
	}
	top, pages, arrErrs := arrange(pages, b.cfg.ContentName, b.cfg.NavOrder, Error{File: b.cfg.ConfigFile, Line: b.cfg.NavOrderLine})
	errs = append(errs, arrErrs...)
	redirects, rerrs := b.redirects(pages)
	errs = append(errs, rerrs...)
	links, published, lerrs, err := newLinker(b.cfg.Content, b.cfg.ContentName, pages, redirects).resolveAll(pages)
	if err != nil {
		return nil, err
	}
	errs = append(errs, lerrs...)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &loaded{top: top, pages: pages, parsed: int(parsed.Load()), links: links, files: published, redirects: redirects}, nil
}

// markdownExts are the extensions of Markdown files that other tools
// take as pages, and playdoc does not (lower case).
var markdownExts = map[string]bool{".md": true, ".markdown": true, ".mdown": true, ".mkd": true, ".mkdn": true, ".mdwn": true}

// highlightPage fills in the highlighted HTML of page p's code blocks:
// from the cache, else highlighted now (and cached).
func (b *Builder) highlightPage(p *Page) error {
	if len(p.codes) > 0 {
		b.loadHighlights()
	}
	for _, c := range p.codes {
		if b.fromHighlightCache(c) {
			continue
		}
		h, err := b.hl.highlight(c.Lang, c.Code)
		if err != nil {
			return err
		}
		b.hl.put(c.key, h)
		c.html = h
	}
	return nil
}

// fromHighlightCache reports whether code block c has its HTML: already,
// or now from the highlight cache. When it has not, c.key is set.
func (b *Builder) fromHighlightCache(c *codeNode) bool {
	if c.html != "" {
		return true
	}
	if c.key == "" {
		c.key = hlKey(c.Lang, c.Code)
	}
	h, ok := b.hl.get(c.key)
	if ok {
		c.html = h
	}
	return ok
}

// highlight fills in the highlighted HTML of every code block left
// without (load highlights what it parses): from the cache, or computed
// once per distinct block, in parallel.
func (b *Builder) highlight(ctx context.Context, pages []*Page) error {
	todo := map[string]*codeNode{}
	var waiting []*codeNode
	for _, p := range pages {
		if p.fromCache {
			continue // highlighted if rendered (see reparse)
		}
		if len(p.codes) > 0 {
			b.loadHighlights()
		}
		for _, c := range p.codes {
			if b.fromHighlightCache(c) {
				continue
			}
			if _, ok := todo[c.key]; !ok {
				todo[c.key] = c
			}
			waiting = append(waiting, c)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.cfg.Workers)
	for key, c := range todo {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			h, err := b.hl.highlight(c.Lang, c.Code)
			if err != nil {
				return err
			}
			b.hl.put(key, h)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, c := range waiting {
		c.html, _ = b.hl.get(c.key)
	}
	return nil
}
