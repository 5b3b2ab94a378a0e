package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

	t.Run("dark-recolours-only", func(t *testing.T) {
		// The dark scheme's audit runs only darkRules: valid while the
		// dark theme changes nothing else.
		css, err := filepath.Glob(filepath.Join(out, "assets", "*.css"))
		if err != nil || len(css) == 0 {
			t.Fatalf("no stylesheet in %s/assets: %v", out, err)
		}
		for _, f := range css {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range darkRecolourProblems(string(b)) {
				t.Errorf("%s: %s: axe's dark run would miss it (darkRules)", filepath.Base(f), p)
			}
			if !strings.Contains(string(b), darkPrefixes[1]) {
				t.Errorf("%s has no dark theme rules (%s): the check above checked nothing", filepath.Base(f), darkPrefixes[1])
			}
		}
	})
	t.Run("dark-recolours-only-catches", func(t *testing.T) {
		css := `.nav { width: 10rem; color: #000 }
@media (prefers-color-scheme: dark) {
:root:not([data-theme="light"]) .nav { width: 12rem; color: #fff; --gap: 2rem; --fg: #eee }
:root:not([data-theme="light"]) .chroma .k { font-weight: bold }
:root:not([data-theme="light"]) .nav a { display: none }
}`
		got := strings.Join(darkRecolourProblems(css), "\n")
		for _, want := range []string{".nav { width: 12rem }", ".nav { --gap: 2rem }", ".nav a { display: none }"} {
			if !strings.Contains(got, want) {
				t.Errorf("not reported: %s; got:\n%s", want, got)
			}
		}
		for _, fine := range []string{"color", "--fg", "font-weight"} {
			if strings.Contains(got, "{ "+fine+":") {
				t.Errorf("reported a recolouring (%s):\n%s", fine, got)
			}
		}
	})

	// The site first: its pages are crawled and audited while the
	// playground's first start on a new machine still warms the sandbox's
	// build cache (minutes there; the pages do not ask for it). Only the
	// subtest that runs a snippet waits for it (issue 8).
	srv := startServeProc(t)
	base := srv.base

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
		srv.waitPlaygroundCore(t, serveReadyTimeout) // gather imports fmt, sync and time
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
	tb, use, release := acquireTab(t, browser)
	tb.opened(url)
	ctx, cancel := context.WithTimeout(use, tabTimeout)
	close = func() { cancel(); release() }
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

// viewport sets the tab's window size (and mobile emulation).
func (p *page) viewport(vp viewport) {
	p.t.Helper()
	if vp.mobile {
		p.do(chromedp.EmulateViewport(vp.width, vp.height, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	} else {
		p.do(chromedp.EmulateViewport(vp.width, vp.height))
	}
}
