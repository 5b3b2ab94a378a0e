package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/a-h/templ"

	"playdoc/templates"
)

// navigation is the sidebar, rendered once per build in pieces so that a
// page only concatenates strings: every entry of the top level closed, and
// each section's pages in both states (current or not). A page carries its
// own section open and the others as one link each, so its size does not
// grow with the number of pages of other sections; the full list of every
// section's pages is one fingerprinted file (fullPath), which the script
// fetches when the reader unfolds another section.
//
// A site of more than navFullMax top-level entries shows a window of them
// instead: the current one and navRadius on each side (the first ones on
// a page of no section), after a link to the home page, which lists every
// section and page. Every page's sidebar then has the same bounded size,
// so that the output grows with the number of pages, not with its square
// (200 sections were 20 KB of links on each page).
type navigation struct {
	entries []navPiece
	byURL   map[string]int // top-level page or section URL → entry
	size    int            // bytes of the largest sidebar
	// all is the link to the home page that heads a windowed sidebar; ""
	// when every entry is shown.
	all string
	// full is every section's list: a JSON object from the section's URL
	// to the HTML of its <li> items, served at fullPath.
	full     []byte
	fullPath string
}

// navPiece is one top-level entry, rendered.
type navPiece struct {
	sec     *Section
	closed  string // not current (a section: closed, its own page only)
	current string // a root page that is the current page
	// A section, open: head, then each page's item (plain or current), then tail.
	head, tail    string
	plain, marked []string
	pages         []*Page // the section's index, then its pages
}

// marker splits a rendered section around its items.
const marker = "\x00items\x00"

// The sidebar's window (see navigation): up to navFullMax top-level
// entries are all shown (a small site's sidebar is the whole table of
// contents); beyond, the current one and navRadius entries on each side.
const (
	navFullMax = 30
	navRadius  = 6
)

// window is the range [lo, hi) of the entries shown around entry at (-1:
// none) when the sidebar is windowed.
func (n *navigation) window(at int) (lo, hi int) {
	if n.all == "" {
		return 0, len(n.entries)
	}
	lo = min(max(at-navRadius, 0), len(n.entries)-(2*navRadius+1))
	return lo, lo + 2*navRadius + 1
}

func renderNav(ctx context.Context, top []navEntry) (*navigation, error) {
	n := &navigation{byURL: map[string]int{}}
	var buf bytes.Buffer
	render := func(c templ.Component) (string, error) {
		buf.Reset()
		if err := c.Render(ctx, &buf); err != nil {
			return "", fmt.Errorf("render nav: %w", err)
		}
		return buf.String(), nil
	}
	item := func(url, title string, cur bool) (string, error) {
		return render(templates.NavItem(templates.NavLink{URL: url, Title: title, Current: cur}))
	}
	full := map[string]string{}
	for i, e := range top {
		var pc navPiece
		var err error
		if e.sec == nil {
			n.byURL[e.page.URL] = i
			if pc.closed, err = item(e.page.URL, e.page.Title, false); err != nil {
				return nil, err
			}
			if pc.current, err = item(e.page.URL, e.page.Title, true); err != nil {
				return nil, err
			}
			n.entries = append(n.entries, pc)
			continue
		}
		s := e.sec
		n.byURL[s.URL] = i
		pc.sec = s
		pc.pages = append([]*Page{s.Index}, s.Pages...)
		for j, p := range pc.pages {
			title := p.Title
			if j == 0 {
				title = "Overview"
			}
			pl, err := item(p.URL, title, false)
			if err != nil {
				return nil, err
			}
			cu, err := item(p.URL, title, true)
			if err != nil {
				return nil, err
			}
			pc.plain = append(pc.plain, pl)
			pc.marked = append(pc.marked, cu)
		}
		group := templates.NavGroup{Title: s.Title, URL: s.URL}
		open, err := render(templates.NavSection(group, templ.Raw(marker)))
		if err != nil {
			return nil, err
		}
		pc.head, pc.tail, _ = strings.Cut(open, marker)
		closed, err := render(templates.NavSectionClosed(group))
		if err != nil {
			return nil, err
		}
		pc.closed = closed
		full[s.URL] = strings.Join(pc.plain, "")
		n.entries = append(n.entries, pc)
	}
	if len(n.entries) > navFullMax {
		label := navAllLabel(len(full), len(n.entries))
		var err error
		if n.all, err = item("/", label, false); err != nil {
			return nil, err
		}
	}
	if len(full) == 0 {
		n.size = len(n.all)
		for _, e := range n.entries {
			n.size += len(e.current)
		}
		return n, nil // no sections, nothing to fetch
	}
	js, err := json.Marshal(full)
	if err != nil {
		return nil, fmt.Errorf("render nav: %w", err)
	}
	n.full = js
	n.fullPath = "/assets/nav." + fingerprint(n.full) + ".json"
	for i := range n.entries {
		size := len(n.all)
		lo, hi := n.window(i)
		for j := lo; j < hi; j++ {
			if i == j && n.entries[j].sec != nil {
				size += len(n.entries[j].head) + len(n.entries[j].tail)
				for _, s := range n.entries[j].plain {
					size += len(s)
				}
			} else {
				size += len(n.entries[j].closed)
			}
		}
		n.size = max(n.size, size)
	}
	return n, nil
}

// key is a hash of everything the sidebar of any page may show: with the
// pages' place in the reading order, what a page's output depends on of
// the others (see renderPages).
func (n *navigation) key() [sha256.Size]byte {
	h := sha256.New()
	put := func(s string) {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	put(n.all)
	put(n.fullPath)
	for _, e := range n.entries {
		put(e.closed)
		put(e.current)
		put(e.head)
		put(e.tail)
		fmt.Fprintf(h, "%d,%d:", len(e.plain), len(e.pages))
		for j := range e.plain {
			put(e.plain[j])
			put(e.marked[j])
		}
		for _, p := range e.pages {
			put(p.URL)
		}
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// component returns the sidebar of page cur (nil: no page is current,
// every section closed).
func (n *navigation) component(cur *Page) templ.Component {
	at := -1
	if cur != nil {
		url := cur.URL
		if cur.Section != nil {
			url = cur.Section.URL
		}
		if i, ok := n.byURL[url]; ok {
			at = i
		}
	}
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		b.Grow(n.size + 64)
		b.WriteString(n.all)
		lo, hi := n.window(at)
		for i := lo; i < hi; i++ {
			e := n.entries[i]
			switch {
			case i != at:
				b.WriteString(e.closed)
			case e.sec == nil:
				b.WriteString(e.current)
			default:
				b.WriteString(e.head)
				for j, p := range e.pages {
					if p == cur {
						b.WriteString(e.marked[j])
					} else {
						b.WriteString(e.plain[j])
					}
				}
				b.WriteString(e.tail)
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// navAllLabel is the text of the link to the full contents when the
// sidebar is cut: the top-level entries are sections (folders), pages,
// or both.
func navAllLabel(sections, entries int) string {
	switch pages := entries - sections; {
	case pages == 0:
		return fmt.Sprintf("All %d sections", sections)
	case sections == 0:
		return fmt.Sprintf("All %d pages", pages)
	default:
		return fmt.Sprintf("All %d sections and %d pages", sections, pages)
	}
}
