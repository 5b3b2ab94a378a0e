package site

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	xhtml "golang.org/x/net/html"
)

// ids generates heading ids: lower-case words joined by '-', unique per page
// and never equal to an id the layout uses.
type ids struct{ used map[string]bool }

// ids is what goldmark's parser asks for heading ids.
var _ parser.IDs = (*ids)(nil)

// layoutIDs are ids the page layout uses; headings get other ones.
var layoutIDs = []string{"main", "sidebar", "nav-title", "toc", "toc-title", "menu", "top", "search-q", "search-results"}

// newIDs returns a generator with the layout's ids already taken.
func newIDs() *ids {
	s := &ids{used: map[string]bool{}}
	for _, id := range layoutIDs {
		s.used[id] = true
	}
	return s
}

// Generate returns a new unique id for a heading whose text is value.
func (s *ids) Generate(value []byte, _ ast.NodeKind) []byte {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(string(value)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case r == '_' || r == '-' || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r):
			dash = true
		}
	}
	base := b.String()
	if base == "" || strings.HasPrefix(base, "snippet-") {
		base = "section-" + base
		base = strings.TrimSuffix(base, "-")
	}
	id := base
	for i := 1; s.used[id]; i++ {
		id = base + "-" + strconv.Itoa(i)
	}
	s.used[id] = true
	return []byte(id)
}

// Put marks an id given explicitly as taken.
func (s *ids) Put(value []byte) { s.used[string(value)] = true }

// headingIDs gives each heading without an id ({#id}) one made from its
// text as the reader sees it (plainText: no link URLs or image paths,
// entities and escapes resolved), as GitHub and Hugo do; goldmark's own
// would be made from the Markdown source of the heading's last line. The
// ids given are taken first, so that a generated one never repeats them.
type headingIDs struct{}

func (headingIDs) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var auto []*ast.Heading
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.(type) {
		case *ast.RawHTML, *ast.HTMLBlock:
			// An anchor above a heading (<a id="usage"></a>, or name=)
			// keeps its id; the heading's generated one steps aside.
			text, _ := fragText(n, reader.Source())
			for _, id := range rawHTMLIDs(text) {
				pc.IDs().Put([]byte(id))
			}
			return ast.WalkSkipChildren, nil
		}
		h, ok := n.(*ast.Heading)
		if !ok {
			return ast.WalkContinue, nil
		}
		if id, ok := h.AttributeString("id"); ok {
			pc.IDs().Put(asBytes(id))
		} else {
			auto = append(auto, h)
		}
		return ast.WalkSkipChildren, nil
	})
	for _, h := range auto {
		h.SetAttributeString("id", pc.IDs().Generate([]byte(plainText(h, reader.Source())), ast.KindHeading))
	}
}

// rawHTMLIDs are the ids raw HTML gives its elements (and <a name>, which
// htmlChecker writes as an id).
func rawHTMLIDs(text []byte) []string {
	var ids []string
	z := xhtml.NewTokenizer(bytes.NewReader(text))
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return ids
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			for _, a := range tok.Attr {
				if k := strings.ToLower(a.Key); k == "id" || (k == "name" && tok.Data == "a") {
					ids = append(ids, a.Val)
				}
			}
		}
	}
}
