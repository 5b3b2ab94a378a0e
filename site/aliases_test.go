package site

import (
	"context"
	"strings"
	"testing"
)

// TestAliases: front matter aliases write a page at each old path that
// sends the reader on, a link to an old path is good, and /_redirects
// lists them with playdoc.toml's redirects for Netlify.
func TestAliases(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Redirects = map[string]string{"/from-config/": "/a/"}
	cfg.Content = memContent(map[string]string{
		"01-a.md":     "---\ntitle: A\norder: 1\nsummary: s\naliases: [\"/old-a/\", /older/a.html]\n---\nSee [the old B](/old-b/).\n",
		"g/_index.md": "---\ntitle: G\norder: 2\nsummary: s\n---\n",
		"g/01-b.md":   "---\ntitle: B\norder: 1\nsummary: s\naliases: /old-b/\n---\nText.\n",
	})
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for path, to := range map[string]string{"/old-a/index.html": "/a/", "/older/a.html": "/a/", "/old-b/index.html": "/g/b/", "/from-config/index.html": "/a/"} {
		f, ok := s.Files[path]
		if !ok {
			t.Errorf("no redirect page %s", path)
			continue
		}
		if want := `<meta http-equiv="refresh" content="0; url=` + to + `">`; !strings.Contains(string(f.Body), want) {
			t.Errorf("%s lacks %s", path, want)
		}
	}
	want := "/from-config/ /a/ 301!\n/old-a/ /a/ 301!\n/old-b/ /g/b/ 301!\n/older/a.html /a/ 301!\n"
	if f := s.Files["/_redirects"]; f == nil || !strings.HasSuffix(string(f.Body), want) {
		t.Errorf("/_redirects:\n%v\nwant it to end with:\n%s", f, want)
	}
	checkSiteHTML(t, s)
}

func TestAliasErrors(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Redirects = map[string]string{"/taken/": "/a/"}
	cfg.ConfigFile = "playdoc.toml"
	cfg.Content = memContent(map[string]string{
		"01-a.md": "---\ntitle: A\norder: 1\nsummary: s\naliases:\n  - /b/\n  - old\n  - /taken/\n---\nText.\n",
		"02-b.md": "---\ntitle: B\norder: 2\nsummary: s\naliases: [/twice/]\n---\nText.\n",
		"03-c.md": "---\ntitle: C\norder: 3\nsummary: s\naliases: [/twice/]\n---\nText.\n",
	})
	_, err := New(cfg).Build(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`content/01-a.md:7: front matter "aliases": "old" is not a URL path such as /old-page/`,
		`content/01-a.md:8: alias /taken/ is already a redirect (playdoc.toml)`,
		`content/03-c.md:5: alias /twice/ is already a redirect (content/02-b.md:5)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	// An alias where a page is: reported once the pages are rendered.
	cfg.Redirects = nil
	cfg.Content = memContent(map[string]string{
		"01-a.md": "---\ntitle: A\norder: 1\nsummary: s\naliases: [/b/]\n---\nText.\n",
		"02-b.md": page("B", 2, "Text.\n"),
	})
	_, err = New(cfg).Build(context.Background())
	if want := "content/01-a.md:5: redirect from /b/: the site has a page there"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
