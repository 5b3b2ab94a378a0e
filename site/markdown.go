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
	"github.com/yuin/goldmark/util"
)

// newMarkdown returns the goldmark converter of the content: GFM, heading
// ids and anchor links, and playdoc's code blocks. Raw HTML in Markdown
// stays escaped (the pages allow no inline script or style).
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(nodeRenderer{}, 100))),
	)
}

// nodeRenderer renders headings (with an anchor link) and playdoc's code
// nodes; goldmark's HTML renderer does the rest.
type nodeRenderer struct{}

func (nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindHeading, renderHeading)
	reg.Register(kindCode, renderCode)
	reg.Register(kindPair, renderPair)
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

func renderPair(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering {
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
	label, figure := langLabels[n.Lang]
	if !figure {
		w.WriteString("<pre class=\"chroma code\" tabindex=\"0\"><code")
		if n.Lang != "" {
			fmt.Fprintf(w, " class=\"language-%s\"", html.EscapeString(n.Lang))
		}
		w.WriteString(">")
		w.WriteString(n.html)
		w.WriteString("</code></pre>\n")
		return ast.WalkSkipChildren, nil
	}
	fmt.Fprintf(w, "<figure class=\"snippet snippet-%s\"", n.Lang)
	if s := n.Snippet; s != nil {
		fmt.Fprintf(w, " id=\"%s\" data-run data-name=\"%s\"", s.ID(), s.Name)
		if s.Compare != "" {
			fmt.Fprintf(w, " data-compare=\"%s\"", s.Compare)
		}
		if s.Expected.Duration > 0 {
			fmt.Fprintf(w, " data-duration-ms=\"%d\"", s.Expected.Duration.Milliseconds())
		}
	}
	fmt.Fprintf(w, ">\n<figcaption>%s</figcaption>\n<pre class=\"chroma code\" tabindex=\"0\"><code>", label)
	w.WriteString(n.html)
	w.WriteString("</code></pre>\n")
	if s := n.Snippet; s != nil {
		w.WriteString("<div class=\"expected\">\n<p class=\"expected-title\">Expected output</p>\n<pre class=\"output-expected\">")
		w.WriteString(html.EscapeString(strings.TrimSuffix(s.Expected.DisplayText(), "\n")))
		w.WriteString("</pre>\n</div>\n")
	}
	w.WriteString("</figure>\n")
	return ast.WalkSkipChildren, nil
}
