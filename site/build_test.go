package site

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden compares every file of the fixture site with testdata/golden.
// Run with -update to rewrite the golden files after an intended change.
func TestGolden(t *testing.T) {
	s, err := New(fixtureConfig()).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "golden")
	if *update {
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteDir(golden); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	err = filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(golden, p)
		want = append(want, "/"+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if got := s.Paths(); !slices.Equal(got, want) {
		t.Fatalf("files:\n got %v\nwant %v", got, want)
	}
	for _, p := range want {
		g, err := os.ReadFile(filepath.Join(golden, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Files[p].Body, g) {
			t.Errorf("%s differs from its golden file (run go test ./site -run Golden -update to accept):\n%s", p, firstDiff(string(s.Files[p].Body), string(g)))
		}
	}
}

// TestFixtureStructure checks properties of the output that the golden
// files hold but a reader should not have to find there.
func TestFixtureStructure(t *testing.T) {
	s, err := New(fixtureConfig()).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pairs := string(s.Files["/pairs/index.html"].Body)
	for _, want := range []string{
		`<html lang="en">`,
		`<a class="skip-link" href="#main">`,
		`<main id="main"`,
		`<link rel="canonical" href="https://example.org/pairs/">`,
		`<meta name="description" content="A python/go pair with a runnable snippet, and a comparison.">`,
		`<meta property="og:title" content="Pairs &amp; snippets · Fixture">`,
		`<div class="pair">` + "\n" + `<figure class="snippet snippet-python">`,
		`<figure class="snippet snippet-go" id="snippet-hello" data-run data-name="hello" data-compare="seq" data-duration-ms="2000">`,
		`<figure class="snippet snippet-go" id="snippet-alone" data-run data-name="alone">`,
		`<pre class="chroma code" tabindex="0"><code>`,
		`<pre class="output-expected">task 1 &lt;done&gt;` + "\ntask 2 &lt;done&gt;\nwarning {...}\nelapsed: {...}</pre>",
		`<a class="pager-prev" href="/intro/" rel="prev">`,
		`<a class="pager-next" href="/the-end/" rel="next">`,
		`<a href="/pairs/" aria-current="page">`,
		`<h2 id="side-by-side">Side by side <a class="anchor" href="#side-by-side"`,
	} {
		if !strings.Contains(pairs, want) {
			t.Errorf("/pairs/ lacks %s", want)
		}
	}
	intro := string(s.Files["/intro/index.html"].Body)
	for _, want := range []string{
		`<h1>Welcome to the fixture</h1>`,
		`<a href="/pairs/">link to the pairs</a>`,
		`<a href="/pairs/#side-by-side">`,
		`<a href="#a-list">`,
		"Raw <b>HTML</b> is rendered.",
		`<del>struck</del>`,
		`<table>`,
		`<a href="https://example.org/docs">`,
		`<li class="toc-h3"><a href="#deeper-heading">`,
		`<code class="language-sh">`,
	} {
		if !strings.Contains(intro, want) {
			t.Errorf("/intro/ lacks %s", want)
		}
	}
	// The code's text is exactly the snippet's source (playground.js reads it).
	code := between(pairs, `id="snippet-hello"`, `</code>`)
	code = code[strings.Index(code, "<code>")+len("<code>"):]
	if got := htmlText(code); got != s.Snippets[0].Code {
		t.Errorf("code text = %q, want %q", got, s.Snippets[0].Code)
	}
	for p, f := range s.Files {
		body := string(f.Body)
		if strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("%s has an inline style (the CSP forbids them)", p)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "reload.js") || strings.Contains(body, "data-livereload") {
			t.Errorf("%s has an inline script or live reload in a build", p)
		}
	}
	if !strings.Contains(string(s.Files["/sitemap.xml"].Body), "<loc>https://example.org/the-end/</loc>") {
		t.Error("sitemap lacks /the-end/")
	}
	var css string
	for p, f := range s.Files {
		if strings.HasPrefix(p, "/assets/app.") && strings.HasSuffix(p, ".css") {
			css = string(f.Body)
		}
	}
	if !strings.Contains(css, ".fixture-site-css") || !strings.Contains(css, ".fixture-playground-css") || !strings.Contains(css, "@media (prefers-color-scheme: dark)") {
		t.Error("the stylesheet lacks site.css, playground.css or the dark theme")
	}
}

// htmlText strips tags and unescapes entities.
func htmlText(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&amp;", "&")
	return r.Replace(b.String())
}

func TestLiveReloadOnlyInServeMode(t *testing.T) {
	cfg := fixtureConfig()
	cfg.LiveReload = true
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	page := string(s.Files["/pairs/index.html"].Body)
	if !strings.Contains(page, `<script src="/_playdoc/reload.js" defer></script>`) || !strings.Contains(page, "data-livereload") {
		t.Error("serve-mode page lacks the live-reload script")
	}
	if _, ok := s.Files["/_playdoc/reload.js"]; !ok {
		t.Error("serve-mode site lacks /_playdoc/reload.js")
	}
}

func TestIncrementalRebuild(t *testing.T) {
	fsys := memContent(map[string]string{
		"01-a.md": page("A", 1, "Text A.\n\n```go\nfunc a() {}\n```\n"),
		"02-b.md": page("B", 2, "Text B.\n"),
		"03-c.md": page("C", 3, "Text C.\n"),
	})
	cfg := fixtureConfig()
	cfg.Content = fsys
	b := New(cfg)
	ctx := context.Background()
	s1, err := b.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := s1.Changed(nil); len(got) != len(s1.Files) {
		t.Errorf("Changed(nil) = %d paths, want all %d", len(got), len(s1.Files))
	}
	s2, err := b.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Changed(s1); len(got) != 0 {
		t.Errorf("rebuild without changes changed %v", got)
	}
	fsys["02-b.md"].Data = []byte(page("B", 2, "Text B, edited.\n"))
	s3, err := b.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The search index changes with the text: its files are left out here.
	noSearch := func(paths []string) []string {
		return slices.DeleteFunc(paths, func(p string) bool { return strings.HasPrefix(p, "/_search/") })
	}
	if got := noSearch(s3.Changed(s2)); !slices.Equal(got, []string{"/b/index.html"}) {
		t.Errorf("body edit changed %v, want only /b/index.html", got)
	}
	if s3.Files["/b/index.html"].Source != "02-b.md" {
		t.Errorf("source of /b/ = %q", s3.Files["/b/index.html"].Source)
	}
	fsys["02-b.md"].Data = []byte(page("B renamed", 2, "Text B, edited.\n"))
	s4, err := b.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/404.html", "/a/index.html", "/b/index.html", "/c/index.html", "/index.html", "/play/index.html", "/search/index.html"}
	if got := noSearch(s4.Changed(s3)); !slices.Equal(got, want) {
		t.Errorf("title edit changed %v, want %v", got, want)
	}
	// A broken edit fails; fixing it builds again.
	fsys["03-c.md"].Data = []byte("---\ntitle: [\n---\n")
	if _, err := b.Build(ctx); err == nil {
		t.Fatal("broken front matter built")
	}
	delete(fsys, "03-c.md")
	s5, err := b.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s5.Files["/c/index.html"]; ok {
		t.Error("deleted page still built")
	}
}

func TestHighlightCachePersists(t *testing.T) {
	dir := t.TempDir()
	cfg := fixtureConfig()
	cfg.CacheDir = dir
	b := New(cfg)
	s, err := b.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SaveCache(s); err != nil {
		t.Fatal(err)
	}
	h := newHighlighter(filepath.Join(dir, cacheFile))
	if err := h.load(); err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Pages {
		for _, c := range p.codes {
			if got, ok := h.get(hlKey(c.Lang, c.Code)); !ok || got != c.html {
				t.Errorf("%s:%d: highlight not in the saved cache", p.File, c.Line)
			}
		}
	}
	// A corrupt cache is ignored, not fatal.
	if err := os.WriteFile(filepath.Join(dir, cacheFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg).Build(context.Background()); err != nil {
		t.Fatalf("build with a corrupt cache: %v", err)
	}
}

// TestHighlightCacheDamaged: the highlight cache file read back whole
// gives every entry; any shorter copy, a byte flipped, or a byte more is
// refused, without a panic.
func TestHighlightCacheDamaged(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, cacheFile)
	h := newHighlighter(file)
	h.put("k1", "<span>one</span>")
	h.put("k2", "")
	h.put("", "three")
	if err := h.save(map[string]bool{"k1": true, "k2": true, "": true}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	back := newHighlighter(file)
	if err := back.load(); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(back.entries, map[string]string{"k1": "<span>one</span>", "k2": "", "": "three"}) {
		t.Errorf("read back %q", back.entries)
	}
	bad := [][]byte{append(slices.Clone(data), 0)}
	for n := range len(data) {
		bad = append(bad, data[:n])
	}
	for i := range data {
		b := slices.Clone(data)
		b[i] ^= 0x40
		bad = append(bad, b)
	}
	for i, b := range bad {
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := newHighlighter(file).load(); err == nil {
			t.Errorf("damaged copy %d (%d bytes) was read", i, len(b))
		}
	}
}
