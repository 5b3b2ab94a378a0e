package site

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestExternalLinks checks that the external links of the pages are
// listed with their file:line, and only those.
func TestExternalLinks(t *testing.T) {
	cfg := fixtureConfig()
	content := archive(t, "external", "links")
	cfg.Content = content
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := s.ExternalLinks()
	want := []ExternalLink{
		{"content/01-a.md", lineOf(t, content, "01-a.md", "[x](https://example.com/a) [y](02-b.md#local) [m](mailto:a@b.c)"), "https://example.com/a"},
		{"content/01-a.md", lineOf(t, content, "01-a.md", `<a href="http://example.org/b">b</a>`), "http://example.org/b"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("external links %+v, want %+v", got, want)
	}
}

// TestLinkChecker checks the answers that make a link broken or not, that
// each URL is asked once per check, and that good answers are cached
// until they are too old while broken links are asked again.
func TestLinkChecker(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/ok":
		case "/old":
			http.Redirect(w, r, "/ok", http.StatusMovedPermanently)
		case "/nohead":
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
			}
		case "/limited":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/slow":
			<-r.Context().Done() // answers only when the checker gives up
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	links := []ExternalLink{
		{"content/01-a.md", 3, srv.URL + "/ok"},
		{"content/01-a.md", 4, srv.URL + "/gone"},
		{"content/01-a.md", 5, srv.URL + "/old"},
		{"content/01-a.md", 6, srv.URL + "/nohead"},
		{"content/01-a.md", 7, srv.URL + "/limited"},
		{"content/01-a.md", 8, srv.URL + "/slow"},
		{"content/02-b.md", 9, srv.URL + "/gone"},
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &LinkChecker{Timeout: 2 * time.Second, CacheFile: filepath.Join(t.TempDir(), "links.json"), Now: func() time.Time { return now }}
	errs, err := c.Check(context.Background(), links)
	if err != nil {
		t.Fatal(err)
	}
	// Each error names its link's file:line and URL.
	at := func(l ExternalLink) string {
		return fmt.Sprintf("%s:%d: broken external link %q", l.File, l.Line, l.URL)
	}
	want := strings.Join([]string{
		at(links[1]) + ": 404 Not Found",
		at(links[5]) + ": no answer within 2s",
		at(links[6]) + ": 404 Not Found",
	}, "\n")
	if errs.Error() != want {
		t.Errorf("errors:\n%s\nwant:\n%s", errs.Error(), want)
	}
	mu.Lock()
	if hits["/gone"] != 1 || hits["/nohead"] != 2 {
		t.Errorf("requests %v: want /gone asked once, /nohead twice (HEAD, then GET)", hits)
	}
	hits = map[string]int{}
	mu.Unlock()

	// An hour later the good answers come from the cache; a day later
	// they are asked again.
	now = now.Add(time.Hour)
	if _, err := c.Check(context.Background(), links[:5]); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if hits["/ok"] != 0 || hits["/nohead"] != 0 || hits["/gone"] != 1 {
		t.Errorf("an hour later, requests %v: want only /gone asked again", hits)
	}
	hits = map[string]int{}
	mu.Unlock()
	now = now.Add(25 * time.Hour)
	if _, err := c.Check(context.Background(), links[:1]); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/ok"] != 1 {
		t.Errorf("a day later, requests %v: want /ok asked again", hits)
	}
}
