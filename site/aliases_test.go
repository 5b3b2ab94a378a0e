package site

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestAliases: front matter aliases write a page at each old path that
// sends the reader on, a link to an old path is good, and /_redirects
// lists them with playdoc.toml's redirects for Netlify.
func TestAliases(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Redirects = map[string]string{"/from-config/": "/a/"}
	cfg.Content = archive(t, "aliases", "ok")
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
	bad := archive(t, "aliases", "bad")
	cfg.Content = bad
	_, err := New(cfg).Build(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		fmt.Sprintf(`content/01-a.md:%d: front matter "aliases": "old" is not a URL path such as /old-page/`, lineOf(t, bad, "01-a.md", "  - old")),
		fmt.Sprintf(`content/01-a.md:%d: alias /taken/ is already a redirect (playdoc.toml)`, lineOf(t, bad, "01-a.md", "  - /taken/")),
		fmt.Sprintf(`content/03-c.md:%d: alias /twice/ is already a redirect (content/02-b.md:%d)`,
			lineOf(t, bad, "03-c.md", "aliases: [/twice/]"), lineOf(t, bad, "02-b.md", "aliases: [/twice/]")),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	// An alias where a page is: reported once the pages are rendered.
	cfg.Redirects = nil
	onPage := archive(t, "aliases", "on-a-page")
	cfg.Content = onPage
	_, err = New(cfg).Build(context.Background())
	if want := fmt.Sprintf("content/01-a.md:%d: redirect from /b/: the site has a page there", lineOf(t, onPage, "01-a.md", "aliases: [/b/]")); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
