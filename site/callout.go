package site

import (
	"regexp"
	"slices"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/util"
)

// calloutRE matches the first line of a callout: "[!NOTE]" and the like.
var calloutRE = regexp.MustCompile(`^\[!([A-Za-z]+)\][ \t]*$`)

// calloutTitles are the callouts' headings: GitHub's five kinds.
var calloutTitles = map[string]string{"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning", "caution": "Caution"}

// calloutAliases are, for each GitHub kind, the other kinds that authors
// bring from Obsidian and MkDocs Material ("[!DANGER]", "[!INFO]"), shown
// with their own word as the heading in the look of the GitHub kind nearest
// in meaning. Any other marker stays a plain quote, as on GitHub.
var calloutAliases = map[string][]string{
	"note":    {"info", "todo", "abstract", "summary", "tldr", "example", "quote", "cite", "question", "help", "faq"},
	"tip":     {"hint", "success", "check", "done"},
	"warning": {"attention"},
	"caution": {"danger", "error", "bug", "failure", "fail", "missing"},
}

// calloutVariant is the GitHub kind that shows an alias, or "".
func calloutVariant(alias string) string {
	for variant, aliases := range calloutAliases {
		if slices.Contains(aliases, alias) {
			return variant
		}
	}
	return ""
}

// callouts turns the page's block quotes that start with a callout marker
// of a known kind (calloutTitles, calloutAliases) into callout nodes.
func (p *Page) callouts(quotes []*ast.Blockquote) {
	for _, q := range quotes {
		para, ok := q.FirstChild().(*ast.Paragraph)
		if !ok || para.Lines().Len() == 0 {
			continue
		}
		first := para.Lines().At(0)
		m := calloutRE.FindSubmatch(util.TrimRightSpace(first.Value(p.body)))
		if m == nil {
			continue
		}
		kind := strings.ToLower(string(m[1]))
		variant, title := kind, calloutTitles[kind]
		if title == "" {
			if variant = calloutVariant(kind); variant == "" {
				continue
			}
			title = strings.ToUpper(kind[:1]) + kind[1:]
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
		co := &calloutNode{Variant: variant, Title: title}
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
		w.WriteString(`<p class="callout-title">` + n.Title + "</p>\n")
	} else {
		w.WriteString("</div>\n")
	}
	return ast.WalkContinue, nil
}
