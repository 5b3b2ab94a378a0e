package site

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/util"
)

// bodyTemplate is a page's Markdown rendered to HTML once, right after it
// is parsed, with holes for what the build learns later: the highlighted
// code and where references lead. Filled, it is the page's body. The
// template replaces the syntax tree, which is half of a build's memory
// and which BuildTo used to drop and parse again to render (a fifth of a
// cold build's CPU).
type bodyTemplate struct {
	html  []byte // the text between the holes
	holes []hole // in order of their offsets
}

// holeKind is what fills a hole.
type holeKind uint8

const (
	holeURL        holeKind = iota // a link's or image's URL, escaped
	holeImageAttrs                 // an image's width, height and loading
	holeRawHTML                    // a raw HTML fragment, references resolved
	holeCodeBlock                  // a code block
)

// hole is a place in a bodyTemplate's html.
type hole struct {
	at   int // offset in html
	kind holeKind
	// ref is the index in the page's refs (holeURL, holeImageAttrs; -1
	// for a reference the page does not list, which stays asWritten) or
	// in its codes (holeCodeBlock).
	ref       int
	asWritten string
	frag      *rawFrag // holeRawHTML
}

// templateWriter is what the Markdown renderer writes a bodyTemplate to
// (see nodeRenderer): a buffer, and the holes so far.
type templateWriter struct {
	bytes.Buffer
	p         *Page
	codeIndex map[*codeNode]int
	holes     []hole
}

// Buffered is 0: nothing waits to be flushed (util.BufWriter).
func (tw *templateWriter) Buffered() int { return 0 }

// Flush does nothing (util.BufWriter).
func (tw *templateWriter) Flush() error { return nil }

// hole records h at the current end of the text.
func (tw *templateWriter) hole(h hole) {
	h.at = tw.Len()
	tw.holes = append(tw.holes, h)
}

var _ util.BufWriter = (*templateWriter)(nil)

// newBodyTemplate renders page p's syntax tree with md's renderer (see
// newMarkdown). p has a tree.
func newBodyTemplate(p *Page, md goldmark.Markdown) (*bodyTemplate, error) {
	tw := &templateWriter{p: p, codeIndex: make(map[*codeNode]int, len(p.codes))}
	for i, c := range p.codes {
		tw.codeIndex[c] = i
	}
	tw.Grow(2*len(p.body) + 1024)
	if err := md.Renderer().Render(tw, p.body, p.doc); err != nil {
		return nil, fmt.Errorf("render markdown: %w", err)
	}
	// Kept until the page is rendered: no spare capacity.
	return &bodyTemplate{html: bytes.Clone(tw.Bytes()), holes: append([]hole(nil), tw.holes...)}, nil
}

// fill writes the body of page p, whose references lead where links says
// (by index in p.refs) and whose code blocks are highlighted.
func (t *bodyTemplate) fill(w *bytes.Buffer, p *Page, links []resolved) {
	prev := 0
	for _, h := range t.holes {
		w.Write(t.html[prev:h.at])
		prev = h.at
		known := h.ref >= 0 && h.ref < len(links)
		switch h.kind {
		case holeURL:
			url := h.asWritten
			if known {
				url = links[h.ref].url
			} else if h.ref >= 0 {
				url = p.refs[h.ref].dest
			}
			w.Write(util.EscapeHTML(util.URLEscape([]byte(url), true)))
		case holeImageAttrs:
			if !known {
				continue
			}
			if f := links[h.ref].file; f != nil && f.width > 0 {
				w.WriteString(` width="` + strconv.Itoa(f.width) + `" height="` + strconv.Itoa(f.height) + `"`)
			}
			if p.refs[h.ref].lazy {
				w.WriteString(` loading="lazy"`)
			}
		case holeRawHTML:
			h.frag.write(w, p, links)
		case holeCodeBlock:
			writeCode(w, p.codes[h.ref])
		}
	}
	w.Write(t.html[prev:])
}
