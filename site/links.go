package site

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/yuin/goldmark/renderer/html"
)

// refKind says what a reference must lead to.
type refKind uint8

const (
	refLink  refKind = iota // a page, an anchor, a file or an outside URL
	refImage                // an image file beside the pages
	refFile                 // a file beside the pages (<video src>, …)
)

// ref is a reference a page makes, as written: a Markdown link or image,
// or a URL attribute of its raw HTML.
type ref struct {
	kind  refKind
	dest  string
	line  int
	noAlt bool // an image without alt text
	lazy  bool // an image below the fold
	raw   bool // in raw HTML
}

// resolved is where a reference leads, for rendering.
type resolved struct {
	url  string       // what the page writes: a page's URL, a published file's, or dest as written
	file *contentFile // the published file, for images and downloads
}

// route is what the site serves at an URL path.
type route struct {
	page *Page  // a content page, or nil
	name string // how errors name the others ("the index page")
	// anyAnchor: the route leads elsewhere (a redirect), whose ids are
	// not known here.
	anyAnchor bool
}

// siteRoutes are the URL paths of the files every site has beside its pages.
var siteRoutes = map[string]string{
	"/":            "the index page",
	"/index.html":  "the index page",
	"/404.html":    "the 404 page",
	"/sitemap.xml": "the sitemap",
	"/robots.txt":  "robots.txt",
	"/favicon.svg": "the site icon",
	"/search/":     "the index of pages",
}

// layoutAnchors are the ids every page's layout has, as link targets.
var layoutAnchors = []string{"main", "sidebar", "menu", "top"}

// linker resolves the references of every page of a build, the way a
// browser would follow them from the page's URL, after percent-decoding.
type linker struct {
	content     fs.FS
	contentName string
	byFile      map[string]*Page
	routes      map[string]route
	files       map[string]*contentFile // by content path: the files referenced so far
	missing     map[string]bool         // content paths known not to be files
}

// newLinker returns a linker for the pages of content; redirects are the
// old URL paths the site answers with a redirect (Config.Redirects).
func newLinker(content fs.FS, contentName string, pages []*Page, redirects map[string]redirect) *linker {
	l := &linker{
		content: content, contentName: contentName,
		byFile:  map[string]*Page{},
		routes:  map[string]route{},
		files:   map[string]*contentFile{},
		missing: map[string]bool{},
	}
	for p, name := range siteRoutes {
		l.routes[p] = route{name: name}
	}
	for from := range redirects {
		for _, u := range []string{from, strings.TrimSuffix(from, "/"), strings.TrimSuffix(from, "/") + "/index.html"} {
			l.routes[u] = route{name: "the redirect " + from, anyAnchor: true}
		}
	}
	for _, p := range pages {
		l.byFile[p.File] = p
		for _, u := range []string{p.URL, strings.TrimSuffix(p.URL, "/"), p.URL + "index.html"} {
			l.routes[u] = route{page: p}
		}
	}
	return l
}

// resolveAll resolves every reference of every page. It returns, by page,
// where each reference leads, and the files to publish, sorted by URL.
func (l *linker) resolveAll(pages []*Page) ([][]resolved, []*contentFile, ErrorList, error) {
	var errs ErrorList
	out := make([][]resolved, len(pages))
	for i, p := range pages {
		out[i] = make([]resolved, len(p.refs))
		for j, r := range p.refs {
			res, problem, err := l.resolve(p, r)
			if err != nil {
				return nil, nil, nil, err
			}
			if problem != "" {
				errs.errorf(p.Path, r.line, "%s", problem)
			}
			out[i][j] = res
		}
	}
	files := make([]*contentFile, 0, len(l.files))
	for _, f := range l.files {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b *contentFile) int { return strings.Compare(a.url, b.url) })
	return out, files, errs, nil
}

// resolve finds where one reference leads, or says why it is broken.
func (l *linker) resolve(p *Page, r ref) (resolved, string, error) {
	what := "link"
	if r.kind != refLink {
		what = "image"
		if r.kind == refFile {
			what = "file"
		}
	}
	as := resolved{url: r.dest}
	if r.kind == refImage && r.noAlt && r.raw {
		return as, fmt.Sprintf(`image %q has no alt text: add alt="what it shows" (alt="" if it only decorates)`, r.dest), nil
	}
	if r.kind == refImage && r.noAlt {
		return as, fmt.Sprintf("image %q has no alt text: say what it shows, as in ![Event loop diagram](%s)", r.dest, r.dest), nil
	}
	if r.dest == "" {
		if r.kind == refLink {
			return as, "", nil // the page itself
		}
		return as, fmt.Sprintf("%s with no file name", what), nil
	}
	u, err := url.Parse(r.dest)
	if err != nil {
		return as, fmt.Sprintf("broken %s %q: not a valid URL (%s)", what, r.dest, unwrapURLErr(err)), nil
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(r.dest, "//") {
		switch {
		case html.IsDangerousURL([]byte(r.dest)) && !(u.Scheme == "data" && r.kind == refLink):
			return as, fmt.Sprintf("%s %q is not allowed: the site's Content-Security-Policy blocks %s: URLs", what, r.dest, u.Scheme), nil
		case r.kind != refLink:
			return as, fmt.Sprintf("%s %q is not allowed: the site's Content-Security-Policy loads %ss from the site only; save the file beside the pages", what, r.dest, what), nil
		}
		return as, "", nil // outside the site: not checked
	}
	// A browser reads a backslash in a web URL's path as a slash.
	upath := strings.ReplaceAll(u.Path, `\`, "/")
	_, rawFrag, hasFrag := strings.Cut(r.dest, "#")
	frag := u.Fragment
	suffix := ""
	if u.RawQuery != "" || u.ForceQuery {
		suffix = "?" + u.RawQuery
	}
	if hasFrag {
		suffix += "#" + rawFrag
	}

	if upath == "" { // "#anchor" or "?query": this page
		if r.kind != refLink {
			return as, fmt.Sprintf("%s %q names no file", what, r.dest), nil
		}
		return as, l.checkAnchor(p, r.dest, frag, rawFrag), nil
	}
	// The file the path names in the content folder, as the author sees
	// it: from the page's folder, or from the content root for "/x".
	file := path.Join(path.Dir(p.File), upath)
	if strings.HasPrefix(upath, "/") {
		file = path.Clean(strings.TrimPrefix(upath, "/"))
	}
	inside := fs.ValidPath(file) && file != "."
	if strings.HasSuffix(upath, ".md") {
		t := l.byFile[file]
		switch {
		case t == nil:
			return as, fmt.Sprintf("broken %s %q: no page %s", what, r.dest, file), nil
		case r.kind != refLink:
			return as, fmt.Sprintf("%s %q is a page, not a file", what, r.dest), nil
		}
		as.url = t.URL + suffix
		return as, l.checkAnchor(t, r.dest, frag, rawFrag), nil
	}
	if inside && !l.missing[file] {
		f := l.files[file]
		if f == nil {
			var ok bool
			var err error
			f, ok, err = readContentFile(l.content, file)
			if err != nil {
				return as, "", err
			}
			if ok {
				l.files[file] = f
			} else {
				l.missing[file] = true
			}
		}
		if f != nil {
			as.url, as.file = f.url, f
			if hasFrag {
				as.url += "#" + rawFrag
			}
			if r.kind == refImage {
				f.measure()
				if f.sizeErr != nil {
					return as, fmt.Sprintf("image %q: cannot read its width and height: %v", r.dest, f.sizeErr), nil
				}
			}
			return as, "", nil
		}
	}
	shown := path.Join(l.contentName, file)
	if r.kind != refLink {
		if !inside {
			return as, fmt.Sprintf("broken %s %q: it leaves the content folder", what, r.dest), nil
		}
		return as, fmt.Sprintf("broken %s %q: no file %s", what, r.dest, shown), nil
	}
	// Otherwise an URL of the site, resolved from the page's URL.
	base := &url.URL{Path: p.URL}
	at := base.ResolveReference(&url.URL{Path: upath}).Path
	rt, ok := l.routes[at]
	if !ok {
		from := ""
		if !strings.HasPrefix(upath, "/") {
			from = fmt.Sprintf(" (the link is relative to the page's URL %s)", p.URL)
		}
		if path.Ext(upath) != "" && inside {
			return as, fmt.Sprintf("broken link %q: no file %s, and no page at %s%s", r.dest, shown, at, from), nil
		}
		return as, fmt.Sprintf("broken link %q: no page at %s%s", r.dest, at, from), nil
	}
	if rt.page != nil {
		return as, l.checkAnchor(rt.page, r.dest, frag, rawFrag), nil
	}
	if hasFrag && frag != "" && !rt.anyAnchor && !slices.Contains(layoutAnchors, frag) && !slices.Contains(layoutAnchors, rawFrag) {
		return as, fmt.Sprintf("broken link %q: %s has no element with id %q", r.dest, rt.name, frag), nil
	}
	return as, "", nil
}

// checkAnchor checks a fragment against the ids of page t. A browser
// looks for the fragment as written, then percent-decoded.
func (l *linker) checkAnchor(t *Page, dest, frag, rawFrag string) string {
	if frag == "" || t.ids[rawFrag] || t.ids[frag] || slices.Contains(layoutAnchors, frag) {
		return ""
	}
	return fmt.Sprintf("broken link %q: %s has no heading or snippet with id %q", dest, t.File, frag)
}

// unwrapURLErr is the reason of a url.Parse error, without the URL.
func unwrapURLErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}
