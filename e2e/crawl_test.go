package e2e

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// Link audit: an HTTP crawl of a served site, its sitemap and canonical
// links (TestAudit's links subtests).

// canonicalOrigin is the site's public origin in canonical links and the
// sitemap; the crawl maps it to the local server.
const canonicalOrigin = "https://playdoc.netlify.app"

// crawl fetches the start paths from base and every internal URL that the
// HTML pages, the sitemap and robots.txt refer to (links, assets, the
// canonical link, Open Graph URLs; the public origin is mapped to base), and
// returns the problems: statuses other than 200 (404 for the 404 page),
// redirects, and #fragments that name no id in the target page.
func crawl(t *testing.T, base string, start ...string) (problems []string, visited map[string]bool) {
	t.Helper()
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	type ref struct{ from, path, fragment string }
	visited = map[string]bool{}
	ids := map[string]map[string]bool{} // HTML page path -> its ids
	var queue []ref
	var anchors []ref
	for _, s := range start {
		queue = append(queue, ref{from: "(start)", path: s})
	}
	add := func(from, raw string) {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: bad URL %q: %v", from, raw, err))
			return
		}
		if u.Scheme == "mailto" || u.Scheme == "data" {
			return
		}
		pageURL, _ := url.Parse(base + from)
		abs := pageURL.ResolveReference(u)
		switch abs.Scheme + "://" + abs.Host {
		case base, canonicalOrigin:
		default:
			return // an external link: not ours to fetch (and no network in CI)
		}
		p := abs.Path
		if p == "" {
			p = "/"
		}
		if abs.Fragment != "" {
			anchors = append(anchors, ref{from, p, abs.Fragment})
		}
		queue = append(queue, ref{from: from, path: p})
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if visited[r.path] {
			continue
		}
		visited[r.path] = true
		resp, err := client.Get(base + r.path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s → %s: %v", r.from, r.path, err))
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s → %s: read: %v", r.from, r.path, err))
			continue
		}
		want := http.StatusOK
		if r.path == "/no-such-page/" {
			want = http.StatusNotFound
		}
		if resp.StatusCode != want {
			problems = append(problems, fmt.Sprintf("%s → %s: status %d, want %d", r.from, r.path, resp.StatusCode, want))
			continue
		}
		ctype := resp.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ctype, "text/html"):
			doc, err := html.Parse(bytes.NewReader(body))
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: parse: %v", r.path, err))
				continue
			}
			ids[r.path] = map[string]bool{}
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				for _, a := range n.Attr {
					switch {
					case a.Key == "id":
						ids[r.path][a.Val] = true
					case a.Key == "href" || a.Key == "src",
						n.Data == "meta" && a.Key == "content" && strings.HasPrefix(a.Val, canonicalOrigin):
						add(r.path, a.Val)
					case a.Key == "srcset":
						for c := range strings.SplitSeq(a.Val, ",") {
							if f := strings.Fields(c); len(f) > 0 {
								add(r.path, f[0])
							}
						}
					}
				}
			}
		case strings.Contains(ctype, "xml") && strings.HasSuffix(r.path, ".xml"):
			var sm struct {
				URLs []struct {
					Loc string `xml:"loc"`
				} `xml:"url"`
			}
			if err := xml.Unmarshal(body, &sm); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", r.path, err))
				continue
			}
			if len(sm.URLs) == 0 {
				problems = append(problems, fmt.Sprintf("%s lists no URL", r.path))
			}
			for _, u := range sm.URLs {
				// playdoc serve writes its own origin; a build the public one.
				if !strings.HasPrefix(u.Loc, canonicalOrigin+"/") && !strings.HasPrefix(u.Loc, base+"/") {
					problems = append(problems, fmt.Sprintf("%s: %s is on neither %s nor %s", r.path, u.Loc, canonicalOrigin, base))
				}
				add(r.path, u.Loc)
			}
		case strings.HasSuffix(r.path, "robots.txt"):
			for line := range strings.SplitSeq(string(body), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "sitemap") {
					add(r.path, strings.TrimSpace(v))
				}
			}
		}
	}
	for _, a := range anchors {
		if pageIDs, ok := ids[a.path]; ok && !pageIDs[a.fragment] {
			problems = append(problems, fmt.Sprintf("%s → %s#%s: no element with that id", a.from, a.path, a.fragment))
		} else if !ok && visited[a.path] {
			problems = append(problems, fmt.Sprintf("%s → %s#%s: the target is not an HTML page", a.from, a.path, a.fragment))
		}
	}
	slices.Sort(problems)
	return problems, visited
}

// TestAuditCrawlCatchesProblems: the crawl reports a missing page, a missing
// asset, a missing anchor and a redirect.
func TestAuditCrawlCatchesProblems(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><link rel="stylesheet" href="/gone.css"></head><body id="top">
		<a href="/b/#here">ok</a> <a href="/b/#nowhere">bad anchor</a> <a href="/missing/">gone</a>
		<a href="/old">moved</a> <a href="https://example.com/x">external</a> <a href="#top">self</a></body></html>`)
	})
	mux.HandleFunc("GET /b/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><body><h2 id="here">Here</h2></body></html>`)
	})
	mux.HandleFunc("GET /old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b/", http.StatusMovedPermanently) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	problems, _ := crawl(t, srv.URL, "/")
	want := []string{
		"/ → /b/#nowhere: no element with that id",
		"/ → /gone.css: status 404, want 200",
		"/ → /missing/: status 404, want 200",
		"/ → /old: status 301, want 200",
	}
	if !slices.Equal(problems, want) {
		t.Errorf("crawl found\n%s\nwant\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}
