package site

import (
	"fmt"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// extensions are goldmark's extensions the content may use: GFM (tables,
// task lists, strikethrough, autolinks), footnotes and definition lists.
var extensions = []goldmark.Extender{extension.GFM, extension.Footnote, extension.DefinitionList}

// newMarkdown returns the goldmark converter that parses the content: GFM,
// footnotes, definition lists and heading ids. Pages are rendered by
// pageRenderer.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extensions...),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
}

// pageRenderer returns the renderer of page p, whose references lead where
// links says (by index in p.refs): goldmark's HTML and GFM renderers, with
// playdoc's own for headings, code, links, images and raw HTML. Resolving
// at render time leaves the parsed page untouched, so a Builder can keep
// it for the next build.
func pageRenderer(p *Page, links []resolved) renderer.Renderer {
	return goldmark.New(
		goldmark.WithExtensions(extensions...),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(nodeRenderer{p: p, links: links}, 100))),
	).Renderer()
}

// nodeRenderer renders headings (with an anchor link), playdoc's code
// nodes, and the references and raw HTML of page p; goldmark's HTML
// renderer does the rest.
type nodeRenderer struct {
	p     *Page
	links []resolved
}

func (r nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, renderHeading)
	reg.Register(kindCode, renderCode)
	reg.Register(kindPair, renderPair)
	reg.Register(kindCallout, renderCallout)
	reg.Register(ast.KindLink, r.renderLink)
	reg.Register(ast.KindImage, r.renderImage)
	reg.Register(ast.KindRawHTML, r.renderRaw)
	reg.Register(ast.KindHTMLBlock, r.renderRaw)
}

// dest is where reference node leads.
func (r nodeRenderer) dest(n ast.Node, asWritten []byte) (ref, resolved) {
	if i, ok := r.p.refOf[n]; ok && i < len(r.links) {
		return r.p.refs[i], r.links[i]
	}
	return ref{}, resolved{url: string(asWritten)}
}

// renderLink writes a link as goldmark does, to its resolved URL.
func (r nodeRenderer) renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	if !entering {
		w.WriteString("</a>")
		return ast.WalkContinue, nil
	}
	_, res := r.dest(n, n.Destination)
	w.WriteString(`<a href="`)
	w.Write(util.EscapeHTML(util.URLEscape([]byte(res.url), true)))
	w.WriteByte('"')
	if n.Title != nil {
		w.WriteString(` title="`)
		gmhtml.DefaultWriter.Write(w, n.Title)
		w.WriteByte('"')
	}
	w.WriteByte('>')
	return ast.WalkContinue, nil
}

// renderImage writes an image with its published URL, its size (so that
// the page does not shift as it loads) and, below the fold, lazy loading.
func (r nodeRenderer) renderImage(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	rf, res := r.dest(n, n.Destination)
	w.WriteString(`<img src="`)
	w.Write(util.EscapeHTML(util.URLEscape([]byte(res.url), true)))
	w.WriteString(`" alt="`)
	w.WriteString(html.EscapeString(plainText(n, src)))
	w.WriteByte('"')
	if f := res.file; f != nil && f.width > 0 {
		fmt.Fprintf(w, ` width="%d" height="%d"`, f.width, f.height)
	}
	if rf.lazy {
		w.WriteString(` loading="lazy"`)
	}
	if n.Title != nil {
		w.WriteString(` title="`)
		gmhtml.DefaultWriter.Write(w, n.Title)
		w.WriteByte('"')
	}
	w.WriteByte('>')
	return ast.WalkSkipChildren, nil
}

// renderRaw writes the authors' raw HTML, checked when the page was
// parsed, with its references resolved.
func (r nodeRenderer) renderRaw(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		if f := r.p.raw[node]; f != nil {
			f.write(w, r.p, r.links)
		}
	}
	return ast.WalkSkipChildren, nil
}

func renderHeading(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	id, _ := n.AttributeString("id")
	idStr := html.EscapeString(string(asBytes(id)))
	if entering {
		fmt.Fprintf(w, "<h%d id=\"%s\">", n.Level, idStr)
		return ast.WalkContinue, nil
	}
	// The anchor is for pointing and copying; keyboard and screen reader
	// users have the table of contents, so it stays out of their way.
	fmt.Fprintf(w, " <a class=\"anchor\" href=\"#%s\" aria-hidden=\"true\" tabindex=\"-1\">#</a></h%d>\n", idStr, n.Level)
	return ast.WalkContinue, nil
}

func renderPair(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		if node.(*pairNode).Tabs {
			// site.js makes it tabs where the two do not fit side by
			// side; without JS both show.
			w.WriteString("<div class=\"pair\" data-tabs>\n")
			return ast.WalkContinue, nil
		}
		w.WriteString("<div class=\"pair\">\n")
	} else {
		w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}

// langLabels are the captions of code blocks by language.
var langLabels = map[string]string{"go": "Go", "python": "Python"}

// renderCode writes a code block as contracts.md section 2 describes:
// python and go blocks are figures; a runnable snippet carries its data
// attributes and expected output.
func renderCode(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*codeNode)
	code, pre := n.html, "<pre class=\"chroma code\" tabindex=\"0\">"
	if n.HL != nil || n.LineNos {
		code = decorateLines(code, n.HL, n.LineNos)
		cls := "chroma code lines"
		if n.LineNos {
			cls += " linenos"
			if codeLines(n.Code) > 99 {
				cls += " linenos-wide"
			}
		}
		pre = "<pre class=\"" + cls + "\" tabindex=\"0\">"
	}
	label, figure := langLabels[n.Lang]
	if !figure {
		w.WriteString(pre + "<code")
		if n.Lang != "" {
			fmt.Fprintf(w, " class=\"language-%s\"", html.EscapeString(n.Lang))
		}
		w.WriteString(">")
		w.WriteString(code)
		w.WriteString("</code></pre>\n")
		return ast.WalkSkipChildren, nil
	}
	fmt.Fprintf(w, "<figure class=\"snippet snippet-%s\"", n.Lang)
	if s := n.Snippet; s != nil {
		fmt.Fprintf(w, " id=\"%s\" data-run data-name=\"%s\"", s.ID(), s.Name)
		if s.Lang == "python" {
			w.WriteString(" data-lang=\"python\"")
		}
		if s.Compare != "" {
			fmt.Fprintf(w, " data-compare=\"%s\"", s.Compare)
		}
		if s.Trace {
			w.WriteString(" data-trace")
		}
		if s.Race {
			w.WriteString(" data-race")
		}
		if s.Pair != "" {
			fmt.Fprintf(w, " data-pair=\"%s\"", s.Pair)
		}
		if s.Expected.Duration > 0 {
			fmt.Fprintf(w, " data-duration-ms=\"%d\"", s.Expected.Duration.Milliseconds())
		}
		// The editor that replaces the block marks the same lines.
		if hl := lineRangesAttr(n.HL); hl != "" {
			fmt.Fprintf(w, " data-hl=\"%s\"", hl)
		}
		if n.LineNos {
			w.WriteString(" data-linenos")
		}
	}
	fmt.Fprintf(w, ">\n<figcaption>%s</figcaption>\n%s<code>", label, pre)
	w.WriteString(code)
	w.WriteString("</code></pre>\n")
	if s := n.Snippet; s != nil {
		w.WriteString("<div class=\"expected\">\n<p class=\"expected-title\">Expected output</p>\n<pre class=\"output-expected\">")
		w.WriteString(html.EscapeString(strings.TrimSuffix(s.Expected.DisplayText(), "\n")))
		w.WriteString("</pre>\n</div>\n")
	}
	w.WriteString("</figure>\n")
	return ast.WalkSkipChildren, nil
}
