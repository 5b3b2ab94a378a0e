package site

import (
	"regexp"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// calloutRE matches the first line of a callout: "[!NOTE]" and the like.
var calloutRE = regexp.MustCompile(`^\[!(?i:(note|tip|important|warning|caution))\][ \t]*$`)

// markerRE matches what looks like a callout marker of any kind, such as
// "[!DANGER]": a kind GitHub does not know is reported, not shown as text.
var markerRE = regexp.MustCompile(`^\[![A-Za-z]+\][ \t]*$`)

// calloutTitles are the callouts' headings.
var calloutTitles = map[string]string{"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution"}

// callouts turns the page's block quotes that start with a GitHub callout
// marker into callout nodes, and reports a marker of another kind at its
// line.
func (p *Page) callouts(quotes []*ast.Blockquote, errs *ErrorList) {
	for _, q := range quotes {
		para, ok := q.FirstChild().(*ast.Paragraph)
		if !ok || para.Lines().Len() == 0 {
			continue
		}
		first := para.Lines().At(0)
		marker := util.TrimRightSpace(first.Value(p.body))
		m := calloutRE.FindSubmatch(marker)
		if m == nil {
			if markerRE.Match(marker) {
				errs.errorf(p.Path, p.line(first.Start), "unknown callout %s: the kinds are [!NOTE], [!TIP], [!IMPORTANT], [!WARNING] and [!CAUTION] (GitHub's)", marker)
			}
			continue
		}
		// Drop the marker line's inline nodes (and the soft break after it).
		for c := para.FirstChild(); c != nil; {
			next := c.NextSibling()
			t, isText := c.(*ast.Text)
			if isText && t.Segment.Start >= first.Stop {
				break
			}
			if isText && t.Segment.Start < first.Start {
				break
			}
			para.RemoveChild(para, c)
			c = next
		}
		if para.ChildCount() == 0 {
			q.RemoveChild(q, para)
		}
		co := &calloutNode{Variant: strings.ToLower(string(m[1]))}
		for c := q.FirstChild(); c != nil; {
			next := c.NextSibling()
			co.AppendChild(co, c)
			c = next
		}
		parent := q.Parent()
		parent.ReplaceChild(parent, q, co)
	}
}

// renderCallout writes a callout: a note landmark with its type's heading.
func renderCallout(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*calloutNode)
	if entering {
		w.WriteString(`<div class="callout callout-` + n.Variant + `" role="note">` + "\n")
		w.WriteString(`<p class="callout-title">` + calloutTitles[n.Variant] + "</p>\n")
	} else {
		w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}
