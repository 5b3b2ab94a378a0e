package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/yuin/goldmark"
	"golang.org/x/sync/errgroup"

	"playdoc/templates"
)

// Config says what to build and how.
type Config struct {
	Content     fs.FS  // the Markdown pages, at its root
	ContentName string // how errors name the content folder ("content")
	Static      fs.FS  // site.css, playground.css, playground.js, reload.js
	BaseURL     string // absolute site URL for canonical links and the sitemap
	SiteTitle   string
	Intro       string // the index page's introduction
	// LiveReload injects the live-reload script into every page. Only
	// `playdoc serve` sets it; a build for publishing never does.
	LiveReload bool
	// CacheDir keeps the highlight cache across runs; "" keeps it in memory
	// only (for the Builder's lifetime).
	CacheDir string
	Workers  int // parallel workers; 0 means GOMAXPROCS
	Logger   *slog.Logger
}

// Defaults for Config fields left empty.
const (
	DefaultBaseURL   = "https://playdoc.netlify.app"
	DefaultSiteTitle = "asyncio, the Go way"
)

// Builder builds a site, again and again: it keeps what it parsed,
// highlighted and rendered, and redoes only what changed since the last
// build (for `playdoc serve`). Build calls are serialized.
type Builder struct {
	cfg Config
	md  goldmark.Markdown
	hl  *highlighter

	mu       sync.Mutex
	hlLoaded bool
	parsed   map[string]*Page         // by file: the last error-free parse
	rendered map[string]renderedEntry // by URL path: last rendered page
}

// renderedEntry is a rendered page and what it was rendered from.
type renderedEntry struct {
	key  [sha256.Size]byte
	body []byte
}

// Site is a built site, in memory.
type Site struct {
	Pages    []*Page          // in order
	Files    map[string]*File // by URL path ("/gather/index.html")
	Snippets []Snippet        // every runnable snippet, in page order
	Built    time.Time
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
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.SiteTitle == "" {
		cfg.SiteTitle = DefaultSiteTitle
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
	}
}

// Build builds the whole site into memory. Content mistakes come back as
// an ErrorList holding all of them; the Builder keeps its caches either way.
func (b *Builder) Build(ctx context.Context) (*Site, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	start := time.Now()
	if !b.hlLoaded {
		if err := b.hl.load(); err != nil {
			b.cfg.Logger.Warn("highlight cache ignored", "err", err)
		}
		b.hlLoaded = true
	}
	pages, err := b.load(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.highlight(ctx, pages); err != nil {
		return nil, err
	}
	site := &Site{Pages: pages, Files: map[string]*File{}, Built: time.Now()}
	for _, p := range pages {
		for _, s := range p.Snippets {
			site.Snippets = append(site.Snippets, *s)
		}
	}
	assets, err := b.assets(site)
	if err != nil {
		return nil, err
	}
	nav, err := renderNav(ctx, pages)
	if err != nil {
		return nil, err
	}
	if err := b.renderPages(ctx, site, nav, assets); err != nil {
		return nil, err
	}
	if err := b.renderSiteFiles(ctx, site, nav, assets); err != nil {
		return nil, err
	}
	b.cfg.Logger.Debug("site built", "pages", len(pages), "files", len(site.Files), "took", time.Since(start))
	return site, nil
}

// SaveCache writes the highlight cache to CacheDir if it changed, keeping
// only the entries the last build used.
func (b *Builder) SaveCache(s *Site) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	used := map[string]bool{}
	for _, p := range s.Pages {
		for _, c := range p.codes {
			used[c.key] = true
		}
	}
	return b.hl.save(used)
}

// load reads every page, parses the ones that changed (in parallel) and
// checks the whole.
func (b *Builder) load(ctx context.Context) ([]*Page, error) {
	files, err := fs.Glob(b.cfg.Content, "*.md")
	if err != nil {
		return nil, fmt.Errorf("list content: %w", err)
	}
	if len(files) == 0 {
		return nil, errNoContent
	}
	pages := make([]*Page, len(files))
	errLists := make([]ErrorList, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.cfg.Workers)
	for i, f := range files {
		src, err := fs.ReadFile(b.cfg.Content, f)
		if err != nil {
			return nil, fmt.Errorf("read content: %w", err)
		}
		if old := b.parsed[f]; old != nil && old.hash == sha256.Sum256(src) {
			pages[i] = old
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			pages[i], errLists[i] = parsePage(f, path.Join(b.cfg.ContentName, f), src, b.md)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var errs ErrorList
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
	sortPages(pages)
	errs = append(errs, checkPages(pages)...)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return pages, nil
}

// highlight fills in the highlighted HTML of every code block: from the
// cache, or computed once per distinct block, in parallel.
func (b *Builder) highlight(ctx context.Context, pages []*Page) error {
	todo := map[string]*codeNode{}
	var waiting []*codeNode
	for _, p := range pages {
		for _, c := range p.codes {
			if c.html != "" {
				continue
			}
			if c.key == "" {
				c.key = hlKey(c.Lang, c.Code)
			}
			if h, ok := b.hl.get(c.key); ok {
				c.html = h
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

// assetSet is the fingerprinted CSS and JS of a build.
type assetSet struct {
	CSS, JS string // URL paths
	key     [sha256.Size]byte
}

// assets builds the fingerprinted stylesheet (site.css, both highlight
// themes, playground.css) and script (playground.js).
func (b *Builder) assets(site *Site) (assetSet, error) {
	read := func(name string, required bool) ([]byte, error) {
		if b.cfg.Static == nil {
			return nil, fmt.Errorf("no static assets configured")
		}
		data, err := fs.ReadFile(b.cfg.Static, name)
		if errors.Is(err, fs.ErrNotExist) && !required {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read static asset: %w", err)
		}
		return data, nil
	}
	siteCSS, err := read("site.css", true)
	if err != nil {
		return assetSet{}, err
	}
	pgCSS, err := read("playground.css", false)
	if err != nil {
		return assetSet{}, err
	}
	js, err := read("playground.js", false)
	if err != nil {
		return assetSet{}, err
	}
	theme, err := themeCSS()
	if err != nil {
		return assetSet{}, err
	}
	var css bytes.Buffer
	css.WriteString(theme)
	css.WriteString("\n/* site.css */\n")
	css.Write(siteCSS)
	css.WriteString("\n/* playground.css */\n")
	css.Write(pgCSS)
	var a assetSet
	a.CSS = "/assets/app." + fingerprint(css.Bytes()) + ".css"
	a.JS = "/assets/app." + fingerprint(js) + ".js"
	a.key = sha256.Sum256([]byte(a.CSS + a.JS))
	site.add(a.CSS, css.Bytes(), "")
	site.add(a.JS, js, "")
	if b.cfg.LiveReload {
		reload, err := read("reload.js", false)
		if err != nil {
			return assetSet{}, err
		}
		site.add(templates.ReloadScript, reload, "")
	}
	return a, nil
}

// fingerprint is the short content hash in asset names.
func fingerprint(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:5])
}

// add stores an output file.
func (s *Site) add(urlPath string, body []byte, source string) {
	s.Files[urlPath] = &File{Path: urlPath, Body: body, Source: source}
}

// head is the <head> data shared by all pages.
func (b *Builder) head(a assetSet, title, desc, urlPath, ogType string) templates.Head {
	h := templates.Head{
		Title:       title,
		Description: desc,
		OGType:      ogType,
		SiteName:    b.cfg.SiteTitle,
		CSS:         a.CSS,
		JS:          a.JS,
		LiveReload:  b.cfg.LiveReload,
	}
	if urlPath != "" {
		h.Canonical = b.cfg.BaseURL + urlPath
	}
	return h
}

// navItems renders every sidebar entry once, in both states (current or
// not); each page then only concatenates strings.
type navItems struct {
	plain, current []string
	size           int // bytes of the whole list
}

func renderNav(ctx context.Context, pages []*Page) (navItems, error) {
	var n navItems
	var buf bytes.Buffer
	for _, p := range pages {
		for _, cur := range []bool{false, true} {
			buf.Reset()
			l := templates.NavLink{URL: p.URL, Title: p.Title, Current: cur}
			if err := templates.NavItem(l).Render(ctx, &buf); err != nil {
				return n, fmt.Errorf("render nav: %w", err)
			}
			if cur {
				n.current = append(n.current, buf.String())
			} else {
				n.plain = append(n.plain, buf.String())
				n.size += buf.Len()
			}
		}
	}
	return n, nil
}

// component returns the sidebar items with page cur (-1: none) marked.
func (n navItems) component(cur int) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		for i := range n.plain {
			s := n.plain[i]
			if i == cur {
				s = n.current[i]
			}
			if _, err := io.WriteString(w, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// navKey identifies what every page shows of the other pages: when it is
// unchanged, a page whose source is unchanged renders the same.
func (b *Builder) navKey(pages []*Page, a assetSet) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v\x00%x\x00", b.cfg.BaseURL, b.cfg.SiteTitle, b.cfg.LiveReload, a.key)
	for _, p := range pages {
		fmt.Fprintf(h, "%s\x00%s\x00", p.URL, p.Title)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// renderPages renders every page, in parallel; a page whose source and
// surroundings did not change since the last build is reused as is.
func (b *Builder) renderPages(ctx context.Context, site *Site, nav navItems, a assetSet) error {
	pages := site.Pages
	navKey := b.navKey(pages, a)
	bodies := make([][]byte, len(pages))
	keys := make([][sha256.Size]byte, len(pages))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.cfg.Workers)
	for i, p := range pages {
		h := sha256.New()
		h.Write(navKey[:])
		h.Write(p.hash[:])
		fmt.Fprintf(h, "%d", i)
		h.Sum(keys[i][:0])
		if old, ok := b.rendered[p.URL]; ok && old.key == keys[i] {
			bodies[i] = old.body
			continue
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			body, err := b.renderPage(gctx, pages, i, nav, a)
			if err != nil {
				return fmt.Errorf("%s: %w", p.Path, err)
			}
			bodies[i] = body
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	rendered := make(map[string]renderedEntry, len(pages))
	for i, p := range pages {
		rendered[p.URL] = renderedEntry{key: keys[i], body: bodies[i]}
		site.add(p.URL+"index.html", bodies[i], p.File)
	}
	b.rendered = rendered
	return nil
}

// renderPage renders page i: Markdown, then the layout around it.
func (b *Builder) renderPage(ctx context.Context, pages []*Page, i int, nav navItems, a assetSet) ([]byte, error) {
	p := pages[i]
	var body bytes.Buffer
	size := 2*len(p.body) + 2048
	for _, c := range p.codes {
		size += len(c.html)
	}
	body.Grow(size)
	if err := b.md.Renderer().Render(&body, p.body, p.doc); err != nil {
		return nil, fmt.Errorf("render markdown: %w", err)
	}
	view := templates.Page{
		Head:      b.head(a, p.Title+" · "+b.cfg.SiteTitle, p.Summary, p.URL, "article"),
		SiteTitle: b.cfg.SiteTitle,
		Nav:       nav.component(i),
		Heading:   p.Heading,
		Body:      rawHTML(body.Bytes()),
	}
	for _, h := range p.Headings {
		if h.Level == 2 || h.Level == 3 {
			view.TOC = append(view.TOC, templates.TOCEntry{ID: h.ID, Text: h.Text, Level: h.Level})
		}
	}
	if i > 0 {
		view.Prev = &templates.NavLink{URL: pages[i-1].URL, Title: pages[i-1].Title}
	}
	if i+1 < len(pages) {
		view.Next = &templates.NavLink{URL: pages[i+1].URL, Title: pages[i+1].Title}
	}
	var out bytes.Buffer
	out.Grow(body.Len() + nav.size + 8<<10)
	if err := templates.PageView(view).Render(ctx, &out); err != nil {
		return nil, fmt.Errorf("render page: %w", err)
	}
	return out.Bytes(), nil
}

// rawHTML writes trusted HTML as is.
func rawHTML(b []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// favicon is the site's icon: a small play button.
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#00758d"/><path d="M12 9l12 7-12 7z" fill="#fff"/></svg>
`

// renderSiteFiles renders what depends on the whole site: the index page,
// the 404 page, sitemap.xml, robots.txt and the icon.
func (b *Builder) renderSiteFiles(ctx context.Context, site *Site, nav navItems, a assetSet) error {
	ix := templates.Index{
		Head:      b.head(a, b.cfg.SiteTitle, b.cfg.Intro, "/", "website"),
		SiteTitle: b.cfg.SiteTitle,
		Intro:     b.cfg.Intro,
		Sidebar:   nav.component(-1),
	}
	for _, p := range site.Pages {
		ix.Pages = append(ix.Pages, templates.NavLink{URL: p.URL, Title: p.Title, Summary: p.Summary})
	}
	var buf bytes.Buffer
	if err := templates.IndexView(ix).Render(ctx, &buf); err != nil {
		return fmt.Errorf("render index: %w", err)
	}
	site.add("/index.html", bytes.Clone(buf.Bytes()), "")

	buf.Reset()
	nf := templates.NotFound{
		Head:      b.head(a, "Page not found · "+b.cfg.SiteTitle, "", "", "website"),
		SiteTitle: b.cfg.SiteTitle,
		Nav:       nav.component(-1),
	}
	if err := templates.NotFoundView(nf).Render(ctx, &buf); err != nil {
		return fmt.Errorf("render 404: %w", err)
	}
	site.add("/404.html", bytes.Clone(buf.Bytes()), "")

	buf.Reset()
	buf.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n")
	fmt.Fprintf(&buf, "<url><loc>%s/</loc></url>\n", xmlEscape(b.cfg.BaseURL))
	for _, p := range site.Pages {
		fmt.Fprintf(&buf, "<url><loc>%s</loc></url>\n", xmlEscape(b.cfg.BaseURL+p.URL))
	}
	buf.WriteString("</urlset>\n")
	site.add("/sitemap.xml", bytes.Clone(buf.Bytes()), "")
	site.add("/robots.txt", []byte("User-agent: *\nAllow: /\nSitemap: "+b.cfg.BaseURL+"/sitemap.xml\n"), "")
	site.add("/favicon.svg", []byte(favicon), "")
	return nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
