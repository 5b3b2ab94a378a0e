package site

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"

	"playdoc/snippet"
)

// Page is one content file, parsed.
type Page struct {
	File string // path relative to the content root ("asyncio/05-gather.md")
	Path string // path as shown in errors ("content/asyncio/05-gather.md")
	Slug string // unique within its section
	URL  string // "/asyncio/gather/"; a section's _index.md: "/asyncio/"
	// Section is the folder the page is in; nil for a page at the root.
	// For a section's _index.md, it is that section.
	Section *Section
	// IsIndex marks a section's _index.md (its title, order and intro).
	IsIndex  bool
	Title    string
	Summary  string
	Order    int
	Heading  string // the page's <h1>: its leading "# ..." line, or Title
	Headings []Heading
	Snippets []*snippet.Snippet
	// LastMod is when the page last changed: front matter's lastmod,
	// else Config.Dates'; zero when unknown.
	LastMod time.Time

	lastmodFM time.Time // front matter's lastmod
	// Aliases are the page's old URL paths (front matter aliases): each
	// gets a page that sends the reader on, like Config.Redirects.
	Aliases []Alias

	orderLine, slugLine int
	hash                [sha256.Size]byte // of the source
	body                []byte
	bodyLine            int   // file line of body[0]
	newlines            []int // offsets of '\n' in body
	doc                 ast.Node
	refs                []ref                 // links, images and raw HTML URLs, in document order
	refOf               map[ast.Node]int      // Markdown link and image nodes → index in refs
	raw                 map[ast.Node]*rawFrag // raw HTML nodes, checked
	codes               []*codeNode
	ids                 map[string]bool // heading and snippet ids, for #anchor checks
	// treeReleased: doc, refOf and raw were dropped after the checks
	// (BuildTo); reparse gives them back.
	treeReleased bool
	searchText   []byte // pageTextJSON, kept when the tree is released
	// tmpl is the body, rendered but for its holes (see bodyTemplate):
	// made when the tree is released, or when the page is first rendered.
	tmpl *bodyTemplate
	// fromCache: the page was not parsed but read from the page cache
	// (see pagecache.go); it has no body, and no HTML of its code blocks.
	fromCache bool
	termsKey  [sha256.Size]byte // termsKey(p) once known; zero before
}

// Alias is an old URL path of a page, at a line of its front matter.
type Alias struct {
	Path string
	Line int
}

// Heading is a section heading of a page, for its table of contents.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// line returns the file line of a byte offset in the body.
func (p *Page) line(off int) int {
	return p.bodyLine + sort.SearchInts(p.newlines, off)
}

// indexFile is the file that gives a section its title, order and intro.
const indexFile = "_index.md"

// slugFromFile turns "05-gather.md" into "gather" (and a folder "01-asyncio"
// into "asyncio").
func slugFromFile(file string) string {
	// Spaces in a file name ("01-getting started.md") become dashes.
	name := strings.Join(strings.Fields(strings.TrimSuffix(path.Base(file), ".md")), "-")
	i := 0
	for i < len(name) && '0' <= name[i] && name[i] <= '9' {
		i++
	}
	if i > 0 && i < len(name) && (name[i] == '-' || name[i] == '_') {
		return name[i+1:]
	}
	return name
}

// parsePage parses one content file: front matter, Markdown, code fences.
func parsePage(file, display string, src []byte, md goldmark.Markdown) (*Page, ErrorList) {
	var errs ErrorList
	p := &Page{File: file, Path: display, hash: sha256.Sum256(src)}
	// Editors may save "UTF-8 with BOM"; the mark is not part of the text.
	src = bytes.TrimPrefix(src, utf8BOM)
	src = checkEncoding(display, src, &errs)
	dir := path.Dir(file)
	p.IsIndex = path.Base(file) == indexFile
	p.Slug = slugFromFile(file)
	p.body, p.bodyLine = parseFrontMatter(p, src, &errs)
	if bytes.IndexByte(p.body, '\r') >= 0 {
		// A page saved with CRLF renders as with LF: its snippets' code,
		// which readers run and copy, has no CR (lines do not move).
		p.body = bytes.ReplaceAll(p.body, []byte("\r\n"), []byte("\n"))
	}
	switch {
	case p.IsIndex:
		p.Slug = slugFromFile(dir) // a section's slug is its folder's
		p.URL = "/" + p.Slug + "/"
	case dir == ".":
		p.URL = "/" + p.Slug + "/"
	default:
		p.URL = "/" + slugFromFile(dir) + "/" + p.Slug + "/"
	}
	if p.slugLine == 0 && !validSlug(p.Slug) {
		errs.errorf(p.Path, 1, "file name gives an invalid slug %q: name files NN-slug.md and folders NN-slug with letters, digits, '-' and '_', or set slug: in the front matter", p.Slug)
	}
	for i, c := range p.body {
		if c == '\n' {
			p.newlines = append(p.newlines, i)
		}
	}
	pctx := parser.NewContext(parser.WithIDs(newIDs()))
	p.doc = md.Parser().Parse(text.NewReader(p.body), parser.WithContext(pctx))
	p.ids = map[string]bool{}
	p.collect(&errs)
	p.checkReferences(pctx, &errs)
	return p, errs
}

// checkHeadingAttrs reports what a heading's attributes ({#id .class},
// which goldmark reads after the text) may not give: an id that another
// heading, the layout or a snippet already has, or an attribute other than
// the id and classes (a style or an event handler would be blocked by the
// site's Content-Security-Policy). Generated ids are unique, so a repeated
// id is one an author gave.
func (p *Page) checkHeadingAttrs(n *ast.Heading, id string, errs *ErrorList) {
	line := p.line(n.Pos())
	switch {
	case p.ids[id]:
		errs.errorf(p.Path, line, "heading id %q is already used on this page: give each heading its own {#id}", id)
	case slices.Contains(layoutIDs, id):
		errs.errorf(p.Path, line, "heading id %q is one the page layout uses: choose another {#id}", id)
	case strings.HasPrefix(id, "snippet-"):
		errs.errorf(p.Path, line, "heading id %q: ids starting with snippet- name runnable snippets, choose another {#id}", id)
	}
	for _, a := range n.Attributes() {
		if name := string(a.Name); name != "id" && name != "class" {
			errs.errorf(p.Path, line, "heading attribute %q is not supported: a heading takes {#id} and {.class} only", name)
		}
	}
}

// checkEncoding reports a file that is not UTF-8: UTF-16 by its byte
// order mark (Windows editors' "Unicode"), or the first byte that is not
// UTF-8 (a Latin-1 "é") at its line. A UTF-16 file is returned as UTF-8,
// so that the page's other mistakes are found too, and not its encoding
// again as "missing front matter".
func checkEncoding(display string, src []byte, errs *ErrorList) []byte {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(src, []byte{0xff, 0xfe}):
		order = binary.LittleEndian
	case bytes.HasPrefix(src, []byte{0xfe, 0xff}):
		order = binary.BigEndian
	}
	if order != nil {
		errs.errorf(display, 1, "the file is UTF-16 text (its byte order mark says so): save it as UTF-8")
		units := make([]uint16, (len(src)-2)/2)
		for i := range units {
			units[i] = order.Uint16(src[2+2*i:])
		}
		return []byte(string(utf16.Decode(units)))
	}
	if utf8.Valid(src) {
		return src
	}
	for off := 0; off < len(src); {
		r, size := utf8.DecodeRune(src[off:])
		if r == utf8.RuneError && size == 1 {
			errs.errorf(display, 1+bytes.Count(src[:off], []byte("\n")), "the file is not UTF-8 text (byte 0x%02x): save it as UTF-8", src[off])
			break
		}
		off += size
	}
	return src
}

// utf8BOM is the byte order mark some editors write at the start of a
// UTF-8 file.
var utf8BOM = []byte("\xef\xbb\xbf")

// eagerBlocks is how many top-level blocks at the start of a page are
// taken to be above the fold: images further down load lazily.
const eagerBlocks = 3

// collect walks the parsed document: headings, links, images, raw HTML
// and code fences.
func (p *Page) collect(errs *ErrorList) {
	// A leading "# Heading" becomes the page's <h1>, written by the layout
	// above the table of contents.
	p.Heading = p.Title
	if h, ok := p.doc.FirstChild().(*ast.Heading); ok && h.Level == 1 {
		p.Heading = plainText(h, p.body)
		p.doc.RemoveChild(p.doc, h)
	}
	var quotes []*ast.Blockquote
	// fences are the code blocks: fenced ones, and indented ones, which
	// are written as a fence without a language would be.
	var fences []ast.Node
	top := map[ast.Node]int{}
	i := 0
	for c := p.doc.FirstChild(); c != nil; c = c.NextSibling() {
		top[c] = i
		i++
	}
	below := func(n ast.Node) bool {
		for n.Parent() != nil && n.Parent() != p.doc {
			n = n.Parent()
		}
		return top[n] >= eagerBlocks
	}
	p.refOf = map[ast.Node]int{}
	p.raw = map[ast.Node]*rawFrag{}
	hc := &htmlChecker{p: p, errs: errs}
	_ = ast.Walk(p.doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			if n.Type() == ast.TypeBlock {
				hc.leave(n)
			}
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Blockquote:
			quotes = append(quotes, n)
		case *ast.Heading:
			id, _ := n.AttributeString("id")
			idStr := string(asBytes(id))
			p.checkHeadingAttrs(n, idStr, errs)
			p.Headings = append(p.Headings, Heading{Level: n.Level, ID: idStr, Text: plainText(n, p.body)})
			p.ids[idStr] = true
		case *ast.Link:
			p.refOf[n] = len(p.refs)
			p.refs = append(p.refs, ref{kind: refLink, dest: string(n.Destination), line: p.line(n.Pos())})
		case *ast.Image:
			p.refOf[n] = len(p.refs)
			p.refs = append(p.refs, ref{kind: refImage, dest: string(n.Destination), line: p.line(n.Pos()),
				noAlt: plainText(n, p.body) == "", lazy: below(n)})
		case *ast.RawHTML, *ast.HTMLBlock:
			// Elements must close in the Markdown block that holds the
			// tag: an inline tag's paragraph, an HTML block's list item or
			// quote (nil: the page).
			block := n.Parent()
			for block != nil && block.Type() != ast.TypeBlock {
				block = block.Parent()
			}
			text, start := fragText(n, p.body)
			p.raw[n] = hc.fragment(text, p.line(start), block, below(n))
			return ast.WalkSkipChildren, nil
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			fences = append(fences, n)
			return ast.WalkSkipChildren, nil
		case *east.TableCell:
			// site.css aligns a column's cells by class (see extensions).
			if n.Alignment != east.AlignNone {
				n.SetAttributeString("class", []byte("align-"+n.Alignment.String()))
			}
		case *east.TableHeader:
			// Header cells name their column for screen readers (WCAG H63).
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				c.SetAttributeString("scope", []byte("col"))
			}
		}
		return ast.WalkContinue, nil
	})
	hc.finish()
	p.callouts(quotes)
	names := map[string]int{}
	for _, fb := range fences {
		line := p.line(fb.Pos())
		var info string
		if f, ok := fb.(*ast.FencedCodeBlock); ok && f.Info != nil {
			info = string(f.Info.Segment.Value(p.body))
		}
		fi, msgs := parseFenceInfo(info)
		for _, m := range msgs {
			errs.errorf(p.Path, line, "%s", m)
		}
		var code strings.Builder
		lines := fb.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			code.Write(seg.Value(p.body))
		}
		parent := fb.Parent()
		if fi.Lang == "output" {
			prev, _ := fb.PreviousSibling().(*codeNode)
			if prev == nil || prev.Snippet == nil || prev.Snippet.Expected.Line != 0 {
				errs.errorf(p.Path, line, "output block without a ```go run block directly before it")
				parent.RemoveChild(parent, fb)
				continue
			}
			exp := snippet.Expected{Duration: fi.Duration, Tolerance: fi.Tolerance, Line: line, CheckRaces: fi.RacesSet, Races: fi.Races}
			if fi.RacesSet && !prev.Snippet.Race {
				errs.errorf(p.Path, line, "race= needs a ```go run block with the race attribute before it")
			}
			if exp.Duration > 0 && exp.Tolerance == 0 {
				exp.Tolerance = snippet.DefaultTolerance
			}
			if fi.Tolerance > 0 && fi.Duration == 0 {
				errs.errorf(p.Path, line, "tolerance= without duration=")
			}
			for i, l := range strings.SplitAfter(code.String(), "\n") {
				if l == "" {
					continue // after the final newline
				}
				l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
				exp.Lines = append(exp.Lines, snippet.ParseExpectedLine(l, line+1+i))
			}
			prev.Snippet.Expected = exp
			parent.RemoveChild(parent, fb)
			continue
		}
		cn := &codeNode{Lang: fi.Lang, Code: code.String(), Line: line, LineNos: fi.LineNos, Tabs: fi.Tabs}
		if len(fi.HL) > 0 {
			n := codeLines(cn.Code)
			cn.HL = make([]bool, n)
			for _, r := range fi.HL {
				if r.To > n {
					errs.errorf(p.Path, line, "hl= names line %d, but the block has %s", r.To, plural(n, "line"))
					continue
				}
				for i := r.From; i <= r.To; i++ {
					cn.HL[i-1] = true
				}
			}
		}
		if fi.Run {
			if first, dup := names[fi.Name]; dup && fi.Name != "" {
				errs.errorf(p.Path, line, "duplicate snippet name %q (first used on line %d)", fi.Name, first)
			}
			names[fi.Name] = line
			cn.Snippet = &snippet.Snippet{File: p.File, Line: line, Page: p.URL, Name: fi.Name, Lang: fi.Lang, Compare: fi.Compare,
				Trace: fi.Trace, Race: fi.Race, Pair: fi.Pair, Code: cn.Code}
			p.Snippets = append(p.Snippets, cn.Snippet)
			p.ids[cn.Snippet.ID()] = true
		}
		parent.ReplaceChild(parent, fb, cn)
		p.codes = append(p.codes, cn)
	}
	for _, s := range p.Snippets {
		if s.Expected.Line == 0 {
			errs.errorf(p.Path, s.Line, "runnable snippet %q has no ```output block after it", s.Name)
		}
	}
	checkRunPairs(p, errs)
	// A python block directly followed by a go block is a pair.
	for _, cn := range p.codes {
		next, ok := cn.NextSibling().(*codeNode)
		if cn.Lang != "python" || !ok || next.Lang != "go" {
			continue
		}
		if _, inPair := cn.Parent().(*pairNode); inPair {
			continue
		}
		parent := cn.Parent()
		pair := &pairNode{Tabs: cn.Tabs || next.Tabs}
		parent.ReplaceChild(parent, cn, pair)
		parent.RemoveChild(parent, next)
		pair.AppendChild(pair, cn)
		pair.AppendChild(pair, next)
	}
	for _, cn := range p.codes {
		if _, inPair := cn.Parent().(*pairNode); cn.Tabs && !inPair {
			errs.errorf(p.Path, cn.Line, "tabs is for a ```python block directly followed by a ```go block (a pair); this %s block is not in one", cn.Lang)
		}
	}
}

// asBytes converts the value of a goldmark attribute to bytes.
func asBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}

// plainText is the text content of an inline tree.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			v := c.Segment.Value(src)
			if !c.IsRaw() { // code keeps its text as written
				v = util.UnescapePunctuations(util.ResolveNumericReferences(util.ResolveEntityNames(v)))
			}
			b.Write(v)
			if c.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			// its children are Text nodes, walked next
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// checkRunPairs reports pair= keys that do not join exactly one Python and
// one Go snippet of the page: "Run both" starts one of each.
func checkRunPairs(p *Page, errs *ErrorList) {
	byKey := map[string][]*snippet.Snippet{}
	var keys []string
	for _, s := range p.Snippets {
		if s.Pair == "" {
			continue
		}
		if _, seen := byKey[s.Pair]; !seen {
			keys = append(keys, s.Pair)
		}
		byKey[s.Pair] = append(byKey[s.Pair], s)
	}
	for _, k := range keys {
		group := byKey[k]
		langs := map[string]int{}
		for _, s := range group {
			langs[s.Lang]++
		}
		if len(group) == 2 && langs["python"] == 1 && langs["go"] == 1 {
			continue
		}
		last := group[len(group)-1]
		errs.errorf(p.Path, last.Line, "pair=%s joins %s (%d Python, %d Go); a pair is one ```python run and one ```go run", k, plural(len(group), "snippet"), langs["python"], langs["go"])
	}
}
