package site

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHandlerConditionalGET checks the conditional and partial requests
// that http.ServeContent answers: an ETag in a list or in its weak form is
// a match (304), a stale one is not, and a byte range of a page is served.
func TestHandlerConditionalGET(t *testing.T) {
	s, err := New(fixtureConfig()).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	get := func(hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/pairs/", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	etag := get(nil).Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on a page")
	}
	for _, tt := range []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"exact", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"in a list", map[string]string{"If-None-Match": `"0000", ` + etag}, http.StatusNotModified},
		{"weak form", map[string]string{"If-None-Match": "W/" + etag}, http.StatusNotModified},
		{"any", map[string]string{"If-None-Match": "*"}, http.StatusNotModified},
		{"stale", map[string]string{"If-None-Match": `"0000"`}, http.StatusOK},
		{"range", map[string]string{"Range": "bytes=0-14"}, http.StatusPartialContent},
		{"range, gzip: whole body", map[string]string{"Range": "bytes=0-14", "Accept-Encoding": "gzip"}, http.StatusOK},
	} {
		rec := get(tt.hdr)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.status)
		}
		if tt.status == http.StatusPartialContent && rec.Body.String() != "<!doctype html>" {
			t.Errorf("%s: body %q", tt.name, rec.Body.String())
		}
	}
	// The 404 page is never a 304: its ETag names the page, not the URL.
	req := httptest.NewRequest(http.MethodGet, "/nope/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("conditional 404: status %d", rec.Code)
	}
}

func TestWriteDirRefusesOtherFolders(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Site{Files: map[string]*File{}}
	s.add("/index.html", []byte("v1"), "")
	s.add("/robots.txt", []byte("User-agent: *\n"), "")
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
	// A built site may be replaced, an empty folder filled: one without a
	// base URL has no sitemap.xml (playdoc new's site, built twice).
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
		if e.Name() != "public" && e.Name() != ".public.staging" && e.Name() != ".public.lock" {
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
		{css, "text/css; charset=utf-8", 200, ".fixture-site-css"},
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
