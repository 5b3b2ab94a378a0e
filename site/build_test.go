package site

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func fixtureConfig() Config {
	return Config{
		Content:     os.DirFS("testdata/fixture/content"),
		ContentName: "content",
		Static:      os.DirFS("testdata/fixture/static"),
		BaseURL:     "https://example.org/",
		SiteTitle:   "Fixture",
		Intro:       "A small site for golden tests.",
		Footer:      "Built with playdoc. Code runs in a sandboxed Go playground.",
	}
}

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

func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return "got:  ..." + got[max(0, i-60):min(len(got), i+80)] + "\nwant: ..." + want[max(0, i-60):min(len(want), i+80)]
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
	if !strings.Contains(css, "fixture site.css") || !strings.Contains(css, "fixture playground.css") || !strings.Contains(css, "@media (prefers-color-scheme: dark)") {
		t.Error("the stylesheet lacks site.css, playground.css or the dark theme")
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	j := strings.Index(s, to)
	if j < 0 {
		return ""
	}
	return s[:j]
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

// memContent is a content folder in memory.
func memContent(pages map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range pages {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func page(title string, order int, body string) string {
	return "---\ntitle: " + title + "\norder: " + strconv.Itoa(order) + "\nsummary: s\n---\n" + body
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

func TestWriteDirRefusesOtherFolders(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Site{Files: map[string]*File{}}
	s.add("/index.html", []byte("v1"), "")
	s.add("/sitemap.xml", []byte("<urlset/>"), "")
	err := s.WriteDir(dir)
	if err == nil || !strings.Contains(err.Error(), "does not look like a built site") {
		t.Fatalf("err = %v", err)
	}
	if got := readTree(t, dir); !maps.Equal(got, map[string]string{"go.mod": "module x\n"}) {
		t.Errorf("folder changed: %v", got)
	}
	if err := s.WriteDir("/"); err == nil {
		t.Error("WriteDir(/) did not fail")
	}
	// A built site may be replaced, an empty folder filled.
	out := filepath.Join(dir, "public")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.WriteDir(out); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteDirSwapsOnlyOnSuccess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "public")
	good := &Site{Files: map[string]*File{}}
	good.add("/index.html", []byte("v1"), "")
	good.add("/sitemap.xml", []byte("<urlset/>"), "")
	good.add("/a/index.html", []byte("a1"), "")
	if err := good.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	v2 := &Site{Files: map[string]*File{}}
	v2.add("/index.html", []byte("v2"), "")
	v2.add("/sitemap.xml", []byte("<urlset/>"), "")
	if err := v2.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "index.html")); string(got) != "v2" {
		t.Errorf("index.html = %q, want v2", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a file of the previous build survived")
	}
	// A write that fails half-way (a file where a folder must go) leaves
	// the previous site as it was.
	bad := &Site{Files: map[string]*File{}}
	bad.add("/index.html", []byte("v3"), "")
	bad.add("/x", []byte("file"), "")
	bad.add("/x/index.html", []byte("under a file"), "")
	if err := bad.WriteDir(dir); err == nil {
		t.Fatal("impossible site written")
	}
	if got := readTree(t, dir); !maps.Equal(got, map[string]string{"index.html": "v2", "sitemap.xml": "<urlset/>"}) {
		t.Errorf("after a failed write: %v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if e.Name() != "public" && e.Name() != ".public.staging" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestWriteDirReusesStaging writes a sequence of sites, with files turning
// into folders and back, and checks that the output is always exactly the
// site, and that unchanged files are not written again.
func TestWriteDirReusesStaging(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "public")
	sites := []map[string]string{
		{"index.html": "1", "sitemap.xml": "s", "a/index.html": "a", "a/b/index.html": "b", "x": "file x"},
		{"index.html": "2", "sitemap.xml": "s", "a": "a is a file now", "x/index.html": "x is a folder now"},
		{"index.html": "2", "sitemap.xml": "s", "a/b/c/index.html": "deep", "x/index.html": "x is a folder now"},
		{"index.html": "2", "sitemap.xml": "s", "a/b/c/index.html": "deep", "x/index.html": "x is a folder now"},
		{"index.html": "2", "sitemap.xml": "s", "a/b/c/index.html": "deep", "x/index.html": "x is a folder now"},
	}
	var first os.FileInfo // the file as written for site 2
	past := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, files := range sites {
		s := &Site{Files: map[string]*File{}}
		for p, body := range files {
			s.add("/"+p, []byte(body), "")
		}
		if err := s.WriteDir(dir); err != nil {
			t.Fatalf("site %d: %v", i, err)
		}
		if got := readTree(t, dir); !maps.Equal(got, files) {
			t.Errorf("site %d: wrote %v, want %v", i, got, files)
		}
		if i < 2 {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, "a", "b", "c", "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		// The file written for site 2 goes to staging with site 3 and
		// comes back untouched with site 4.
		if i == 4 && (!os.SameFile(st, first) || !st.ModTime().Equal(past)) {
			t.Errorf("an unchanged file was written again (same file: %v, mtime %v)", os.SameFile(st, first), st.ModTime())
		}
		if i == 2 {
			first = st
			if err := os.Chtimes(filepath.Join(dir, "a", "b", "c", "index.html"), past, past); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// readTree returns the files under dir: slash path → content.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHandler(t *testing.T) {
	s, err := New(fixtureConfig()).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var css string
	for p := range s.Files {
		if strings.HasSuffix(p, ".css") {
			css = p
		}
	}
	for _, tt := range []struct {
		path, ctype string
		status      int
		body        string
	}{
		{"/", "text/html; charset=utf-8", 200, "<h1>Fixture</h1>"},
		{"/pairs/", "text/html; charset=utf-8", 200, `id="snippet-hello"`},
		{"/pairs", "", 301, ""},
		{"/index.html", "text/html; charset=utf-8", 200, "<h1>Fixture</h1>"},
		{"/nope/", "text/html; charset=utf-8", 404, "Page not found"},
		{"/sitemap.xml", "application/xml; charset=utf-8", 200, "<urlset"},
		{css, "text/css; charset=utf-8", 200, "fixture site.css"},
		{"/favicon.svg", "image/svg+xml", 200, "<svg"},
	} {
		resp, err := client.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || (tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype) || !strings.Contains(string(body), tt.body) {
			t.Errorf("GET %s = %d %q, want %d %q containing %q", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.ctype, tt.body)
		}
		if tt.path == "/pairs" && resp.Header.Get("Location") != "/pairs/" {
			t.Errorf("GET /pairs redirects to %q", resp.Header.Get("Location"))
		}
		if tt.path == css && !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("asset Cache-Control = %q", resp.Header.Get("Cache-Control"))
		}
	}
	resp, err := client.Post(srv.URL+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", resp.StatusCode)
	}
}
