package site

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func sectionSite() map[string]string {
	return map[string]string{
		"01-start.md":             page("Start", 1, "Root page.\n"),
		"02-guide/_index.md":      page("The guide", 2, "Intro of the guide.\n"),
		"02-guide/01-setup.md":    page("Guide setup", 1, "Set up. See [the other setup](../03-ref/01-setup.md).\n"),
		"02-guide/02-run.md":      page("Guide run", 2, "Run.\n"),
		"03-ref/01-setup.md":      page("Reference setup", 1, "Same slug, other section.\n"),
		"03-ref/02-api.md":        page("API", 2, "API.\n"),
		"09-end.md":               page("End", 9, "The end.\n"),
		"02-guide/img/readme.txt": "not a page",
	}
}

// TestSections builds a site with two sections: URLs follow the folders,
// slugs repeat across sections, the sidebar opens only the current
// section, breadcrumbs lead home, and previous/next crosses sections.
func TestSections(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = memContent(sectionSite())
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, p := range s.Pages {
		urls = append(urls, p.URL)
	}
	want := []string{"/start/", "/guide/", "/guide/setup/", "/guide/run/", "/ref/", "/ref/setup/", "/ref/api/", "/end/"}
	if !slices.Equal(urls, want) {
		t.Fatalf("pages %v, want %v", urls, want)
	}
	setup := string(s.Files["/guide/setup/index.html"].Body)
	for _, w := range []string{
		`<nav class="breadcrumbs" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li><li><a href="/guide/">The guide</a></li><li><span aria-current="page">Guide setup</span></li></ol></nav>`,
		`<details open><summary>The guide</summary><ol data-section="/guide/"><li><a href="/guide/">Overview</a></li><li><a href="/guide/setup/" aria-current="page">Guide setup</a></li><li><a href="/guide/run/">Guide run</a></li></ol></details>`,
		`<a href="/ref/setup/">the other setup</a>`,
		`<a class="pager-prev" href="/guide/" rel="prev">`,
	} {
		if !strings.Contains(setup, w) {
			t.Errorf("/guide/setup/ lacks %s", w)
		}
	}
	// The other section is one link and the page names the full navigation.
	if strings.Contains(setup, `href="/ref/api/"`) {
		t.Error("/guide/setup/ lists the pages of a closed section")
	}
	if !strings.Contains(setup, `<li class="nav-section nav-closed"><a href="/ref/">Ref</a></li>`) {
		t.Error("a closed section is not a link to its page")
	}
	if !strings.Contains(setup, `<meta name="playdoc-nav" content="/assets/nav.`) {
		t.Error("the page does not name the navigation file")
	}
	run := string(s.Files["/guide/run/index.html"].Body)
	if !strings.Contains(run, `<a class="pager-next" href="/ref/" rel="next">`) {
		t.Error("previous/next does not cross into the next section")
	}
	guide := string(s.Files["/guide/index.html"].Body)
	if !strings.Contains(guide, "Intro of the guide.") || !strings.Contains(guide, `<a href="/guide/run/">Guide run</a>`) {
		t.Error("a section's page lacks its intro or its list of pages")
	}
	var navPath string
	for p := range s.Files {
		if strings.HasPrefix(p, "/assets/nav.") {
			navPath = p
		}
	}
	var full map[string]string
	if err := json.Unmarshal(s.Files[navPath].Body, &full); err != nil {
		t.Fatalf("navigation %q: %v", navPath, err)
	}
	if len(full) != 2 || !strings.Contains(full["/ref/"], `<a href="/ref/api/">API</a>`) {
		t.Errorf("navigation file %v", full)
	}
	checkSiteHTML(t, s)
}

// TestSectionErrors: a slug used twice in one section, a section nested
// in another and an _index.md at the root are reported at file:line.
func TestSectionErrors(t *testing.T) {
	files := sectionSite()
	files["02-guide/03-setup.md"] = page("Setup again", 3, "Dup.\n")
	files["02-guide/deep/01-x.md"] = page("Deep", 1, "Too deep.\n")
	files["_index.md"] = page("Home", 1, "Home.\n")
	cfg := fixtureConfig()
	cfg.Content = memContent(files)
	_, err := New(cfg).Build(context.Background())
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v, want an ErrorList", err)
	}
	got := err.Error()
	for _, w := range []string{
		`content/02-guide/03-setup.md:1: duplicate slug "setup" (also used by content/02-guide/01-setup.md)`,
		`content/02-guide/deep/01-x.md:1: sections nest one level deep`,
		`content/_index.md:1: the home page is generated`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("errors lack %q:\n%s", w, got)
		}
	}
}

// TestSectionWithoutIndex: a folder without _index.md is still a section,
// titled after the folder, with a page listing its pages.
func TestSectionWithoutIndex(t *testing.T) {
	files := sectionSite()
	delete(files, "02-guide/_index.md")
	cfg := fixtureConfig()
	cfg.Content = memContent(files)
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	guide := string(s.Files["/guide/index.html"].Body)
	if !strings.Contains(guide, "<h1>Guide</h1>") || !strings.Contains(guide, `<a href="/guide/setup/">Guide setup</a>`) {
		t.Errorf("generated section page:\n%s", guide)
	}
	checkSiteHTML(t, s)
}

// TestNavOrderAndRedirects: playdoc.toml's nav.order puts sections first,
// and each redirect writes a page that sends readers on.
func TestNavOrderAndRedirects(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = memContent(sectionSite())
	cfg.NavOrder = []string{"ref", "end"}
	cfg.Redirects = map[string]string{"/old-setup/": "/guide/setup/"}
	cfg.ConfigFile = "playdoc.toml"
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, p := range s.Pages {
		urls = append(urls, p.URL)
	}
	want := []string{"/ref/", "/ref/setup/", "/ref/api/", "/end/", "/start/", "/guide/", "/guide/setup/", "/guide/run/"}
	if !slices.Equal(urls, want) {
		t.Errorf("pages %v, want %v", urls, want)
	}
	old := string(s.Files["/old-setup/index.html"].Body)
	if !strings.Contains(old, `<meta http-equiv="refresh" content="0; url=/guide/setup/">`) ||
		!strings.Contains(old, `<link rel="canonical" href="https://example.org/guide/setup/">`) {
		t.Errorf("redirect page:\n%s", old)
	}
	checkSiteHTML(t, s)

	cfg.NavOrder = []string{"nowhere"}
	cfg.NavOrderLine = 7
	if _, err = New(cfg).Build(context.Background()); err == nil || !strings.Contains(err.Error(), `playdoc.toml:7: nav.order names "nowhere"`) {
		t.Errorf("error %v, want one about nav.order", err)
	}
	cfg.NavOrder = nil
	cfg.Redirects = map[string]string{"/guide/run/": "/end/", "/x/": "/missing/"}
	_, err = New(cfg).Build(context.Background())
	for _, w := range []string{
		`playdoc.toml: redirect from /guide/run/: the site has a page there`,
		`playdoc.toml: redirect from /x/ to /missing/: the site has no page there`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
}

// TestSidebarWindow: a site of more top-level entries than navFullMax
// shows in each page's sidebar a window of navRadius entries on each side
// of the page's own section, headed by a link to the home page (which
// lists them all); so a page's size does not grow with the number of
// sections. The first and last sections keep a full-sized window, and a
// page of no section shows the first entries.
func TestSidebarWindow(t *testing.T) {
	const sections = 45
	files := map[string]string{}
	for k := 1; k <= sections; k++ {
		dir := fmt.Sprintf("%02d-sec%d", k, k)
		files[dir+"/01-a.md"] = page(fmt.Sprintf("Page a of %d", k), 1, "A.\n")
		files[dir+"/02-b.md"] = page(fmt.Sprintf("Page b of %d", k), 2, "B.\n")
	}
	cfg := fixtureConfig()
	cfg.Content = memContent(files)
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sidebar := func(p string) string {
		f := s.Files[p]
		if f == nil {
			t.Fatalf("no %s", p)
		}
		body := string(f.Body)
		start, end := strings.Index(body, `<ol class="nav-list">`), strings.Index(body, "</nav>")
		if start < 0 || end < start {
			t.Fatalf("%s has no sidebar", p)
		}
		return body[start:end]
	}
	shown := func(p string) []int {
		var ks []int
		for k := 1; k <= sections; k++ {
			if strings.Contains(sidebar(p), fmt.Sprintf(`href="/sec%d/"`, k)) {
				ks = append(ks, k)
			}
		}
		return ks
	}
	span := func(lo, hi int) []int {
		var ks []int
		for k := lo; k <= hi; k++ {
			ks = append(ks, k)
		}
		return ks
	}
	for _, c := range []struct {
		page string
		want []int
	}{
		{"/sec20/b/index.html", span(20-navRadius, 20+navRadius)},
		{"/sec1/a/index.html", span(1, 2*navRadius+1)},
		{"/sec45/index.html", span(sections-2*navRadius, sections)},
		{"/404.html", span(1, 2*navRadius+1)},
	} {
		if got := shown(c.page); !slices.Equal(got, c.want) {
			t.Errorf("%s's sidebar shows sections %v, want %v", c.page, got, c.want)
		}
		if !strings.Contains(sidebar(c.page), `<li><a href="/">All 45 sections</a></li>`) {
			t.Errorf("%s's sidebar lacks the link to every section", c.page)
		}
	}
	// The own section stays open, its pages listed, the page marked.
	if !strings.Contains(sidebar("/sec20/b/index.html"), `<li><a href="/sec20/b/" aria-current="page">Page b of 20</a></li>`) {
		t.Error("the current page is not marked in its open section")
	}
	// The home page lists every section that a sidebar leaves out.
	home := string(s.Files["/index.html"].Body)
	for k := 1; k <= sections; k++ {
		if !strings.Contains(home, fmt.Sprintf(`href="/sec%d/"`, k)) {
			t.Errorf("the home page does not list section %d", k)
		}
	}
	// A small site's sidebar is whole (TestSections checks its entries).
	small := fixtureConfig()
	small.Content = memContent(sectionSite())
	ss, err := New(small).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if body := string(ss.Files["/guide/setup/index.html"].Body); strings.Contains(body, `<li><a href="/">All`) || !strings.Contains(body, `href="/end/"`) {
		t.Error("a site of a few sections has a windowed sidebar")
	}
	checkSiteHTML(t, s)
}
