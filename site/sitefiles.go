package site

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"html"
	"maps"
	"slices"
	"strings"
	"time"

	"playdoc/templates"
)

// favicon is the site's icon: a small play button.
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#00758d"/><path d="M12 9l12 7-12 7z" fill="#fff"/></svg>
`

// renderSiteFiles renders what depends on the whole site: the index page,
// the 404 page, sitemap.xml, robots.txt and the icon.
//
// w and pc are renderPages': with both, the search index is not made
// again when the last build's is on disk and nothing it shows changed.
func (b *Builder) renderSiteFiles(ctx context.Context, site *Site, nav *navigation, a assetSet, redirects map[string]redirect, w *dirWriter, pc *pageCache) error {
	ix := templates.Index{
		Head:      b.headNav(a, b.cfg.SiteTitle, b.cfg.Intro, "/", "website", nav.fullPath),
		SiteTitle: b.cfg.SiteTitle,
		Intro:     b.cfg.Intro,
		Sidebar:   nav.component(nil),
	}
	for _, e := range site.top {
		if e.sec == nil {
			ix.Entries = append(ix.Entries, templates.IndexEntry{Link: templates.NavLink{URL: e.page.URL, Title: e.page.Title, Summary: e.page.Summary}})
			continue
		}
		ie := templates.IndexEntry{Link: templates.NavLink{URL: e.sec.URL, Title: e.sec.Title, Summary: e.sec.Index.Summary}}
		for _, p := range e.sec.Pages {
			ie.Pages = append(ie.Pages, templates.NavLink{URL: p.URL, Title: p.Title, Summary: p.Summary})
		}
		ix.Entries = append(ix.Entries, ie)
	}
	var buf bytes.Buffer
	if err := templates.IndexView(ix).Render(ctx, &buf); err != nil {
		return fmt.Errorf("render index: %w", err)
	}
	site.add("/index.html", bytes.Clone(buf.Bytes()), "")

	buf.Reset()
	nf := templates.NotFound{
		Head:      b.headNav(a, "Page not found · "+b.cfg.SiteTitle, "", "", "website", nav.fullPath),
		SiteTitle: b.cfg.SiteTitle,
		Nav:       nav.component(nil),
	}
	if err := templates.NotFoundView(nf).Render(ctx, &buf); err != nil {
		return fmt.Errorf("render 404: %w", err)
	}
	site.add("/404.html", bytes.Clone(buf.Bytes()), "")

	if err := b.renderRedirects(ctx, site, nav, a, redirects); err != nil {
		return err
	}
	if err := b.renderSearch(ctx, site, nav, a, w, pc); err != nil {
		return err
	}
	robots := "User-agent: *\nAllow: /\n"
	if b.cfg.BaseURL != "" { // a sitemap lists absolute URLs only
		buf.Reset()
		if err := writeSitemap(&buf, b.cfg.BaseURL, site.Pages); err != nil {
			return fmt.Errorf("render sitemap: %w", err)
		}
		site.add("/sitemap.xml", bytes.Clone(buf.Bytes()), "")
		robots += "Sitemap: " + b.cfg.BaseURL + "/sitemap.xml\n"
	}
	site.add("/robots.txt", []byte(robots), "")
	site.add("/favicon.svg", []byte(favicon), "")
	if nav.fullPath != "" {
		site.add(nav.fullPath, nav.full, "")
	}
	return nil
}

// writeSitemap writes sitemap.xml: the index and every page, one <url> a
// line, their absolute URLs escaped by encoding/xml, with the page's
// <lastmod> when it has one (the index: the newest page's).
func writeSitemap(w *bytes.Buffer, baseURL string, pages []*Page) error {
	w.WriteString(xml.Header)
	w.WriteString("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n")
	type entry struct {
		loc string
		mod time.Time
	}
	entries := []entry{{loc: baseURL + "/"}}
	for _, p := range pages {
		entries = append(entries, entry{baseURL + escapedPath(p.URL), p.LastMod})
		if p.LastMod.After(entries[0].mod) {
			entries[0].mod = p.LastMod
		}
	}
	for _, e := range entries {
		w.WriteString("<url><loc>")
		if err := xml.EscapeText(w, []byte(e.loc)); err != nil {
			return err
		}
		w.WriteString("</loc>")
		if !e.mod.IsZero() {
			w.WriteString("<lastmod>" + e.mod.Format(time.RFC3339) + "</lastmod>")
		}
		w.WriteString("</url>\n")
	}
	w.WriteString("</urlset>\n")
	return nil
}

// redirect is where an old URL path leads, and where the redirect was
// declared (playdoc.toml, or a page's aliases at a line), for errors.
type redirect struct {
	to   string
	file string
	line int
}

// redirects merges Config.Redirects and the pages' aliases (an alias leads
// to its page); an old path declared twice is an error.
func (b *Builder) redirects(pages []*Page) (map[string]redirect, ErrorList) {
	out := make(map[string]redirect, len(b.cfg.Redirects))
	for from, to := range b.cfg.Redirects {
		out[from] = redirect{to: to, file: b.cfg.ConfigFile}
	}
	var errs ErrorList
	for _, p := range pages {
		for _, a := range p.Aliases {
			if old, dup := out[a.Path]; dup {
				where := old.file
				if old.line > 0 {
					where = fmt.Sprintf("%s:%d", old.file, old.line)
				}
				errs.errorf(p.Path, a.Line, "alias %s is already a redirect (%s)", a.Path, where)
				continue
			}
			out[a.Path] = redirect{to: p.URL, file: p.Path, line: a.Line}
		}
	}
	return out, errs
}

// renderRedirects writes a page at each old URL path of Config.Redirects
// and of the pages' aliases that sends the reader to the new one (a meta
// refresh, which static hosts and the CSP allow, and a link for those who
// do not follow it), and /_redirects, the same as Netlify's permanent
// redirects (forced: the old path has the page above).
func (b *Builder) renderRedirects(ctx context.Context, site *Site, nav *navigation, a assetSet, redirects map[string]redirect) error {
	var errs ErrorList
	var netlify strings.Builder
	froms := slices.Sorted(maps.Keys(redirects))
	for _, from := range froms {
		r := redirects[from]
		to := r.to
		file := strings.TrimSuffix(from, "/") + "/index.html"
		if strings.HasSuffix(from, ".html") {
			file = from
		}
		if _, taken := site.Files[file]; taken {
			errs.errorf(r.file, r.line, "redirect from %s: the site has a page there", from)
			continue
		}
		if !strings.Contains(to, "://") {
			path, _, _ := strings.Cut(to, "#")
			if _, ok := site.Files[strings.TrimSuffix(path, "/")+"/index.html"]; !ok {
				errs.errorf(r.file, r.line, "redirect from %s to %s: the site has no page there", from, to)
				continue
			}
		}
		fmt.Fprintf(&netlify, "%s %s 301!\n", from, to)
		canonical := to
		if !strings.Contains(to, "://") {
			canonical = b.cfg.BaseURL + to
		}
		h := b.head(a, "Moved · "+b.cfg.SiteTitle, "", "", "website")
		h.Refresh = to
		if b.cfg.BaseURL != "" {
			h.Canonical = canonical
		}
		var buf bytes.Buffer
		body := `<p>This page has moved to <a href="` + html.EscapeString(to) + `">` + html.EscapeString(to) + `</a>.</p>`
		view := templates.Page{Head: h, SiteTitle: b.cfg.SiteTitle, Nav: nav.component(nil), Heading: "This page has moved", Body: rawHTML([]byte(body))}
		if err := templates.PageView(view).Render(ctx, &buf); err != nil {
			return fmt.Errorf("render redirect %s: %w", from, err)
		}
		site.add(file, buf.Bytes(), "")
	}
	if netlify.Len() > 0 {
		site.add("/_redirects", []byte("# Old URLs of moved pages (playdoc.toml [redirects], front matter aliases).\n"+netlify.String()), "")
	}
	return errs.err()
}

// searchDir is where the search index is served. It is not fingerprinted:
// every page names it, and a new name for each edit would make every page
// change with any page's text.
const searchDir = "/_search/"

// renderSearch writes the search index (see search.go) and the site's
// index of pages, /search/, where the search form leads without JavaScript.
func (b *Builder) renderSearch(ctx context.Context, site *Site, nav *navigation, a assetSet, w *dirWriter, pc *pageCache) error {
	if err := b.searchIndex(site, w, pc); err != nil {
		return err
	}
	sp := templates.SearchPage{
		Head:      b.headNav(a, "All pages · "+b.cfg.SiteTitle, "", "/search/", "website", nav.fullPath),
		SiteTitle: b.cfg.SiteTitle,
		Nav:       nav.component(nil),
	}
	for _, p := range site.Pages {
		sp.Pages = append(sp.Pages, templates.NavLink{URL: p.URL, Title: p.Title})
	}
	slices.SortStableFunc(sp.Pages, func(x, y templates.NavLink) int {
		return strings.Compare(strings.ToLower(x.Title), strings.ToLower(y.Title))
	})
	var buf bytes.Buffer
	if err := templates.SearchView(sp).Render(ctx, &buf); err != nil {
		return fmt.Errorf("render search page: %w", err)
	}
	site.add("/search/index.html", buf.Bytes(), "")
	return nil
}
