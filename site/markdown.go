package site

import (
	"bytes"
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
// A table's column alignment is not written by goldmark, whose
// style="text-align:..." the site's Content-Security-Policy blocks:
// collect gives the cells an align-* class instead.
var extensions = []goldmark.Extender{
	extension.Linkify,
	extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignNone)),
	extension.Strikethrough,
	extension.TaskList,
	extension.Footnote,
	extension.DefinitionList,
}

// newMarkdown returns the goldmark converter that parses the content: GFM,
// footnotes, definition lists and heading ids, generated or given as
// attributes ("## Introduction {#intro}", as Hugo and Pandoc read them). Its renderer writes a
// page's body template (see bodyTemplate): goldmark's HTML and GFM
// renderers, with playdoc's own for headings, code, links, images and raw
// HTML. It keeps no state of a page: one serves every page, in parallel.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extensions...),
		goldmark.WithParserOptions(parser.WithAttribute(),
			parser.WithASTTransformers(util.Prioritized(headingIDs{}, 1000))),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(nodeRenderer{}, 100))),
	)
}

// nodeRenderer renders headings (with an anchor link) and callouts, and
// leaves holes in the template for what the build knows only later: code
// (highlighted after parsing), and the references and raw HTML (resolved
// against the other pages); goldmark's HTML renderer does the rest.
type nodeRenderer struct{}

func (r nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, renderHeading)
	reg.Register(kindCode, holeCode)
	reg.Register(kindPair, renderPair)
	reg.Register(kindCallout, renderCallout)
	reg.Register(ast.KindLink, holeLink)
	reg.Register(ast.KindImage, holeImage)
	reg.Register(ast.KindRawHTML, holeRaw)
	reg.Register(ast.KindHTMLBlock, holeRaw)
}

// templateOf is the template writer a node renderer writes to.
func templateOf(w util.BufWriter) (*templateWriter, error) {
	tw, ok := w.(*templateWriter)
	if !ok {
		return nil, fmt.Errorf("markdown rendered to a %T, not a page template", w)
	}
	return tw, nil
}

// refHole is the hole of reference node n: its index in the page's refs,
// or -1 with the destination as written.
func (tw *templateWriter) refHole(kind holeKind, n ast.Node, asWritten []byte) {
	h := hole{kind: kind, ref: -1}
	if i, ok := tw.p.refOf[n]; ok {
		h.ref = i
	} else {
		h.asWritten = string(asWritten)
	}
	tw.hole(h)
}

// holeLink writes a link as goldmark does, its URL a hole.
func holeLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	if !entering {
		w.WriteString("</a>")
		return ast.WalkContinue, nil
	}
	tw, err := templateOf(w)
	if err != nil {
		return ast.WalkStop, err
	}
	w.WriteString(`<a href="`)
	tw.refHole(holeURL, n, n.Destination)
	w.WriteByte('"')
	if n.Title != nil {
		w.WriteString(` title="`)
		gmhtml.DefaultWriter.Write(w, n.Title)
		w.WriteByte('"')
	}
	w.WriteByte('>')
	return ast.WalkContinue, nil
}

// holeImage writes an image with holes for its published URL, and for its
// size (so that the page does not shift as it loads) and, below the fold,
// lazy loading.
func holeImage(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	tw, err := templateOf(w)
	if err != nil {
		return ast.WalkStop, err
	}
	w.WriteString(`<img src="`)
	tw.refHole(holeURL, n, n.Destination)
	w.WriteString(`" alt="`)
	w.WriteString(html.EscapeString(plainText(n, src)))
	w.WriteByte('"')
	tw.refHole(holeImageAttrs, n, nil)
	if n.Title != nil {
		w.WriteString(` title="`)
		gmhtml.DefaultWriter.Write(w, n.Title)
		w.WriteByte('"')
	}
	w.WriteByte('>')
	return ast.WalkSkipChildren, nil
}

// holeRaw leaves a hole for the authors' raw HTML, checked when the page
// was parsed, whose references are resolved later.
func holeRaw(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
		tw, err := templateOf(w)
		if err != nil {
			return ast.WalkStop, err
		}
		if f := tw.p.raw[node]; f != nil {
			tw.hole(hole{kind: holeRawHTML, frag: f})
		}
	}
	return ast.WalkSkipChildren, nil
}

// holeCode leaves a hole for a code block: its HTML is highlighted later.
func holeCode(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	tw, err := templateOf(w)
	if err != nil {
		return ast.WalkStop, err
	}
	i, ok := tw.codeIndex[node.(*codeNode)]
	if !ok {
		return ast.WalkStop, fmt.Errorf("%s: a code block the page does not list", tw.p.Path)
	}
	tw.hole(hole{kind: holeCodeBlock, ref: i})
	return ast.WalkSkipChildren, nil
}

func renderHeading(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Heading)
	id, _ := n.AttributeString("id")
	idStr := html.EscapeString(string(asBytes(id)))
	if entering {
		fmt.Fprintf(w, "<h%d id=\"%s\"", n.Level, idStr)
		// collect allowed only an id and classes ({#id .class}).
		if class, ok := n.AttributeString("class"); ok {
			fmt.Fprintf(w, " class=\"%s\"", html.EscapeString(string(asBytes(class))))
		}
		w.WriteByte('>')
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

// writeCode writes a code block as contracts.md section 2 describes:
// python and go blocks are figures; a runnable snippet carries its data
// attributes and expected output.
func writeCode(w *bytes.Buffer, n *codeNode) {
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
		return
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
}
