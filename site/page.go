package site

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"go.yaml.in/yaml/v3"
)

// Page is one content file, parsed.
type Page struct {
	File     string // path relative to the content root ("05-gather.md")
	Path     string // path as shown in errors ("content/05-gather.md")
	Slug     string
	URL      string // "/gather/"
	Title    string
	Summary  string
	Order    int
	Heading  string // the page's <h1>: its leading "# ..." line, or Title
	Headings []Heading
	Snippets []*Snippet

	orderLine, slugLine int
	hash                [sha256.Size]byte // of the source
	body                []byte
	bodyLine            int   // file line of body[0]
	newlines            []int // offsets of '\n' in body
	doc                 ast.Node
	links               []*linkRef
	codes               []*codeNode
	ids                 map[string]bool // heading and snippet ids, for #anchor checks
}

// Heading is a section heading of a page, for its table of contents.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// linkRef is a link in the Markdown whose destination the build resolves.
type linkRef struct {
	node *ast.Link
	dest string // as written
	line int
}

// line returns the file line of a byte offset in the body.
func (p *Page) line(off int) int {
	return p.bodyLine + sort.SearchInts(p.newlines, off)
}

// frontMatter holds the YAML keys a page may set.
type frontMatter struct {
	Title   string
	Order   int
	Summary string
	Slug    string
}

// yamlLineRE finds the line number in go-yaml's error messages.
var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// parseFrontMatter splits off and decodes the front matter. It returns the
// body and the file line where the body starts.
func parseFrontMatter(p *Page, src []byte, errs *ErrorList) (body []byte, bodyLine int) {
	first, rest, ok := bytes.Cut(src, []byte("\n"))
	if !ok || string(bytes.TrimRight(first, " \r")) != "---" {
		errs.errorf(p.Path, 1, "missing front matter: the file must start with a '---' line, then title, order and summary")
		return src, 1
	}
	// Find the closing '---' line.
	off, line := len(first)+1, 2
	fmStart := off
	for {
		l, r, found := bytes.Cut(rest, []byte("\n"))
		if string(bytes.TrimRight(l, " \r")) == "---" {
			body, bodyLine = r, line+1
			break
		}
		if !found {
			errs.errorf(p.Path, 1, "front matter is not closed by a '---' line")
			return nil, line + 1
		}
		off += len(l) + 1
		line++
		rest = r
	}
	yamlSrc := src[fmStart:off]

	var root yaml.Node
	if err := yaml.Unmarshal(yamlSrc, &root); err != nil {
		msg := cleanYAMLErr(err)
		if strings.Contains(msg, "mapping values are not allowed") {
			msg += ` (a value containing ": " must be quoted)`
		}
		errs.errorf(p.Path, yamlErrLine(err, 2), "malformed front matter: %s", msg)
		return body, bodyLine
	}
	var fm frontMatter
	seen := map[string]bool{}
	if len(root.Content) == 1 {
		m := root.Content[0]
		if m.Kind != yaml.MappingNode {
			errs.errorf(p.Path, m.Line+1, "malformed front matter: want key: value lines")
			return body, bodyLine
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			fileLine := v.Line + 1 // the YAML starts on file line 2
			var target any
			switch k.Value {
			case "title":
				target = &fm.Title
			case "order":
				target = &fm.Order
				p.orderLine = fileLine
			case "summary":
				target = &fm.Summary
			case "slug":
				target = &fm.Slug
				p.slugLine = fileLine
			default:
				errs.errorf(p.Path, k.Line+1, "unknown front matter key %q (allowed: title, order, summary, slug)", k.Value)
				continue
			}
			if seen[k.Value] {
				errs.errorf(p.Path, k.Line+1, "front matter key %q given twice", k.Value)
			}
			seen[k.Value] = true
			if v.Kind != yaml.ScalarNode {
				errs.errorf(p.Path, fileLine, "front matter %q: want a single value", k.Value)
				continue
			}
			if err := v.Decode(target); err != nil {
				errs.errorf(p.Path, fileLine, "front matter %q: %s", k.Value, cleanYAMLErr(err))
			}
		}
	}
	for _, key := range []string{"title", "order", "summary"} {
		if !seen[key] {
			errs.errorf(p.Path, 1, "missing %s in front matter", key)
		}
	}
	if seen["title"] && strings.TrimSpace(fm.Title) == "" {
		errs.errorf(p.Path, 1, "missing title in front matter (it is empty)")
	}
	p.Title = strings.TrimSpace(fm.Title)
	p.Summary = strings.TrimSpace(fm.Summary)
	p.Order = fm.Order
	if fm.Slug != "" {
		if !validName(fm.Slug) {
			errs.errorf(p.Path, p.slugLine, "invalid slug %q (use letters, digits, '-' and '_')", fm.Slug)
		}
		p.Slug = fm.Slug
	}
	return body, bodyLine
}

// yamlErrLine extracts the YAML line of a go-yaml error and maps it to a
// file line; the YAML text starts at file line fmLine.
func yamlErrLine(err error, fmLine int) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			// go-yaml reports parser errors ("did not find expected ...")
			// at the 0-based line where the construct began.
			if strings.Contains(err.Error(), "did not find expected") {
				n++
			}
			return n + fmLine - 1
		}
	}
	return 1
}

// cleanYAMLErr drops go-yaml's prefixes and its own line numbers, which
// refer to the YAML text rather than to the file.
func cleanYAMLErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n  ")
	s = strings.TrimPrefix(s, "yaml: ")
	s = yamlLineRE.ReplaceAllString(s, "")
	s = strings.TrimPrefix(strings.TrimSpace(s), ": ")
	return strings.Join(strings.Fields(s), " ")
}

// slugFromFile turns "05-gather.md" into "gather".
func slugFromFile(file string) string {
	name := strings.TrimSuffix(path.Base(file), ".md")
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
	p.Slug = slugFromFile(file)
	p.body, p.bodyLine = parseFrontMatter(p, src, &errs)
	if !validName(p.Slug) {
		errs.errorf(p.Path, 0, "file name gives an invalid slug %q: name files NN-slug.md with letters, digits, '-' and '_'", p.Slug)
	}
	p.URL = "/" + p.Slug + "/"
	for i, c := range p.body {
		if c == '\n' {
			p.newlines = append(p.newlines, i)
		}
	}
	pctx := parser.NewContext(parser.WithIDs(newIDs()))
	p.doc = md.Parser().Parse(text.NewReader(p.body), parser.WithContext(pctx))
	p.ids = map[string]bool{}
	p.collect(&errs)
	return p, errs
}

// collect walks the parsed document: headings, links and code fences.
func (p *Page) collect(errs *ErrorList) {
	// A leading "# Heading" becomes the page's <h1>, written by the layout
	// above the table of contents.
	p.Heading = p.Title
	if h, ok := p.doc.FirstChild().(*ast.Heading); ok && h.Level == 1 {
		p.Heading = plainText(h, p.body)
		p.doc.RemoveChild(p.doc, h)
	}
	var fences []*ast.FencedCodeBlock
	_ = ast.Walk(p.doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			id, _ := n.AttributeString("id")
			idStr := string(asBytes(id))
			p.Headings = append(p.Headings, Heading{Level: n.Level, ID: idStr, Text: plainText(n, p.body)})
			p.ids[idStr] = true
		case *ast.Link:
			p.links = append(p.links, &linkRef{node: n, dest: string(n.Destination), line: p.line(n.Pos())})
		case *ast.FencedCodeBlock:
			fences = append(fences, n)
			return ast.WalkSkipChildren, nil
		case *east.TableHeader:
			// Header cells name their column for screen readers (WCAG H63).
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				c.SetAttributeString("scope", []byte("col"))
			}
		}
		return ast.WalkContinue, nil
	})
	names := map[string]int{}
	for _, fb := range fences {
		line := p.line(fb.Pos())
		var info string
		if fb.Info != nil {
			info = string(fb.Info.Segment.Value(p.body))
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
			exp := Expected{Duration: fi.Duration, Tolerance: fi.Tolerance, Line: line}
			if exp.Duration > 0 && exp.Tolerance == 0 {
				exp.Tolerance = defaultTolerance
			}
			if fi.Tolerance > 0 && fi.Duration == 0 {
				errs.errorf(p.Path, line, "tolerance= without duration=")
			}
			for i, l := range strings.SplitAfter(code.String(), "\n") {
				if l == "" {
					continue // after the final newline
				}
				l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
				exp.Lines = append(exp.Lines, parseExpectedLine(l, line+1+i))
			}
			prev.Snippet.Expected = exp
			parent.RemoveChild(parent, fb)
			continue
		}
		cn := &codeNode{Lang: fi.Lang, Code: code.String(), Line: line}
		if fi.Run {
			if first, dup := names[fi.Name]; dup && fi.Name != "" {
				errs.errorf(p.Path, line, "duplicate snippet name %q (first used on line %d)", fi.Name, first)
			}
			names[fi.Name] = line
			cn.Snippet = &Snippet{File: p.File, Line: line, Page: p.URL, Name: fi.Name, Compare: fi.Compare, Code: cn.Code}
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
		pair := &pairNode{}
		parent.ReplaceChild(parent, cn, pair)
		parent.RemoveChild(parent, next)
		pair.AppendChild(pair, cn)
		pair.AppendChild(pair, next)
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
			b.Write(c.Segment.Value(src))
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

// ids generates heading ids: lower-case words joined by '-', unique per page
// and never equal to an id the layout uses.
type ids struct{ used map[string]bool }

// layoutIDs are ids the page layout uses; headings get other ones.
var layoutIDs = []string{"main", "sidebar", "nav-title", "toc", "toc-title", "menu", "top"}

func newIDs() *ids {
	s := &ids{used: map[string]bool{}}
	for _, id := range layoutIDs {
		s.used[id] = true
	}
	return s
}

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

func (s *ids) Put(value []byte) { s.used[string(value)] = true }

// loadPages reads and parses every *.md file at the root of fsys and checks
// what spans pages: unique order and slug, internal links. display is
// prefixed to file names in errors.
func loadPages(fsys fs.FS, display string, md goldmark.Markdown) ([]*Page, error) {
	files, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, fmt.Errorf("list content: %w", err)
	}
	if len(files) == 0 {
		return nil, errNoContent
	}
	var errs ErrorList
	pages := make([]*Page, 0, len(files))
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read content: %w", err)
		}
		p, perrs := parsePage(f, path.Join(display, f), src, md)
		errs = append(errs, perrs...)
		pages = append(pages, p)
	}
	sortPages(pages)
	errs = append(errs, checkPages(pages)...)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return pages, nil
}

// sortPages orders pages by their order, then file name.
func sortPages(pages []*Page) {
	slices.SortStableFunc(pages, func(a, b *Page) int {
		if a.Order != b.Order {
			return a.Order - b.Order
		}
		return strings.Compare(a.File, b.File)
	})
}

// checkPages checks what spans pages (order and slug unique, links resolve)
// and points internal links at the pages' URLs.
func checkPages(pages []*Page) ErrorList {
	var errs ErrorList
	byOrder := map[int]*Page{}
	bySlug := map[string]*Page{}
	byFile := map[string]*Page{}
	for _, p := range pages {
		byFile[p.File] = p
		if p.orderLine > 0 {
			if q, dup := byOrder[p.Order]; dup {
				errs.errorf(p.Path, p.orderLine, "duplicate order %d (also used by %s)", p.Order, q.Path)
			} else {
				byOrder[p.Order] = p
			}
		}
		if q, dup := bySlug[p.Slug]; dup {
			line := p.slugLine
			if line == 0 {
				line = 1
			}
			errs.errorf(p.Path, line, "duplicate slug %q (also used by %s)", p.Slug, q.Path)
		} else {
			bySlug[p.Slug] = p
		}
	}
	for _, p := range pages {
		for _, l := range p.links {
			url, msg := resolveLink(p, l.dest, byFile)
			if msg != "" {
				errs.errorf(p.Path, l.line, "%s", msg)
				continue
			}
			l.node.Destination = []byte(url)
		}
	}
	return errs
}

// resolveLink maps a link as written to its URL, or explains why it is
// broken. External and absolute links are left alone.
func resolveLink(p *Page, dest string, byFile map[string]*Page) (url, problem string) {
	if dest == "" || strings.Contains(dest, ":") || strings.HasPrefix(dest, "/") {
		return dest, ""
	}
	file, frag, _ := strings.Cut(dest, "#")
	target := p
	if file != "" {
		if !strings.HasSuffix(file, ".md") {
			return dest, "" // a relative link to something other than a page
		}
		t, ok := byFile[path.Clean(path.Join(path.Dir(p.File), file))]
		if !ok {
			return "", fmt.Sprintf("broken link %q: no page %s", dest, file)
		}
		target = t
	}
	if frag != "" && !target.ids[frag] {
		return "", fmt.Sprintf("broken link %q: %s has no heading or snippet with id %q", dest, target.File, frag)
	}
	switch {
	case file == "":
		return "#" + frag, ""
	case frag == "":
		return target.URL, ""
	default:
		return target.URL + "#" + frag, ""
	}
}
