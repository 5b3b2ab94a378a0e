package site

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestContentHTML checks the structure of every generated page of the
// tutorial: it has a doctype and a language, one <main>,
// one <h1>, a skip link to main, unique ids, labelled form controls and
// navigation landmarks, no inline style or script, and every internal
// link, anchor and asset it refers to exists in the site.
func TestContentHTML(t *testing.T) {
	s, err := New(Config{Content: os.DirFS(contentDir), ContentName: "content", Static: os.DirFS(staticDir)}).Build(context.Background())
	if err != nil {
		t.Fatalf("content does not build:\n%v", err)
	}
	checkSiteHTML(t, s)
}

func TestFixtureHTML(t *testing.T) {
	s, err := New(fixtureConfig()).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkSiteHTML(t, s)
}

func checkSiteHTML(t *testing.T, s *Site) {
	t.Helper()
	docs := map[string]*html.Node{}
	ids := map[string]map[string]bool{}
	for _, p := range s.Paths() {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		body := s.Files[p].Body
		if !bytes.HasPrefix(body, []byte("<!doctype html>")) {
			t.Errorf("%s: no <!doctype html>", p)
		}
		doc, err := html.Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		docs[p] = doc
		ids[p] = map[string]bool{}
		for n := range doc.Descendants() {
			if id := attr(n, "id"); id != "" {
				if ids[p][id] {
					t.Errorf("%s: duplicate id %q", p, id)
				}
				ids[p][id] = true
			}
		}
	}
	for p, doc := range docs {
		count := map[string]int{}
		labels := map[string]bool{}
		var inputs []string
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			count[n.Data]++
			if attr(n, "style") != "" {
				t.Errorf("%s: inline style on <%s>", p, n.Data)
			}
			switch n.Data {
			case "html":
				if attr(n, "lang") == "" {
					t.Errorf("%s: <html> without lang", p)
				}
			case "script":
				if attr(n, "src") == "" || n.FirstChild != nil {
					t.Errorf("%s: inline script", p)
				}
			case "style":
				t.Errorf("%s: <style> element", p)
			case "img":
				if _, ok := attrOK(n, "alt"); !ok {
					t.Errorf("%s: <img> without alt", p)
				}
			case "label":
				labels[attr(n, "for")] = true
			case "input":
				inputs = append(inputs, attr(n, "id"))
			case "nav":
				if attr(n, "aria-label") == "" && attr(n, "aria-labelledby") == "" {
					t.Errorf("%s: <nav> without a label", p)
				}
			}
			for _, a := range []string{"href", "src"} {
				ref, ok := attrOK(n, a)
				if !ok {
					continue
				}
				// Followed as a browser does: resolved from the page's
				// URL, percent-decoded.
				u, err := url.Parse(ref)
				if err != nil {
					t.Errorf("%s: <%s %s=%q>: %v", p, n.Data, a, ref, err)
					continue
				}
				if u.Scheme != "" || u.Host != "" {
					continue
				}
				target := (&url.URL{Path: p}).ResolveReference(u)
				targetPage := p
				if u.Path != "" {
					f, found := s.Lookup(target.Path)
					if !found {
						t.Errorf("%s: <%s %s=%q>: no such file in the site", p, n.Data, a, ref)
						continue
					}
					targetPage = f.Path
				}
				if frag := u.Fragment; frag != "" && frag != "top" && strings.HasSuffix(targetPage, ".html") && !ids[targetPage][frag] {
					t.Errorf("%s: <%s %s=%q>: no id %q in %s", p, n.Data, a, ref, frag, targetPage)
				}
			}
		}
		for _, id := range inputs {
			if !labels[id] {
				t.Errorf("%s: <input id=%q> without a label", p, id)
			}
		}
		for el, want := range map[string]int{"main": 1, "h1": 1, "title": 1, "header": 1, "footer": 1} {
			if count[el] != want {
				t.Errorf("%s: %d <%s>, want %d", p, count[el], el, want)
			}
		}
		if !ids[p]["main"] {
			t.Errorf("%s: the skip link's target #main is missing", p)
		}
	}
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}
