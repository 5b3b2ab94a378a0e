package site

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// ExternalLink is a link of a page to another site.
type ExternalLink struct {
	File string // the page's path as errors show it ("content/05-gather.md")
	Line int
	URL  string // as written
}

// ExternalLinks lists the page links (Markdown and raw HTML) whose URL is
// http or https, by file and line.
func (s *Site) ExternalLinks() []ExternalLink {
	var out []ExternalLink
	for _, p := range s.Pages {
		for _, r := range p.refs {
			if r.kind != refLink {
				continue
			}
			u, err := url.Parse(r.dest)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				continue
			}
			out = append(out, ExternalLink{File: p.Path, Line: r.line, URL: r.dest})
		}
	}
	slices.SortFunc(out, func(a, b ExternalLink) int {
		return strings.Compare(fmt.Sprintf("%s:%09d:%s", a.File, a.Line, a.URL), fmt.Sprintf("%s:%09d:%s", b.File, b.Line, b.URL))
	})
	return out
}

// LinkChecker checks links to other sites (`playdoc build
// --check-external`): each URL once, a HEAD request (GET when HEAD is
// refused), a few at a time, each within Timeout. URLs that answered
// well are remembered in CacheFile for MaxAge, so that a build soon after
// does not ask again; broken ones are asked again every time.
type LinkChecker struct {
	Client    *http.Client  // default: http.DefaultClient's transport, redirects followed
	Timeout   time.Duration // per URL (default 10 s)
	Parallel  int           // URLs checked at once (default 8)
	CacheFile string        // "" keeps no cache
	MaxAge    time.Duration // how long a good answer is trusted (default 24 h)
	Now       func() time.Time
}

// linkCache is the cache file's content: when each URL last answered well.
type linkCache map[string]time.Time

// Check checks every link and returns the broken ones as an ErrorList
// (nil when all are fine): "file:line: broken external link …". Only a
// failure to use the cache file or a cancelled ctx is returned as error.
func (c *LinkChecker) Check(ctx context.Context, links []ExternalLink) (ErrorList, error) {
	timeout, parallel, maxAge, now := c.Timeout, c.Parallel, c.MaxAge, c.Now
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if parallel <= 0 {
		parallel = 8
	}
	if maxAge <= 0 {
		maxAge = 24 * time.Hour
	}
	if now == nil {
		now = time.Now
	}
	client := c.Client
	if client == nil {
		client = &http.Client{}
	}
	cache := linkCache{}
	if c.CacheFile != "" {
		data, err := os.ReadFile(c.CacheFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("external link cache: %w", err)
		default:
			if err := json.Unmarshal(data, &cache); err != nil {
				cache = linkCache{} // a damaged cache is only a cache
			}
		}
	}
	var mu sync.Mutex
	problems := map[string]string{} // by URL
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	seen := map[string]bool{}
	for _, l := range links {
		if seen[l.URL] {
			continue
		}
		seen[l.URL] = true
		if at, ok := cache[l.URL]; ok && now().Sub(at) < maxAge {
			continue
		}
		g.Go(func() error {
			problem := checkURL(gctx, client, l.URL, timeout)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			mu.Lock()
			defer mu.Unlock()
			if problem != "" {
				problems[l.URL] = problem
				delete(cache, l.URL)
			} else {
				cache[l.URL] = now()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if c.CacheFile != "" {
		data, err := json.MarshalIndent(cache, "", "\t")
		if err != nil {
			return nil, fmt.Errorf("external link cache: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(c.CacheFile), 0o755); err != nil {
			return nil, fmt.Errorf("external link cache: %w", err)
		}
		if err := os.WriteFile(c.CacheFile, data, 0o644); err != nil {
			return nil, fmt.Errorf("external link cache: %w", err)
		}
	}
	var errs ErrorList
	for _, l := range links {
		if p := problems[l.URL]; p != "" {
			errs.errorf(l.File, l.Line, "broken external link %q: %s", l.URL, p)
		}
	}
	return errs.sorted(), nil
}

// checkURL asks for one URL and says what is wrong with the answer ("" if
// nothing). A server that limits the rate (429) is not called broken.
func checkURL(ctx context.Context, client *http.Client, u string, timeout time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status := 0
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			return err.Error()
		}
		req.Header.Set("User-Agent", "playdoc link checker")
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Sprintf("no answer within %v", timeout)
			}
			return "no answer: " + unwrapURLErr(err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		status = resp.StatusCode
		if status != http.StatusMethodNotAllowed && status != http.StatusNotImplemented && status != http.StatusForbidden {
			break // only a refused HEAD is asked again with GET
		}
	}
	if status < 400 || status == http.StatusTooManyRequests {
		return ""
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}
