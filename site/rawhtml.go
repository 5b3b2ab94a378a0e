package site

import (
	"bytes"
	"html"
	"io"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	xhtml "golang.org/x/net/html"
)

// Raw HTML in the Markdown is the authors' own, so it is rendered, but
// checked first: what the site's Content-Security-Policy would block, or
// what would break the rest of the page, is a file:line error rather than
// a silent drop. The references it makes (<a href>, <img src>) are
// resolved like Markdown links and images.

// rawFrag is one piece of raw HTML of a page (an HTML block or an inline
// tag), split into text written as is and tags whose references the build
// rewrites.
type rawFrag struct{ parts []rawPart }

// rawPart is literal HTML (tag nil) or a tag to write again with the
// resolved values of some attributes.
type rawPart struct {
	text string
	tag  *xhtml.Token
	refs map[string]int // attribute name → index in Page.refs
}

// forbiddenElements are the elements raw HTML may not use, and why.
var forbiddenElements = map[string]string{
	"script":    "the site's Content-Security-Policy blocks inline scripts",
	"style":     "the site's Content-Security-Policy blocks inline styles; style the site in site.css",
	"iframe":    "the site's Content-Security-Policy blocks embedded frames",
	"frame":     "the site's Content-Security-Policy blocks embedded frames",
	"frameset":  "the site's Content-Security-Policy blocks embedded frames",
	"object":    "the site's Content-Security-Policy blocks embedded objects",
	"embed":     "the site's Content-Security-Policy blocks embedded objects",
	"applet":    "the site's Content-Security-Policy blocks embedded objects",
	"base":      "it would change where every link of the page leads",
	"link":      "it belongs in the page layout, not in its content",
	"meta":      "it belongs in the page layout, not in its content",
	"title":     "it belongs in the page layout, not in its content",
	"html":      "it belongs in the page layout, not in its content",
	"head":      "it belongs in the page layout, not in its content",
	"body":      "it belongs in the page layout, not in its content",
	"textarea":  "its content swallows the rest of the page's HTML",
	"xmp":       "its content swallows the rest of the page's HTML",
	"plaintext": "its content swallows the rest of the page's HTML",
	"noscript":  "the pages work without scripts already",
	"template":  "its content is never shown",
}

// voidElements have no end tag.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// urlAttrs are the attributes whose value the build resolves, by element,
// and what they refer to.
var urlAttrs = map[string]map[string]refKind{
	"a":      {"href": refLink},
	"area":   {"href": refLink},
	"img":    {"src": refImage},
	"video":  {"src": refFile, "poster": refFile},
	"audio":  {"src": refFile},
	"source": {"src": refFile},
	"track":  {"src": refFile},
}

// openTag is an element opened in raw HTML and not closed yet.
type openTag struct {
	name  string
	line  int
	block ast.Node // the Markdown block it must close in; nil: the page
}

// htmlChecker checks the raw HTML of one page in document order, keeping
// the elements still open across fragments: a <details> opened in one HTML
// block may close in another, after Markdown in between.
type htmlChecker struct {
	p     *Page
	errs  *ErrorList
	stack []openTag
}

// fragment checks one piece of raw HTML that starts on file line line;
// block is the Markdown block its elements must close in (nil: the page). lazy says whether images in it are below the fold.
func (c *htmlChecker) fragment(text []byte, line int, block ast.Node, lazy bool) *rawFrag {
	f := &rawFrag{}
	z := xhtml.NewTokenizer(bytes.NewReader(text))
	off := 0
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			if z.Err() != io.EOF {
				c.errs.errorf(c.p.Path, line, "raw HTML: %v", z.Err())
			}
			if rest := text[min(off, len(text)):]; len(rest) > 0 {
				f.parts = append(f.parts, rawPart{text: string(rest)})
			}
			return f
		}
		raw := string(z.Raw())
		at := line + bytes.Count(text[:min(off, len(text))], []byte("\n"))
		off += len(raw)
		switch tt {
		case xhtml.DoctypeToken:
			c.errs.errorf(c.p.Path, at, "raw HTML %s is not allowed: it belongs in the page layout, not in its content", strings.TrimSpace(raw))
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			foreign := c.inForeign()
			if part, ok := c.startTag(&tok, tt == xhtml.SelfClosingTagToken, at, block, lazy); ok {
				f.parts = append(f.parts, part)
				continue
			}
			if !foreign {
				raw = normalTag(raw, tok.Data, false, tt == xhtml.SelfClosingTagToken)
			}
		case xhtml.EndTagToken:
			name := z.Token().Data
			if c.endTag(name, at) {
				raw = normalTag(raw, name, true, false)
			}
		}
		f.parts = append(f.parts, rawPart{text: raw})
	}
}

// startTag checks an opening tag and records what it opens; it returns a
// part to write again when the tag refers to something the build resolves.
func (c *htmlChecker) startTag(tok *xhtml.Token, selfClosing bool, line int, block ast.Node, lazy bool) (rawPart, bool) {
	name := tok.Data
	if why, bad := forbiddenElements[name]; bad {
		c.errs.errorf(c.p.Path, line, "raw HTML <%s> is not allowed: %s", name, why)
		return rawPart{}, false
	}
	var refs map[string]int
	hasAlt := false
	rewrite := false
	if name == "a" && tokenHasAttr(tok, "name") {
		// An old anchor, <a name="x">: browsers follow #x to it, and
		// HTML5 names it with id (name= is obsolete), so it is written
		// again as <a id="x">; beside an id, the name is dropped.
		hasID := tokenHasAttr(tok, "id")
		attrs := tok.Attr[:0]
		for _, a := range tok.Attr {
			if strings.ToLower(a.Key) == "name" {
				if hasID {
					continue
				}
				a.Key = "id"
			}
			attrs = append(attrs, a)
		}
		tok.Attr, rewrite = attrs, true
	}
	for _, a := range tok.Attr {
		key := strings.ToLower(a.Key)
		switch {
		case key == "style":
			c.errs.errorf(c.p.Path, line, "raw HTML style= attribute on <%s> is not allowed: the site's Content-Security-Policy blocks inline styles; use a class and site.css", name)
		case strings.HasPrefix(key, "on"):
			c.errs.errorf(c.p.Path, line, "raw HTML %s= attribute on <%s> is not allowed: the site's Content-Security-Policy blocks inline scripts", key, name)
		case key == "srcset":
			c.errs.errorf(c.p.Path, line, "raw HTML srcset= attribute on <%s> is not supported: give one file with src=", name)
		case key == "id":
			c.p.ids[a.Val] = true
		case key == "alt":
			hasAlt = true
		}
	}
	for _, a := range tok.Attr {
		kind, ok := urlAttrs[name][strings.ToLower(a.Key)]
		if !ok {
			continue
		}
		if refs == nil {
			refs = map[string]int{}
		}
		refs[a.Key] = len(c.p.refs)
		c.p.refs = append(c.p.refs, ref{kind: kind, dest: a.Val, line: line, noAlt: kind == refImage && !hasAlt, lazy: lazy, raw: true})
	}
	inForeign := c.inForeign()
	switch {
	case voidElements[name]:
	case selfClosing && !inForeign:
		c.errs.errorf(c.p.Path, line, "raw HTML <%s/> is not closed: HTML ignores the '/' on a <%s>; write <%s></%s>", name, name, name, name)
	case selfClosing:
	default:
		c.stack = append(c.stack, openTag{name: name, line: line, block: block})
	}
	if refs == nil && !rewrite {
		return rawPart{}, false
	}
	return rawPart{tag: tok, refs: refs}, true
}

// tokenHasAttr reports whether tok has the attribute key (any case).
func tokenHasAttr(tok *xhtml.Token, key string) bool {
	for _, a := range tok.Attr {
		if strings.EqualFold(a.Key, key) {
			return true
		}
	}
	return false
}

// inForeign reports whether the next tag is inside SVG or MathML, whose
// names and attributes keep their case and may be self-closed.
func (c *htmlChecker) inForeign() bool {
	for _, o := range c.stack {
		if o.name == "svg" || o.name == "math" {
			return true
		}
	}
	return false
}

// endTag matches a closing tag with the element it closes; elements
// opened inside that one and left open are errors. It reports whether the
// tag closes an HTML (not SVG or MathML) element.
func (c *htmlChecker) endTag(name string, line int) bool {
	if _, bad := forbiddenElements[name]; bad || voidElements[name] {
		return true
	}
	html := !c.inForeign() || name == "svg" || name == "math"
	for i := len(c.stack) - 1; i >= 0; i-- {
		if c.stack[i].name != name {
			continue
		}
		for _, o := range c.stack[i+1:] {
			c.errs.errorf(c.p.Path, o.line, "raw HTML <%s> is not closed before </%s> on line %d", o.name, name, line)
		}
		c.stack = c.stack[:i]
		return html
	}
	c.errs.errorf(c.p.Path, line, "raw HTML </%s> closes nothing: no <%s> is open", name, name)
	return html
}

// normalTag writes an HTML tag as the page's validator wants it: the
// element's name in lower case, and a void element without the '/' of
// XHTML (<br/> is <br>). Attributes stay as written.
func normalTag(raw, name string, end, selfClosing bool) string {
	prefix := "<"
	if end {
		prefix = "</"
	}
	if len(raw) >= len(prefix)+len(name) && strings.EqualFold(raw[len(prefix):len(prefix)+len(name)], name) {
		raw = prefix + name + raw[len(prefix)+len(name):]
	}
	if selfClosing && voidElements[name] && strings.HasSuffix(raw, "/>") {
		raw = strings.TrimRight(strings.TrimSuffix(raw, "/>"), " \t\r\n") + ">"
	}
	return raw
}

// leave is called at the end of a Markdown block: inline elements opened
// in it must be closed in it, or they would spill over what follows.
func (c *htmlChecker) leave(block ast.Node) {
	for len(c.stack) > 0 && c.stack[len(c.stack)-1].block == block {
		o := c.stack[len(c.stack)-1]
		where := "its paragraph"
		switch block.(type) {
		case *ast.ListItem, *ast.List:
			where = "its list item"
		case *ast.Blockquote:
			where = "its quote"
		case *east.TableCell, *east.TableRow, *east.TableHeader, *east.Table:
			where = "its table cell"
		}
		c.errs.errorf(c.p.Path, o.line, "raw HTML <%s> is not closed in %s", o.name, where)
		c.stack = c.stack[:len(c.stack)-1]
	}
}

// finish reports the elements still open at the end of the page.
func (c *htmlChecker) finish() {
	for _, o := range c.stack {
		c.errs.errorf(c.p.Path, o.line, "raw HTML <%s> is never closed", o.name)
	}
	c.stack = nil
}

// write writes a fragment with its references resolved: links point to
// pages' URLs, images and files to their published copies, and images get
// their size and lazy loading unless the author gave them.
func (f *rawFrag) write(w io.Writer, p *Page, res []resolved) {
	for _, part := range f.parts {
		if part.tag == nil {
			io.WriteString(w, part.text)
			continue
		}
		t := part.tag
		var b strings.Builder
		b.WriteString("<" + t.Data)
		has := map[string]bool{}
		var file *contentFile
		var lazy bool
		for _, a := range t.Attr {
			val := a.Val
			if i, ok := part.refs[a.Key]; ok {
				val = res[i].url
				if p.refs[i].kind == refImage {
					file, lazy = res[i].file, p.refs[i].lazy
				}
			}
			has[strings.ToLower(a.Key)] = true
			b.WriteString(" " + a.Key + `="` + html.EscapeString(val) + `"`)
		}
		if file != nil && file.width > 0 && !has["width"] && !has["height"] {
			b.WriteString(` width="` + strconv.Itoa(file.width) + `" height="` + strconv.Itoa(file.height) + `"`)
		}
		if lazy && !has["loading"] {
			b.WriteString(` loading="lazy"`)
		}
		b.WriteString(">")
		io.WriteString(w, b.String())
	}
}

// fragText is the source of a raw HTML node and the body offset where it
// starts.
func fragText(n ast.Node, src []byte) ([]byte, int) {
	var b bytes.Buffer
	start := -1
	add := func(s int, v []byte) {
		if start < 0 {
			start = s
		}
		b.Write(v)
	}
	switch n := n.(type) {
	case *ast.RawHTML:
		for i := 0; i < n.Segments.Len(); i++ {
			s := n.Segments.At(i)
			add(s.Start, s.Value(src))
		}
	case *ast.HTMLBlock:
		for i := 0; i < n.Lines().Len(); i++ {
			s := n.Lines().At(i)
			add(s.Start, s.Value(src))
		}
		if n.HasClosure() {
			add(n.ClosureLine.Start, n.ClosureLine.Value(src))
		}
	}
	return b.Bytes(), max(start, 0)
}
