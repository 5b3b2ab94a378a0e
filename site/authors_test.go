package site

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"playdoc/internal/txtarfs"
)

// TestAuthors builds each site of testdata/authors/*.txtar: pages written
// the way authors write them (encodings, every kind of link, raw HTML,
// images and files beside the pages).
func TestAuthors(t *testing.T) { testArchives(t, "testdata/authors") }

// TestContentErrors builds each site of testdata/errors/*.txtar: each kind
// of content mistake is reported as file:line: message, all of them at
// once, in order.
func TestContentErrors(t *testing.T) { testArchives(t, "testdata/errors") }

// testArchives builds the site of each archive of dir and checks either
// its exact file:line errors or what its files contain; a site that builds
// must also pass the HTML structure checks.
func testArchives(t *testing.T, dir string) {
	archives, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil || len(archives) == 0 {
		t.Fatalf("no archives: %v", err)
	}
	for _, name := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			content, want, err := txtarfs.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			cfg := fixtureConfig()
			cfg.Content = content
			s, err := New(cfg).Build(context.Background())
			if wantErrs, ok := want["want/errors"]; ok {
				var list ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("err = %v, want an ErrorList", err)
				}
				if got, want := list.Error(), strings.TrimSpace(wantErrs); got != want {
					t.Errorf("errors:\n%s\nwant:\n%s", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			checkSiteHTML(t, s)
			for key, lines := range want {
				neg := strings.HasPrefix(key, "notwant/")
				p := "/" + strings.TrimPrefix(strings.TrimPrefix(key, "notwant/"), "want/")
				f, ok := s.Files[p]
				if !ok {
					t.Errorf("no file %s; files: %v", p, s.Paths())
					continue
				}
				for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
					if l = strings.TrimSpace(l); l == "" {
						continue
					}
					if has := bytes.Contains(f.Body, []byte(l)); has == neg {
						t.Errorf("%s: contains %q = %v, want %v", p, l, has, !neg)
					}
				}
			}
		})
	}
}

// TestEncodingsRenderAlike checks that a page saved with a byte order mark
// and CRLF line endings builds into exactly the same site as the same page
// saved with LF and no mark: no stray CR in the HTML or in the snippets.
func TestEncodingsRenderAlike(t *testing.T) {
	lf := "---\ntitle: \"A: page\"\norder: 1\nsummary: s\n---\n## Section\n\nText <kbd>x</kbd>\nwrapped.\n\n" +
		"| a | b |\n|---|---|\n| 1 | 2 |\n\n```go run name=hello\npackage main\n\nfunc main() { println(\"hi\") }\n```\n```output\nstderr: hi\n```\n"
	crlf := "\xef\xbb\xbf" + strings.ReplaceAll(lf, "\n", "\r\n")
	build := func(src string) *Site {
		cfg := fixtureConfig()
		cfg.Content = memContent(map[string]string{"01-a.md": src})
		s, err := New(cfg).Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := build(lf), build(crlf)
	for _, p := range a.Paths() {
		if !bytes.Equal(a.Files[p].Body, b.Files[p].Body) {
			t.Errorf("%s differs between LF and BOM+CRLF:\n%s", p, firstDiff(string(b.Files[p].Body), string(a.Files[p].Body)))
		}
	}
	if len(b.Snippets) != 1 || strings.Contains(b.Snippets[0].Code, "\r") || b.Snippets[0].Code != a.Snippets[0].Code {
		t.Errorf("snippets %+v, want the LF one's", b.Snippets)
	}
}

// TestLinkToRedirect checks that a link to an old URL the site redirects
// (playdoc.toml's [redirects]) is good, and broken without the redirect.
func TestLinkToRedirect(t *testing.T) {
	content := memContent(map[string]string{
		"01-a.md": page("A", 1, "See [the old page](/old/#part) and [again](../old).\n"),
		"02-b.md": page("B", 2, "## Part\n"),
	})
	cfg := fixtureConfig()
	cfg.Content = content
	cfg.Redirects = map[string]string{"/old/": "/b/"}
	if _, err := New(cfg).Build(context.Background()); err != nil {
		t.Errorf("with the redirect: %v", err)
	}
	cfg.Redirects = nil
	_, err := New(cfg).Build(context.Background())
	want := `content/01-a.md:6: broken link "../old": no page at /old (the link is relative to the page's URL /a/)
content/01-a.md:6: broken link "/old/#part": no page at /old/`
	if err == nil || err.Error() != want {
		t.Errorf("without the redirect: %v\nwant:\n%s", err, want)
	}
}

// TestTableAlignClassesStyled checks that site.css aligns each class a
// table cell may get from its column's alignment (table-align.txtar).
func TestTableAlignClassesStyled(t *testing.T) {
	css, err := os.ReadFile(filepath.Join(staticDir, "site.css"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"left", "center", "right"} {
		if rule := ".align-" + a + " { text-align: " + a + "; }"; !bytes.Contains(css, []byte(rule)) {
			t.Errorf("site.css lacks %q", rule)
		}
	}
}
