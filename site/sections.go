package site

import (
	"path"
	"slices"
	"strings"
)

// Section is a folder of the content: its pages share a URL prefix and one
// foldable group of the sidebar. Sections nest one level deep.
type Section struct {
	Dir   string // folder relative to the content root ("01-asyncio")
	Slug  string // "asyncio"
	URL   string // "/asyncio/"
	Title string
	Order int
	// Index is the section's own page: its _index.md (title, order, intro
	// text), or, without one, an empty page titled after the folder.
	Index *Page
	Pages []*Page // the other pages, in order
}

// navEntry is one entry of the site's top level: a page at the root or a
// section.
type navEntry struct {
	page *Page
	sec  *Section
}

func (e navEntry) order() int {
	if e.sec != nil {
		return e.sec.Order
	}
	return e.page.Order
}

func (e navEntry) slug() string {
	if e.sec != nil {
		return e.sec.Slug
	}
	return e.page.Slug
}

func (e navEntry) name() string {
	if e.sec != nil {
		return e.sec.Dir
	}
	return e.page.File
}

// arrange groups the pages into sections and orders everything: the top
// level (root pages and sections) by order then name, each section's pages
// likewise. It returns the top level and every page in reading order (a
// section's index first, then its pages), which previous/next follows.
// contentName prefixes the paths of errors.
//
// navOrder lists top-level slugs that come first, in that order (the
// site's configuration; errors about it point at navOrderAt).
func arrange(pages []*Page, contentName string, navOrder []string, navOrderAt Error) ([]navEntry, []*Page, ErrorList) {
	var errs ErrorList
	secs := map[string]*Section{}
	var top []navEntry
	section := func(dir string) *Section {
		if s := secs[dir]; s != nil {
			return s
		}
		slug := slugFromFile(dir)
		s := &Section{Dir: dir, Slug: slug, URL: "/" + slug + "/", Title: titleFromSlug(slug), Order: orderFromName(dir)}
		secs[dir] = s
		top = append(top, navEntry{sec: s})
		return s
	}
	for _, p := range pages {
		dir := path.Dir(p.File)
		switch {
		case dir == "." && p.IsIndex:
			errs.errorf(p.Path, 1, "the home page is generated: put its text in playdoc.toml's description, and %s only in section folders", indexFile)
		case dir == ".":
			p.Section = nil
			top = append(top, navEntry{page: p})
		case strings.Contains(dir, "/"):
			errs.errorf(p.Path, 1, "sections nest one level deep: move the page to content/%s/", strings.SplitN(dir, "/", 2)[0])
		default:
			s := section(dir)
			p.Section = s
			if p.IsIndex {
				s.Index, s.Title, s.Order = p, p.Title, p.Order
			} else {
				s.Pages = append(s.Pages, p)
			}
		}
	}
	for _, s := range secs {
		if s.Index == nil {
			// No _index.md: the section still has a page listing its pages.
			s.Index = &Page{File: path.Join(s.Dir, indexFile), Path: path.Join(contentName, s.Dir), Slug: s.Slug,
				URL: s.URL, Title: s.Title, Heading: s.Title, Section: s, IsIndex: true, ids: map[string]bool{}}
		}
		sortPages(s.Pages)
		errs = append(errs, checkUnique(s.Pages)...)
	}
	rank := map[string]int{}
	for i, slug := range navOrder {
		rank[slug] = i - len(navOrder) // before every other entry
	}
	for slug := range rank {
		if !slices.ContainsFunc(top, func(e navEntry) bool { return e.slug() == slug }) {
			errs.errorf(navOrderAt.File, navOrderAt.Line, "nav.order names %q, which is no section or page at the top level", slug)
		}
	}
	slices.SortStableFunc(top, func(a, b navEntry) int {
		ra, oka := rank[a.slug()]
		rb, okb := rank[b.slug()]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		if a.order() != b.order() {
			return a.order() - b.order()
		}
		return strings.Compare(a.name(), b.name())
	})
	var topPages []*Page
	for _, e := range top {
		if e.sec != nil {
			topPages = append(topPages, e.sec.Index)
		} else {
			topPages = append(topPages, e.page)
		}
	}
	errs = append(errs, checkUnique(topPages)...)
	var all []*Page
	for _, e := range top {
		if e.sec == nil {
			all = append(all, e.page)
			continue
		}
		all = append(all, e.sec.Index)
		all = append(all, e.sec.Pages...)
	}
	return top, all, errs
}

// checkUnique reports pages of one level that share an order or a URL.
func checkUnique(pages []*Page) ErrorList {
	var errs ErrorList
	byOrder := map[int]*Page{}
	byURL := map[string]*Page{}
	for _, p := range pages {
		if p.orderLine > 0 {
			if q, dup := byOrder[p.Order]; dup {
				errs.errorf(p.Path, p.orderLine, "duplicate order %d (also used by %s)", p.Order, q.Path)
			} else {
				byOrder[p.Order] = p
			}
		}
		if q, dup := byURL[p.URL]; dup {
			line := p.slugLine
			if line == 0 {
				line = 1
			}
			errs.errorf(p.Path, line, "duplicate slug %q (also used by %s)", p.Slug, q.Path)
		} else {
			byURL[p.URL] = p
		}
	}
	return errs
}

// sortPages orders pages by their order, then file name.
func sortPages(pages []*Page) {
	slices.SortStableFunc(pages, func(a, b *Page) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.File, b.File)
	})
}

// orderFromName is the order of a section without _index.md: its folder's
// number ("03-ref" → 3), else after everything.
func orderFromName(dir string) int {
	n, digits := 0, 0
	for _, c := range dir {
		if c < '0' || c > '9' || digits == 9 {
			break
		}
		n, digits = n*10+int(c-'0'), digits+1
	}
	if digits == 0 {
		return 1 << 30
	}
	return n
}

// titleFromSlug makes a title for a section without _index.md:
// "using-playdoc" → "Using playdoc".
func titleFromSlug(slug string) string {
	t := strings.NewReplacer("-", " ", "_", " ").Replace(slug)
	if t == "" {
		return t
	}
	return strings.ToUpper(t[:1]) + t[1:]
}
