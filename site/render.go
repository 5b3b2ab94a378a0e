package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/a-h/templ"
	"golang.org/x/sync/errgroup"

	"playdoc/templates"
)

// head is the <head> data shared by all pages.
func (b *Builder) head(a assetSet, title, desc, urlPath, ogType string) templates.Head {
	return b.headNav(a, title, desc, urlPath, ogType, "")
}

// headNav is head with the URL of the navigation file.
func (b *Builder) headNav(a assetSet, title, desc, urlPath, ogType, navData string) templates.Head {
	h := templates.Head{
		Title:       title,
		Description: desc,
		OGType:      ogType,
		SiteName:    b.cfg.SiteTitle,
		CSS:         a.CSS,
		ThemeJS:     a.ThemeJS,
		JS:          a.JS,
		LiveReload:  b.cfg.LiveReload,
		Lang:        b.cfg.Language,
		Footer:      b.cfg.Footer,
		Playground:  b.cfg.PlaygroundURL,
		NavData:     navData,
	}
	if urlPath != "" && b.cfg.BaseURL != "" {
		h.Canonical = b.cfg.BaseURL + escapedPath(urlPath)
	}
	return h
}

// navKey identifies what every page shows of the other pages: when it is
// unchanged, a page whose source is unchanged renders the same.
func (b *Builder) navKey(pages []*Page, a assetSet) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v\x00%x\x00%s\x00%s\x00%s\x00", b.cfg.BaseURL, b.cfg.SiteTitle, b.cfg.LiveReload, a.key,
		b.cfg.Language, b.cfg.Footer, b.cfg.PlaygroundURL)
	for _, p := range pages {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", p.URL, p.Title, p.Summary)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// renderPages renders every page, in parallel; a page whose source and
// surroundings did not change since the last build is reused as is. With
// w, each page is written to w and released instead, and its File keeps no
// Body; with pc too, a page whose output w still holds from an earlier
// build (same render key, see pageCache) is neither rendered nor written,
// and pc.Renders becomes this build's. files are the pages' Files, by
// page, already in site.Files: renderPages gives them their Body (without
// w) and does not touch site.Files, which the site files fill meanwhile.
func (b *Builder) renderPages(ctx context.Context, site *Site, files []*File, links [][]resolved, nav *navigation, a assetSet, w *dirWriter, pc *pageCache) error {
	pages := site.Pages
	navKey := b.navKey(pages, a)
	navSum := nav.key()
	bodies := make([][]byte, len(pages))
	keys := make([][sha256.Size]byte, len(pages))
	sums := make([][sha256.Size]byte, len(pages))
	var rendered atomic.Int32 // pages rendered (not reused)
	// Buffers for the Markdown part of a page and, when pages are written
	// and dropped, for the whole page: reused instead of allocated for each
	// page (tens of KB a page; a twelfth of a cold build's allocations).
	bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.cfg.Workers)
	for i, p := range pages {
		h := sha256.New()
		h.Write(navKey[:])
		h.Write(navSum[:])
		h.Write(p.hash[:])
		fmt.Fprintf(h, "%s\x00%s\x00", p.File, p.URL)
		if b.cfg.EditURL != nil {
			fmt.Fprintf(h, "%s\x00", b.cfg.EditURL(p.File))
		}
		for _, res := range links[i] {
			// Where links lead and the files' names and sizes.
			fmt.Fprintf(h, "%s\x00", res.url)
			if f := res.file; f != nil {
				fmt.Fprintf(h, "%dx%d\x00", f.width, f.height)
			}
		}
		fmt.Fprintf(h, "%d\x00%d", i, p.LastMod.Unix())
		h.Sum(keys[i][:0])
		if old, ok := b.rendered[p.URL]; ok && old.key == keys[i] {
			bodies[i] = old.body
			continue
		}
		if w != nil && pc != nil {
			if r, ok := pc.Renders[p.URL]; ok && r.Key == keys[i] && w.reuse(p.URL+"index.html", r.Sum) {
				sums[i] = r.Sum
				p.release()
				continue
			}
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if p.treeReleased && p.tmpl == nil {
				if err := b.reparse(p); err != nil {
					return err
				}
			}
			scratch := bufs.Get().(*bytes.Buffer)
			defer bufs.Put(scratch)
			out := new(bytes.Buffer) // kept, as the page's Body
			if w != nil {
				out = bufs.Get().(*bytes.Buffer)
				defer bufs.Put(out)
			}
			body, err := b.renderPage(gctx, pages, i, links[i], nav, a, scratch, out)
			if err != nil {
				return fmt.Errorf("%s: %w", p.Path, err)
			}
			rendered.Add(1)
			if w != nil {
				if sums[i], err = w.writeSum(p.URL+"index.html", body); err != nil {
					return fmt.Errorf("write site: %w", err)
				}
				p.release()
				return nil
			}
			bodies[i] = body
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	site.rendered = int(rendered.Load())
	if w != nil {
		if pc != nil {
			pc.Renders = make(map[string]renderRecord, len(pages))
			for i, p := range pages {
				pc.Renders[p.URL] = renderRecord{Key: keys[i], Sum: sums[i]}
			}
		}
		return nil
	}
	byURL := make(map[string]renderedEntry, len(pages))
	for i, p := range pages {
		byURL[p.URL] = renderedEntry{key: keys[i], body: bodies[i]}
		files[i].Body = bodies[i]
	}
	b.rendered = byURL
	return nil
}

// renderPage renders page i: Markdown, then the layout around it. It
// uses body (emptied first) for the Markdown's HTML, and writes the page
// into out (emptied first), whose bytes it returns.
func (b *Builder) renderPage(ctx context.Context, pages []*Page, i int, links []resolved, nav *navigation, a assetSet, body, out *bytes.Buffer) ([]byte, error) {
	p := pages[i]
	body.Reset()
	out.Reset()
	size := 2*len(p.body) + 2048
	for _, c := range p.codes {
		size += len(c.html)
	}
	body.Grow(size)
	if p.tmpl == nil && p.doc != nil { // no tree: the generated page of a section without _index.md
		// Kept with the page: the next Build of a Builder that keeps it
		// renders it again from the template.
		var err error
		if p.tmpl, err = newBodyTemplate(p, b.md); err != nil {
			return nil, err
		}
	}
	if p.tmpl != nil {
		p.tmpl.fill(body, p, links)
	}
	if bytes.Contains(body.Bytes(), []byte(`id="fnref`)) {
		// goldmark's footnote ids are "fn:1" and "fnref:1": valid HTML,
		// but ids of letters, digits, '-' and '_' are safe everywhere
		// (CSS selectors, validators).
		b := body.Bytes()
		for _, r := range [][2]string{{`id="fn:`, `id="fn-`}, {`href="#fn:`, `href="#fn-`}, {`id="fnref:`, `id="fnref-`}, {`href="#fnref:`, `href="#fnref-`}} {
			b = bytes.ReplaceAll(b, []byte(r[0]), []byte(r[1]))
		}
		body.Reset()
		body.Write(b)
	}
	view := templates.Page{
		Head:      b.headNav(a, p.Title+" · "+b.cfg.SiteTitle, p.Summary, p.URL, "article", nav.fullPath),
		SiteTitle: b.cfg.SiteTitle,
		Nav:       nav.component(p),
		Heading:   p.Heading,
		Body:      rawHTML(body.Bytes()),
	}
	for _, h := range p.Headings {
		if h.Level == 2 || h.Level == 3 {
			view.TOC = append(view.TOC, templates.TOCEntry{ID: h.ID, Text: h.Text, Level: h.Level})
		}
	}
	if b.cfg.EditURL != nil && p.tmpl != nil {
		view.EditURL = b.cfg.EditURL(p.File)
	}
	view.LastMod = p.LastMod
	if p.Section != nil {
		view.Crumbs = []templates.NavLink{{URL: "/", Title: "Home"}}
		if !p.IsIndex {
			view.Crumbs = append(view.Crumbs, templates.NavLink{URL: p.Section.URL, Title: p.Section.Title})
		}
		if p.IsIndex {
			for _, c := range p.Section.Pages {
				view.Children = append(view.Children, templates.NavLink{URL: c.URL, Title: c.Title, Summary: c.Summary})
			}
		}
	}
	if i > 0 {
		view.Prev = &templates.NavLink{URL: pages[i-1].URL, Title: pages[i-1].Title}
	}
	if i+1 < len(pages) {
		view.Next = &templates.NavLink{URL: pages[i+1].URL, Title: pages[i+1].Title}
	}
	out.Grow(body.Len() + nav.size + 8<<10)
	if err := templates.PageView(view).Render(ctx, out); err != nil {
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

// escapedPath is a site path as an absolute URL needs it: "/über/" is
// "/%C3%BCber/" (a page's href may be UTF-8, a sitemap's loc may not).
func escapedPath(p string) string { return (&url.URL{Path: p}).EscapedPath() }
