package site

import (
	"bytes"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/util"
)

// A reference whose label the page does not define is not a link in
// Markdown but its literal text: "[the docs][docs-typo]" shows brackets
// and all. checkReferences reports those that can only be a mistake: a
// full or collapsed reference ([text][label], [text][]) and a footnote
// reference ([^label]). A lone [x] is left alone: prose writes a[i], [x],
// and so is [2][3]int.

// unresolvedRefRE finds [text][label] and [text][] not preceded by a
// letter, digit, '_' or ']' (a[i][j] is an index) or a backslash.
var unresolvedRefRE = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_\]\\])(\[([^\[\]\x00]*)\]\[([^\[\]\x00]*)\])`)

// unresolvedNoteRE finds a footnote reference left as text.
var unresolvedNoteRE = regexp.MustCompile(`\[\^([^\[\]\s\x00]+)\]`)

// inlineText is the Markdown source of a block's inline text, code,
// links and raw HTML replaced by NUL, with the source offset of each of
// its pieces.
type inlineText struct {
	b    strings.Builder
	flat []int // the offset in b where each piece starts
	src  []int // the body offset of each piece
}

func (t *inlineText) add(s string, srcOff int) {
	t.flat = append(t.flat, t.b.Len())
	t.src = append(t.src, srcOff)
	t.b.WriteString(s)
}

// srcOffset maps an offset in the text to the body offset it came from.
func (t *inlineText) srcOffset(i int) int {
	k := sort.SearchInts(t.flat, i+1) - 1
	return t.src[max(k, 0)] + i - t.flat[max(k, 0)]
}

func (t *inlineText) walk(n ast.Node, body []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			if c.IsRaw() {
				t.add("\x00", c.Segment.Start)
				continue
			}
			t.add(string(c.Segment.Value(body)), c.Segment.Start)
			if c.SoftLineBreak() || c.HardLineBreak() {
				t.add(" ", c.Segment.Stop)
			}
		case *ast.Link, *ast.Image, *ast.AutoLink, *ast.CodeSpan, *ast.RawHTML, *east.FootnoteLink:
			t.add("\x00", 0)
		default:
			if c.Type() == ast.TypeInline {
				t.walk(c, body)
			}
		}
	}
}

// hasBracket reports whether the text that inlineText.walk takes from
// n's inline children holds a "[" (its NULs and spaces never do).
func hasBracket(n ast.Node, body []byte) bool {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			if !c.IsRaw() && bytes.IndexByte(c.Segment.Value(body), '[') >= 0 {
				return true
			}
		case *ast.Link, *ast.Image, *ast.AutoLink, *ast.CodeSpan, *ast.RawHTML, *east.FootnoteLink:
		default:
			if c.Type() == ast.TypeInline && hasBracket(c, body) {
				return true
			}
		}
	}
	return false
}

// checkReferences reports the page's unresolved references (see above).
func (p *Page) checkReferences(pc parser.Context, errs *ErrorList) {
	_ = ast.Walk(p.doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || n.Type() != ast.TypeBlock || n.FirstChild() == nil || n.FirstChild().Type() != ast.TypeInline {
			return ast.WalkContinue, nil
		}
		// Both expressions need a "][" or a "[^": most blocks have no
		// "[" in their text at all (a link's is not walked), and the
		// others seldom have either. Running the expressions on every
		// block was 4% of a cold build's CPU, flattening its text 1.5%.
		if !hasBracket(n, p.body) {
			return ast.WalkSkipChildren, nil
		}
		var t inlineText
		t.walk(n, p.body)
		s := t.b.String()
		if !strings.Contains(s, "][") && !strings.Contains(s, "[^") {
			return ast.WalkSkipChildren, nil
		}
		for _, m := range unresolvedRefRE.FindAllStringSubmatchIndex(s, -1) {
			if r, _ := utf8.DecodeRuneInString(s[m[3]:]); r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
				continue // a type in prose, [2][3]int
			}
			text, label := s[m[4]:m[5]], s[m[6]:m[7]]
			if label == "" {
				label = text
			}
			if _, ok := pc.Reference(util.ToLinkReference([]byte(label))); ok || strings.TrimSpace(label) == "" {
				continue
			}
			errs.errorf(p.Path, p.line(t.srcOffset(m[2])), "reference link %s: the page defines no [%s] (add a line \"[%s]: URL\", or write the text as code)", s[m[2]:m[3]], label, label)
		}
		for _, m := range unresolvedNoteRE.FindAllStringSubmatchIndex(s, -1) {
			label := s[m[2]:m[3]]
			errs.errorf(p.Path, p.line(t.srcOffset(m[0])), "footnote [^%s]: the page defines no note for it (add a line \"[^%s]: text\", or write the text as code)", label, label)
		}
		return ast.WalkSkipChildren, nil
	})
}
