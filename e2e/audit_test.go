package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"
)

// The audits that judges run on a served site, as tests: accessibility
// (axe-core in Chromium), HTML validity (html-validate), links (an HTTP
// crawl) and performance budgets (Chromium's Performance API).
//
// axe-core and html-validate are npm packages that scripts/test.sh installs
// into .cache/audit/node_modules (gitignored); auditModulesEnv points
// elsewhere.

// auditModulesEnv may name the node_modules folder holding axe-core and
// html-validate.
const auditModulesEnv = "PLAYDOC_AUDIT_NODE_MODULES"

// canonicalOrigin is the site's public origin in canonical links and the
// sitemap; the crawl maps it to the local server.
const canonicalOrigin = "https://playdoc.netlify.app"

// jsCSSBudget is the most JS + CSS a page may transfer, gzipped (issue 4).
const jsCSSBudget = 30 * 1024

// auditModules finds the node_modules folder, or says how to install it.
func auditModules(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(auditModulesEnv)
	if dir == "" {
		dir = filepath.Join(repoRoot(), ".cache", "audit", "node_modules")
	}
	for _, f := range []string{"axe-core/axe.min.js", "html-validate/package.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("audit tools missing (%v): scripts/test.sh installs them with "+
				"npm install --prefix .cache/audit axe-core html-validate (or set %s)", err, auditModulesEnv)
		}
	}
	return dir
}

// sitePages lists the URL paths of the built site's pages ("/", "/asyncio/gather/",
// ...), from the output folder, and the URL of a path that is not there (the
// 404 page).
func sitePages(t *testing.T, out string) []string {
	t.Helper()
	var pages []string
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "index.html" {
			return err
		}
		// Redirect pages (playdoc.toml [redirects]) leave at once: the
		// crawl checks where they lead, the audits the pages themselves.
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(`http-equiv="refresh"`)) {
			return nil
		}
		rel, _ := filepath.Rel(out, filepath.Dir(p))
		if rel == "." {
			pages = append(pages, "/")
		} else {
			pages = append(pages, "/"+filepath.ToSlash(rel)+"/")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pages)
	if len(pages) < 13 {
		t.Fatalf("only %d pages built: %v", len(pages), pages)
	}
	return append(pages, "/no-such-page/")
}

// TestAudit builds the site and serves it with `playdoc serve`, then runs
// every audit on every page.
func TestAudit(t *testing.T) {
	modules := auditModules(t)
	out := buildSite(t)
	pages := sitePages(t, out)

	t.Run("html-validate", func(t *testing.T) {
		htmlValidate(t, modules, out)
	})
	t.Run("html-validate-catches-errors", func(t *testing.T) {
		// The validator must be able to fail: a page with a duplicate id,
		// an unclosed element and an image without alt text.
		bad := t.TempDir()
		page := `<!doctype html><html lang="en"><head><title>x</title></head><body><main><p id="a">x</p><p id="a">y<div></span><img src="x.png"></main></body></html>`
		if err := os.WriteFile(filepath.Join(bad, "index.html"), []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		msg, err := runHTMLValidate(modules, "htmlvalidate.cjs", bad)
		if err == nil {
			t.Fatalf("html-validate accepted a broken page:\n%s", msg)
		}
		for _, rule := range []string{"no-dup-id", "wcag/h37"} {
			if !strings.Contains(msg, rule) {
				t.Errorf("html-validate did not report %s:\n%s", rule, msg)
			}
		}
	})

	t.Run("links-static", func(t *testing.T) {
		// The build as a static host serves it (public/ on Netlify): the
		// sitemap and canonical links name the public origin, mapped here
		// to the local file server.
		srv := httptest.NewServer(http.FileServer(http.Dir(out)))
		defer srv.Close()
		problems, visited := crawl(t, srv.URL, "/", "/sitemap.xml", "/robots.txt", "/404.html")
		for _, p := range problems {
			t.Error(p)
		}
		for _, p := range pages[:len(pages)-1] {
			if !visited[p] {
				t.Errorf("page %s is not reached by any link from / nor the sitemap", p)
			}
		}
		t.Logf("crawled %d URLs", len(visited))
	})

	base := startServe(t)

	t.Run("links", func(t *testing.T) {
		problems, visited := crawl(t, base, "/", "/sitemap.xml", "/robots.txt", "/no-such-page/")
		for _, p := range problems {
			t.Error(p)
		}
		for _, p := range pages[:len(pages)-1] {
			if !visited[p] {
				t.Errorf("page %s is not reached by any link from / nor the sitemap", p)
			}
		}
		t.Logf("crawled %d URLs", len(visited))
	})

	browser := newBrowser(t)
	axeJS, err := os.ReadFile(filepath.Join(modules, "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}

	// Pages are audited two at a time (-parallel, GOMAXPROCS by default):
	// much of each check waits on the page (load, settling), not the CPU.
	// Each page is loaded once per size, with the cache off: the
	// performance budgets are measured on that load, then axe runs on it.
	t.Run("axe", func(t *testing.T) {
		for _, path := range pages {
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				axePage(t, browser, axeJS, base, path)
			})
		}
	})

	t.Run("axe-gather-after-run", func(t *testing.T) {
		p := openPage(t, browser, base+"/asyncio/gather/")
		if st := p.run("gather", runTimeout); st.WallMs < 0 {
			t.Fatalf("the run did not end with an exit: foot %q, msg %q", st.Foot, st.Msg)
		}
		// Focus the output, as a keyboard user reading it would.
		p.eval(`document.querySelector('figure[data-name="gather"] .pg-run').focus(); true`, nil)
		axeAllModes(t, p, axeJS, "/gather/ after a run")

		p.setCode("gather", "package main\n\nfunc main() {\n\tundefinedThing()\n}\n")
		st := p.run("gather", runTimeout)
		if len(st.Errors) == 0 || len(st.Marks) == 0 {
			t.Fatalf("no compile error shown: errors %q, marks %v, foot %q", st.Errors, st.Marks, st.Foot)
		}
		axeAllModes(t, p, axeJS, "/gather/ with a compile error")
		p.noConsoleErrors()

		// The markup the playground built (editors, buttons, output, error
		// list, timeline) is valid HTML too.
		var dom string
		p.eval(`'<!doctype html>' + document.documentElement.outerHTML`, &dom)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "gather-live-dom.html"), []byte(dom), 0o644); err != nil {
			t.Fatal(err)
		}
		if msg, err := runHTMLValidate(modules, "htmlvalidate-dom.cjs", dir); err != nil {
			t.Errorf("html-validate of the live DOM: %v\n%s", err, msg)
		}
	})

	t.Run("html-validate-served", func(t *testing.T) {
		// The pages as playdoc serve sends them (with its live-reload tags).
		dir := t.TempDir()
		for i, path := range pages {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%02d-%s.html", i, strings.Trim(strings.ReplaceAll(path, "/", "-"), "-"))
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		htmlValidate(t, modules, dir)
	})

	t.Run("axe-catches-violations", func(t *testing.T) {
		// The check must be able to fail: an image without alt text and a
		// button without a name are violations.
		p, _ := openAuditTab(t, browser, base+"/", desktop)
		p.eval(`document.querySelector('main').insertAdjacentHTML('beforeend', '<img src="/favicon.svg"><button></button>'); true`, nil)
		got := axeRun(t, p, axeJS)
		ids := map[string]bool{}
		for _, v := range got {
			ids[v.ID] = true
		}
		if !ids["image-alt"] || !ids["button-name"] {
			t.Errorf("axe found %v, want image-alt and button-name", got)
		}
	})

	t.Run("performance-catches-problems", func(t *testing.T) {
		// The checks must be able to fail: a block pushed in above the
		// content after the load shifts the page, and an image comes
		// without its size.
		shift := `const d = document.createElement('div'); d.style.height = '600px';
		  document.querySelector('main').prepend(d);
		  const i = document.createElement('img'); i.src = '/favicon.svg'; i.alt = 'icon'; document.querySelector('main').append(i); true`
		problems := strings.Join(perfCheck(t, browser, base, "/asyncio/gather/", desktop, shift), "\n")
		for _, want := range []string{"cumulative layout shift", "image without width and height"} {
			if !strings.Contains(problems, want) {
				t.Errorf("no %q among the problems:\n%s", want, problems)
			}
		}
	})

}

// htmlValidate validates every HTML file of the built site.
func htmlValidate(t *testing.T, modules, out string) {
	t.Helper()
	msg, err := runHTMLValidate(modules, "htmlvalidate.cjs", out)
	if err != nil {
		t.Errorf("html-validate: %v\n%s", err, msg)
	}
}

// runHTMLValidate runs html-validate with a configuration of testdata/
// over the .html files under dir.
func runHTMLValidate(modules, config, dir string) (string, error) {
	cfg, err := filepath.Abs(filepath.Join("testdata", config))
	if err != nil {
		return "", err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".html") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no .html files under %s", dir)
	}
	bin := filepath.Join(modules, "html-validate", "bin", "html-validate.mjs")
	args := append([]string{bin, "--config", cfg, "--formatter", "stylish"}, files...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, "node", args...).CombinedOutput()
	if err != nil {
		return string(b), fmt.Errorf("html-validate over %d files: %w", len(files), err)
	}
	return string(b), nil
}

// viewport is a window size the audits use.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

var (
	desktop = viewport{"1280px", 1280, 900, false}
	phone   = viewport{"360px", 360, 740, true}
)

// tabTimeout bounds everything done in one audit tab (a load and four axe
// runs): a guard against a hung page, not a speed check; two tabs at once on
// a loaded 2-core machine have taken over a minute.
const tabTimeout = 3 * time.Minute

// openAuditTab opens url in a new tab at the viewport's size, waits for the
// load and for the playground to have set up (on pages with snippets), and
// records the console. Call close when done: tabs left open slow the
// browser down.
func openAuditTab(t *testing.T, browser context.Context, url string, vp viewport) (p *page, close func()) {
	t.Helper()
	return openAuditTabWith(t, browser, url, vp, nil)
}

// openAuditTabWith is openAuditTab with the cache off, calling loaded
// (if not nil) as soon as the document has loaded, before the wait for
// the playground's set-up: the performance checks measure that load.
func openAuditTabWith(t *testing.T, browser context.Context, url string, vp viewport, loaded func(p *page)) (p *page, close func()) {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser)
	ctx, cancel := context.WithTimeout(tab, tabTimeout)
	close = func() { cancel(); cancelTab() }
	t.Cleanup(close)
	p = &page{t: t, ctx: ctx}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	if loaded != nil {
		p.disableCache()
	}
	p.viewport(vp)
	p.do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(`body`)))
	if loaded != nil {
		p.wait("the load", `document.readyState === 'complete'`, 10*time.Second)
		loaded(p)
	}
	p.wait("the load and the playground's set-up", `document.readyState === 'complete' &&
	  document.querySelectorAll('figure[data-run] textarea.pg-ta').length === document.querySelectorAll('figure[data-run]').length`, 10*time.Second)
	return p, close
}

// axeViolation is one rule that failed, with the nodes that fail it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []string `json:"target"`
		Summary string   `json:"summary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s: %s", strings.Join(n.Target, " "), strings.ReplaceAll(n.Summary, "\n", " / "))
	}
	return b.String()
}

// axeRun injects axe-core (once per document) and runs every rule of its
// default set on the whole page, plus WCAG 2.2's target size (off by
// default in axe). The DevTools protocol evaluates outside the
// page's Content-Security-Policy, so the site's strict CSP stays as it is.
func axeRun(t *testing.T, p *page, axeJS []byte) []axeViolation {
	t.Helper()
	var loaded bool
	p.eval(`typeof window.axe === 'object'`, &loaded)
	if !loaded {
		p.eval(string(axeJS)+"\n;true", nil)
	}
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[json.RawMessage](`axe.run(document, {resultTypes: ['violations'], rules: {'target-size': {enabled: true}}}).then((r) =>
	  r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
	    nodes: v.nodes.map((n) => ({target: n.target.map(String), summary: n.failureSummary}))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	var out []axeViolation
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("axe.run: decode %s: %v", raw, err)
	}
	return out
}

// axeCheck fails the test on any violation, of any impact.
func axeCheck(t *testing.T, p *page, axeJS []byte, where string) {
	t.Helper()
	for _, v := range axeRun(t, p, axeJS) {
		t.Errorf("%s: axe %s", where, v)
	}
}

// axeAllModes checks the page as it is, in both colour schemes, at desktop
// width and at 360 px.
func axeAllModes(t *testing.T, p *page, axeJS []byte, where string) {
	t.Helper()
	for _, vp := range []viewport{desktop, phone} {
		p.viewport(vp)
		for _, scheme := range []string{"light", "dark"} {
			p.colorScheme(scheme)
			axeCheck(t, p, axeJS, fmt.Sprintf("%s %s %s", where, vp.name, scheme))
		}
	}
	p.colorScheme("light")
	p.viewport(desktop)
}

// perfJS gathers, after the load, what the page fetched (resource timing:
// encodedBodySize is the size on the wire, gzipped when the server
// compresses) and its paint and layout-shift entries.
const perfJS = `new Promise((resolve) => {
  const cls = {value: 0, sources: []};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.hadRecentInput) continue;
      cls.value += e.value;
      for (const s of e.sources || []) cls.sources.push(s.node ? (s.node.id || s.node.className || s.node.nodeName) : '?');
    }
  }).observe({type: 'layout-shift', buffered: true});
  let lcp = 0;
  new PerformanceObserver((list) => { for (const e of list.getEntries()) lcp = e.startTime; })
    .observe({type: 'largest-contentful-paint', buffered: true});
  // Let the playground enhancement and any late shift happen first.
  setTimeout(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    resolve({
      origin: location.origin,
      doc: {encoded: nav.encodedBodySize, decoded: nav.decodedBodySize},
      resources: performance.getEntriesByType('resource').map((r) => ({
        name: r.name, type: r.initiatorType, encoded: r.encodedBodySize, decoded: r.decodedBodySize,
        blocking: r.renderBlockingStatus || ''})),
      images: [...document.images].filter((i) => !i.getAttribute('width') || !i.getAttribute('height')).map((i) => i.src),
      fcp: fcp ? fcp.startTime : -1, lcp, cls,
    });
  }, 500);
})`

type perfResult struct {
	Origin string `json:"origin"`
	Doc    struct {
		Encoded float64 `json:"encoded"`
		Decoded float64 `json:"decoded"`
	} `json:"doc"`
	Resources []struct {
		Name     string  `json:"name"`
		Type     string  `json:"type"`
		Encoded  float64 `json:"encoded"`
		Decoded  float64 `json:"decoded"`
		Blocking string  `json:"blocking"`
	} `json:"resources"`
	Images []string `json:"images"`
	FCP    float64  `json:"fcp"`
	LCP    float64  `json:"lcp"`
	CLS    struct {
		Value   float64  `json:"value"`
		Sources []string `json:"sources"`
	} `json:"cls"`
}

// perfCheck loads one page with the cache disabled, evaluates before (if
// any), and checks the budgets (perfMeasure).
func perfCheck(t *testing.T, browser context.Context, base, path string, vp viewport, before string) (problems []string) {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(browser)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(tab, tabTimeout)
	defer cancel()
	p := &page{t: t, ctx: ctx}
	p.disableCache()
	p.viewport(vp)
	p.do(chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS(`body`)))
	p.wait("the load", `document.readyState === 'complete'`, 10*time.Second)
	if before != "" {
		p.eval(before, nil)
	}
	return perfMeasure(t, p, path, vp)
}

// disableCache turns the tab's HTTP cache off, so that every load
// transfers (and the resource timing sizes) what a first visit does.
func (p *page) disableCache() {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return fmt.Errorf("network.enable: %w", err)
		}
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
}

// viewport sets the tab's window size (and mobile emulation).
func (p *page) viewport(vp viewport) {
	p.t.Helper()
	if vp.mobile {
		p.do(chromedp.EmulateViewport(vp.width, vp.height, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	} else {
		p.do(chromedp.EmulateViewport(vp.width, vp.height))
	}
}

// perfMeasure checks the budgets of the page just loaded in p (with the
// cache off): JS + CSS under 30 KB on the wire and compressed, no request
// to another origin, no layout shift (CLS < 0.1), images sized. It logs
// the figures and returns the problems.
func perfMeasure(t *testing.T, p *page, path string, vp viewport) (problems []string) {
	t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[json.RawMessage](perfJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: performance entries: %v", path, err)
	}
	var r perfResult
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: decode %s: %v", path, raw, err)
	}
	where := path + " " + vp.name
	var wire, decoded, dev float64
	for _, res := range r.Resources {
		u, err := url.Parse(res.Name)
		if err != nil || u.Scheme+"://"+u.Host != r.Origin {
			problems = append(problems, fmt.Sprintf("%s: request to another origin: %s (%s)", where, res.Name, res.Type))
			continue
		}
		if !strings.HasSuffix(u.Path, ".js") && !strings.HasSuffix(u.Path, ".css") {
			continue
		}
		if strings.HasPrefix(u.Path, "/_playdoc/") {
			// The live-reload script of playdoc serve: never on the
			// published site, so outside its budget; reported all the same.
			dev += res.Encoded
			continue
		}
		if res.Encoded == 0 {
			problems = append(problems, fmt.Sprintf("%s: %s: no size in the resource timing (served from cache?)", where, res.Name))
		}
		if res.Encoded >= res.Decoded && res.Decoded > 1024 {
			problems = append(problems, fmt.Sprintf("%s: %s is sent uncompressed (%.0f bytes)", where, u.Path, res.Encoded))
		}
		wire += res.Encoded
		decoded += res.Decoded
	}
	if wire > jsCSSBudget {
		problems = append(problems, fmt.Sprintf("%s: %.0f bytes of JS + CSS on the wire, budget %d", where, wire, jsCSSBudget))
	}
	if r.CLS.Value >= 0.1 {
		problems = append(problems, fmt.Sprintf("%s: cumulative layout shift %.3f (from %v), want < 0.1", where, r.CLS.Value, r.CLS.Sources))
	}
	for _, img := range r.Images {
		problems = append(problems, fmt.Sprintf("%s: image without width and height: %s", where, img))
	}
	t.Logf("%-34s JS+CSS %5.0f B gzipped (%5.0f B raw; serve's reload script %4.0f B more), HTML %5.0f B gzipped (%5.0f raw), FCP %4.0f ms, LCP %4.0f ms, CLS %.3f",
		where, wire, decoded, dev, r.Doc.Encoded, r.Doc.Decoded, r.FCP, r.LCP, r.CLS.Value)
	return problems
}

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

// axePage runs axe on one page at desktop and phone sizes, each in light
// and dark, and checks that the phone layout does not scroll sideways.
func axePage(t *testing.T, browser context.Context, axeJS []byte, base, path string) {
	for _, vp := range []viewport{desktop, phone} {
		p, close := openAuditTabWith(t, browser, base+path, vp, func(p *page) {
			for _, problem := range perfMeasure(t, p, path, vp) {
				t.Error(problem)
			}
		})
		for _, scheme := range []string{"light", "dark"} {
			p.colorScheme(scheme)
			axeCheck(t, p, axeJS, fmt.Sprintf("%s %s %s", path, vp.name, scheme))
		}
		if vp.mobile {
			// Reflow (WCAG 1.4.10): nothing wider than the phone.
			var width float64
			p.eval(`document.documentElement.scrollWidth`, &width)
			if width > float64(vp.width) {
				t.Errorf("%s: the page is %.0f px wide at %d px", path, width, vp.width)
			}
		}
		p.noConsoleErrors("404 (Not Found)")
		close()
	}
}
