package site

import (
	"fmt"
	"path"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// linkRef is a link in the Markdown whose destination the build resolves.
type linkRef struct {
	node *ast.Link
	dest string // as written
	line int
}

// checkPages checks what spans pages (order and slug unique, links resolve)
// and points internal links at the pages' URLs.
func checkPages(pages []*Page) ErrorList {
	var errs ErrorList
	byOrder := map[int]*Page{}
	bySlug := map[string]*Page{}
	byFile := map[string]*Page{}
	for _, p := range pages {
		byFile[p.File] = p
		if p.orderLine > 0 {
			if q, dup := byOrder[p.Order]; dup {
				errs.errorf(p.Path, p.orderLine, "duplicate order %d (also used by %s)", p.Order, q.Path)
			} else {
				byOrder[p.Order] = p
			}
		}
		if q, dup := bySlug[p.Slug]; dup {
			line := p.slugLine
			if line == 0 {
				line = 1
			}
			errs.errorf(p.Path, line, "duplicate slug %q (also used by %s)", p.Slug, q.Path)
		} else {
			bySlug[p.Slug] = p
		}
	}
	for _, p := range pages {
		for _, l := range p.links {
			url, msg := resolveLink(p, l.dest, byFile)
			if msg != "" {
				errs.errorf(p.Path, l.line, "%s", msg)
				continue
			}
			l.node.Destination = []byte(url)
		}
	}
	return errs
}

// resolveLink maps a link as written to its URL, or explains why it is
// broken. External and absolute links are left alone.
func resolveLink(p *Page, dest string, byFile map[string]*Page) (url, problem string) {
	if dest == "" || strings.Contains(dest, ":") || strings.HasPrefix(dest, "/") {
		return dest, ""
	}
	file, frag, _ := strings.Cut(dest, "#")
	target := p
	if file != "" {
		if !strings.HasSuffix(file, ".md") {
			return dest, "" // a relative link to something other than a page
		}
		t, ok := byFile[path.Clean(path.Join(path.Dir(p.File), file))]
		if !ok {
			return "", fmt.Sprintf("broken link %q: no page %s", dest, file)
		}
		target = t
	}
	if frag != "" && !target.ids[frag] {
		return "", fmt.Sprintf("broken link %q: %s has no heading or snippet with id %q", dest, target.File, frag)
	}
	switch {
	case file == "":
		return "#" + frag, ""
	case frag == "":
		return target.URL, ""
	default:
		return target.URL + "#" + frag, ""
	}
}
