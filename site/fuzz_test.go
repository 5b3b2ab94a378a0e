package site

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/net/html"
	"golang.org/x/tools/txtar"
)

// The fuzz tests feed generated pages and link destinations to the whole
// loader (front matter, Markdown, fence attributes, raw HTML, link and file
// resolution) and the renderer. Whatever the input: no panic, every
// rejection names file:line, and a page that builds renders balanced HTML
// with nothing the site's CSP would block. scripts/fuzz.sh (which CI runs)
// runs each for a bounded time; plain `go test` runs their seeds.

// fuzzSite is a content folder with a page under test (01-a.md) and a
// page, an image and a file for it to refer to; one Builder serves every
// input of a fuzz worker, as `playdoc serve` does across saves.
type fuzzSite struct {
	content fstest.MapFS
	b       *Builder
}

func newFuzzSite(tb testing.TB) *fuzzSite {
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
		tb.Fatal(err)
	}
	content := fstest.MapFS{
		"02-b.md":         {Data: []byte("---\ntitle: B\norder: 2\nsummary: s\n---\n## Übersicht\n\n## Install steps\n")},
		"img/diagram.png": {Data: img.Bytes()},
		"files/data.csv":  {Data: []byte("a,b\n")},
	}
	cfg := fixtureConfig()
	cfg.Content = content
	cfg.Workers = 1
	return &fuzzSite{content: content, b: New(cfg)}
}

// check builds the site with page as 01-a.md and checks the invariants.
func (fs *fuzzSite) check(t *testing.T, page []byte) {
	fs.content["01-a.md"] = &fstest.MapFile{Data: page}
	s, err := fs.b.Build(context.Background())
	if err != nil {
		var list ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("not a content error: %v", err)
		}
		for _, e := range list {
			if !strings.HasPrefix(e.File, "content/") || e.Line < 1 || e.Msg == "" {
				t.Fatalf("rejection without file:line: %q", e.Error())
			}
		}
		return
	}
	for _, p := range s.Pages {
		if p.File != "01-a.md" {
			continue
		}
		f := s.Files[p.URL+"index.html"]
		if f == nil {
			t.Fatalf("page %s built but not rendered", p.URL)
		}
		if msg := htmlProblem(f.Body); msg != "" {
			t.Fatalf("%s: %s", p.URL, msg)
		}
	}
}

// htmlProblem checks a rendered page: tags balanced, no inline script,
// style or event handler.
func htmlProblem(page []byte) string {
	z := html.NewTokenizer(bytes.NewReader(page))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return z.Err().Error()
			}
			if len(stack) > 0 {
				return "unclosed <" + strings.Join(stack, "> <") + ">"
			}
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			for _, a := range tok.Attr {
				if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
					return "inline " + a.Key + "= on <" + tok.Data + ">"
				}
			}
			if tok.Data == "style" || (tok.Data == "script" && !hasAttr(tok, "src")) {
				return "inline <" + tok.Data + ">"
			}
			if !voidElements[tok.Data] && tt == html.StartTagToken {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			name := z.Token().Data
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return "</" + name + "> does not close the open <" + strings.Join(stack, "> <") + ">"
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func hasAttr(tok html.Token, key string) bool {
	for _, a := range tok.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// seedPages are the tutorial's pages, the fixture's and the pages of the
// txtar archives of testdata/authors.
func seedPages(f *testing.F) [][]byte {
	var out [][]byte
	for _, glob := range []string{filepath.Join(contentDir, "*.md"), filepath.Join(contentDir, "*", "*.md"), "testdata/fixture/content/*.md"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, data)
		}
	}
	archives, _ := filepath.Glob("testdata/authors/*.txtar")
	for _, name := range archives {
		ar, err := txtar.ParseFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range ar.Files {
			if strings.HasSuffix(file.Name, ".md") {
				out = append(out, file.Data)
			}
		}
	}
	if len(out) < 20 {
		f.Fatalf("only %d seed pages: is the tutorial in %s?", len(out), contentDir)
	}
	return out
}

func FuzzPage(f *testing.F) {
	for _, p := range seedPages(f) {
		f.Add(p)
	}
	f.Add([]byte("\xef\xbb\xbf---\r\ntitle: BOM\r\norder: 1\r\nsummary: s\r\n---\r\nText\r\n"))
	f.Add([]byte("---\ntitle: A\norder: 1\nsummary: s\n---\nPress <kbd>Ctrl</kbd>+<kbd>C</kbd>.\n\n<details><summary>Why a WaitGroup?</summary>x</details>\n\n| column<br>one |\n|---|\n| a |\n"))
	fs := newFuzzSite(f)
	f.Fuzz(func(t *testing.T, page []byte) {
		fs.check(t, page)
	})
}

// FuzzLink puts one destination in every place a page can refer to
// something: a Markdown link, an image, <a href> and <img src>.
func FuzzLink(f *testing.F) {
	for _, d := range []string{
		"/no-such-page/", "../no-such/", "/b/#no-such-heading", "02-b.md#%C3%BCbersicht",
		"#%C3%BCbersicht", "/b/#install-steps", "../b/", "/", "../", "/404.html", "/index.html#main",
		"img/diagram.png", "img/nothere.png", "files/data.csv", "/files/data.csv#x", "%zz",
		"javascript:alert(1)", "https://example.com/x.png", "data:image/png;base64,AA", "./", ".",
		"?q", "#", "02-b.md", "/02-b.md", "..\\b\\", "<img/diagram.png>", "img/diagram.png \"title\"",
	} {
		f.Add(d)
	}
	fs := newFuzzSite(f)
	f.Fuzz(func(t *testing.T, dest string) {
		attr := html.EscapeString(dest)
		page := "---\ntitle: A\norder: 1\nsummary: s\n---\n## Here\n\n[link](" + dest + ") ![image](" + dest + ")\n\n" +
			`<a href="` + attr + `">raw</a> <img src="` + attr + `" alt="raw">` + "\n"
		fs.check(t, []byte(page))
	})
}
