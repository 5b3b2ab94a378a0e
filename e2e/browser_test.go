package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// browserEnv names the environment variable through which TestMain hands
// the websocket address of the Chromium it started to the tests.
const browserEnv = "PLAYDOC_E2E_BROWSER"

// startChromium starts the headless Chromium that every test of the package
// shares, with a fresh profile, and returns its DevTools websocket address
// (ws://127.0.0.1:PORT/devtools/browser/ID) and a func that stops it and
// removes the profile. One browser instead of one per test saves ~2.5 s of
// CPU per test (issue 8); each test still connects on its own and each page
// has a browser context of its own (acquireTab).
func startChromium() (wsURL string, stop func(), err error) {
	path, err := chromiumPath()
	if err != nil {
		return "", nil, err
	}
	profile, err := os.MkdirTemp("", "playdoc-e2e-chromium")
	if err != nil {
		return "", nil, fmt.Errorf("chromium profile: %w", err)
	}
	// The minimal flags, as documented in the README ("The page playground").
	// The websocket dialer makes chromedp start it with
	// --remote-debugging-port=0, for the tests to connect to.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),                      // no display
		chromedp.Flag("no-sandbox", true),                    // CI containers run as root, where the sandbox refuses to start
		chromedp.Flag("disable-gpu", true),                   // no GPU in CI
		chromedp.Flag("no-first-run", true),                  // no welcome page or first-run dialogs
		chromedp.Flag("disable-background-networking", true), // no requests other than the page's
		chromedp.Flag("disable-component-update", true),      // no component downloads
		chromedp.Flag("disable-sync", true),                  // no account sync
		chromedp.UserDataDir(profile),                        // a fresh profile per run
		// Chromium's CPU was a third of the suite's on a new machine
		// (issue 8). With the back-forward cache, a page left for the
		// next one (tabPool's reset, openAuditTab's loads) stayed alive in
		// its renderer, and the next load swapped to a new renderer
		// process: about two renderer starts per page load. The omnibox
		// popup's WebUI pages, which headless Chromium builds and keeps
		// ticking though nothing shows them, cost ~1.7 s of CPU per
		// browser start. No test uses either.
		chromedp.Flag("disable-features", "BackForwardCache,ProactivelySwapBrowsingInstance,"+
			"WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup"),
		remote.WebSocket,
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	stop = func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(profile)
	}
	// Targets connects to the browser without opening a tab.
	if _, err := chromedp.Targets(bctx); err != nil {
		stop()
		return "", nil, fmt.Errorf("start chromium %s: %w", path, err)
	}
	b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort"))
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("chromium's DevTools address: %w", err)
	}
	port, wsPath, ok := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if !ok || !strings.HasPrefix(wsPath, "/devtools/browser/") {
		stop()
		return "", nil, fmt.Errorf("chromium's DevToolsActivePort is %q, want a port and /devtools/browser/ID", b)
	}
	return "ws://127.0.0.1:" + port + wsPath, stop, nil
}

// newBrowser connects one top-level test to the package's Chromium
// (startChromium) and returns the context of the browser; every page opens
// a tab of its own in it. The test's tabs are closed when it ends.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	wsURL := os.Getenv(browserEnv)
	if wsURL == "" {
		t.Fatalf("%s is not set: TestMain did not start Chromium", browserEnv)
	}
	actx, cancelAlloc := remote.NewAllocator(context.Background(), wsURL, remote.NoModifyURL)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// Targets connects without opening a tab.
	if _, err := chromedp.Targets(bctx); err != nil {
		t.Fatalf("connect to chromium at %s: %v", wsURL, err)
	}
	pool := &tabPool{}
	// Cleanups run last-in first-out: the idle tabs are closed (and
	// their browser contexts disposed of) before the connection ends, so
	// that none stays open in the shared browser.
	t.Cleanup(func() {
		pool.mu.Lock()
		idle := pool.idle
		pool.idle = nil
		pool.mu.Unlock()
		for _, tb := range idle {
			tb.close()
		}
	})
	return context.WithValue(bctx, tabPoolKey{}, pool)
}

// tabPool keeps a browser's tabs for the next page to reuse. Opening a tab
// costs Chromium about 1.8 s of CPU and a page load in an open tab 0.5 s
// (20 loads of /asyncio/gather/ each way, measured with a cpuacct cgroup):
// Chromium was 35% of the suite's CPU on a new machine (issue 8).
type tabPool struct {
	mu   sync.Mutex
	idle []*tab
}

type tabPoolKey struct{}

// tab is one Chromium tab in a browser context of its own: each page opened
// in it is a new reader, with no edits kept in localStorage by an earlier
// page (release clears what the pages stored).
type tab struct {
	ctx   context.Context // the tab's chromedp context
	close context.CancelFunc

	mu      sync.Mutex
	origins map[string]bool // the origins pages were opened on, whose storage release clears
}

// acquireTab takes an idle tab of the browser, or opens one. release (also
// called when t ends; idempotent) ends the use, whose context it cancels,
// and gives the tab back to the browser's pool, reset; a tab that cannot be
// reset is closed.
func acquireTab(t testing.TB, browser context.Context) (tb *tab, use context.Context, release func()) {
	pool, _ := browser.Value(tabPoolKey{}).(*tabPool)
	reused := false
	if pool != nil {
		pool.mu.Lock()
		if n := len(pool.idle); n > 0 {
			tb = pool.idle[n-1]
			pool.idle = pool.idle[:n-1]
			reused = true
		}
		pool.mu.Unlock()
	}
	if tb == nil {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		// Open the tab on its own context: a target is bound to the
		// context of its first action, which must outlive the uses.
		if err := chromedp.Do(ctx); err != nil {
			cancel()
			t.Fatalf("open a tab: %v", err)
		}
		tb = &tab{ctx: ctx, close: cancel, origins: map[string]bool{}}
	}
	use, cancel := context.WithCancel(tb.ctx)
	if reused {
		// The tab opened last is the one in front; one behind it is
		// hidden, and Chromium pauses its animation frames and throttles
		// its timers.
		if err := chromedp.Do(use, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, cdppage.BringToFront, cdp.Empty{})
			return err
		})); err != nil {
			t.Fatalf("bring a reused tab to the front: %v", err)
		}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			cancel()
			if pool == nil {
				tb.close()
				return
			}
			if err := tb.reset(); err != nil {
				t.Logf("closing a tab that could not be reset: %v", err)
				tb.close()
				return
			}
			pool.mu.Lock()
			pool.idle = append(pool.idle, tb)
			pool.mu.Unlock()
		})
	}
	t.Cleanup(release)
	return tb, use, release
}

// opened records that a page of url's origin is opened in the tab.
func (tb *tab) opened(url string) {
	if u, err := neturl.Parse(url); err == nil && u.Host != "" {
		tb.mu.Lock()
		tb.origins[u.Scheme+"://"+u.Host] = true
		tb.mu.Unlock()
	}
}

// reset makes the tab as a new one: what the pages stored (localStorage,
// cookies, IndexedDB; the current page's sessionStorage) cleared, the page
// left for about:blank (its scripts, timers and streams end), and the
// emulated viewport, colour scheme and disabled cache undone.
func (tb *tab) reset() error {
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	tb.mu.Lock()
	origins := make([]string, 0, len(tb.origins))
	for o := range tb.origins {
		origins = append(origins, o)
	}
	clear(tb.origins)
	tb.mu.Unlock()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { sessionStorage.clear(); } catch (e) {} return true; })()`)); err != nil {
		return fmt.Errorf("clear sessionStorage: %w", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return fmt.Errorf("navigate to about:blank: %w", err)
	}
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, o := range origins {
			if _, err := cdp.Call(ctx, tg, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: o, StorageTypes: "all"}); err != nil {
				return fmt.Errorf("clear the storage of %s: %w", o, err)
			}
		}
		if _, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: false})
		return err
	}))
}

// page is one tab on a page of the site, with what its console said.
type page struct {
	t   testing.TB
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// helperJS is evaluated in the page after load. It reads the playground's
// DOM for the tests and records, with a MutationObserver, when the first
// output line and the footer of a snippet appeared (to prove streaming).
const helperJS = `window.pgt = {
  fig(name) { return document.querySelector('figure[data-name="' + name + '"]'); },
  setCode(name, code) {
    const ta = this.fig(name).querySelector('textarea');
    ta.value = code;
    ta.dispatchEvent(new Event('input', {bubbles: true}));
    return true;
  },
  watch(name) {
    const f = this.fig(name), rec = {firstLine: 0, footEmptyAtFirstLine: false, foot: 0};
    f.pgRec = rec;
    const check = () => {
      const now = performance.now(), foot = f.querySelector('.pg-foot').textContent;
      if (!rec.firstLine && f.querySelector('.pg-log .pg-line')) { rec.firstLine = now; rec.footEmptyAtFirstLine = foot === ''; }
      if (!rec.foot && foot !== '') rec.foot = now;
    };
    new MutationObserver(check).observe(f, {childList: true, characterData: true, subtree: true});
    return true;
  },
  state(name) {
    const f = this.fig(name), q = (s) => f.querySelector(s), all = (s) => [...f.querySelectorAll(s)];
    const foot = q('.pg-foot');
    return {
      running: f.classList.contains('pg-running'),
      lines: all('.pg-log .pg-line').map((l) => l.textContent),
      stderr: all('.pg-log .pg-stderr').map((l) => l.textContent),
      foot: foot ? foot.textContent : '',
      wallMs: foot && foot.dataset.wallMs ? +foot.dataset.wallMs : -1,
      status: q('.pg-status') ? q('.pg-status').textContent : '',
      msg: q('.pg-msg') ? q('.pg-msg').textContent : '',
      errors: all('.pg-errbtn').map((b) => b.textContent),
      marks: all('.pg-mark').map((m) => +m.dataset.line),
      runLabel: q('.pg-run') ? q('.pg-run').textContent : '',
      stopVisible: !!q('.pg-stop') && q('.pg-stop').offsetParent !== null,
      timeline: q('.pg-tl') && !q('.pg-tl').hidden ? q('.pg-tl').getAttribute('aria-label') : '',
      ticks: all('.pg-tick').length,
      expected: q('.output-expected') ? q('.output-expected').textContent : '',
      rec: f.pgRec || null,
    };
  },
  done(name) {
    const f = this.fig(name);
    return !f.classList.contains('pg-running') && f.querySelector('.pg-foot').textContent !== '';
  },
};
true`

// snippetState mirrors pgt.state.
type snippetState struct {
	Running     bool     `json:"running"`
	Lines       []string `json:"lines"`
	Stderr      []string `json:"stderr"`
	Foot        string   `json:"foot"`
	WallMs      float64  `json:"wallMs"`
	Status      string   `json:"status"`
	Msg         string   `json:"msg"`
	Errors      []string `json:"errors"`
	Marks       []int    `json:"marks"`
	RunLabel    string   `json:"runLabel"`
	StopVisible bool     `json:"stopVisible"`
	Timeline    string   `json:"timeline"`
	Ticks       int      `json:"ticks"`
	Expected    string   `json:"expected"`
	Rec         *struct {
		FirstLine            float64 `json:"firstLine"`
		FootEmptyAtFirstLine bool    `json:"footEmptyAtFirstLine"`
		Foot                 float64 `json:"foot"`
	} `json:"rec"`
}

// openPage opens url in a new tab of the browser, waits for the playground
// to set up, and installs the test helpers.
func openPage(t testing.TB, browser context.Context, url string) *page {
	t.Helper()
	tb, ctx, _ := acquireTab(t, browser)
	tb.opened(url)
	p := &page{t: t, ctx: ctx}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	p.do(chromedp.EmulateViewport(1280, 900))
	p.navigate(url)
	return p
}

func (p *page) navigate(url string) {
	p.t.Helper()
	p.do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(`body`)))
	// The script is deferred: wait for it to have built the editors.
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](
		`document.querySelectorAll('figure[data-run]').length > 0 && document.querySelectorAll('figure[data-run] textarea.pg-ta').length === document.querySelectorAll('figure[data-run]').length`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		p.t.Fatalf("%s: the playground did not set up the snippets: %v", url, err)
	}
	p.eval(helperJS, nil)
}

// do runs actions, failing the test on error.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression and decodes its JSON value into out
// (when out is not nil).
func (p *page) eval(expr string, out any) {
	p.t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[json.RawMessage](expr))
	if err != nil {
		p.t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("evaluate %.80q: decode %s: %v", expr, raw, err)
		}
	}
}

// evalAwait is eval for an expression whose value is a promise: it
// decodes what the promise resolves to.
func (p *page) evalAwait(expr string, out any) {
	p.t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		p.t.Fatalf("evaluate %.80q: decode %s: %v", expr, raw, err)
	}
}

// wait polls a JavaScript predicate until it is true.
func (p *page) wait(what, predicate string, timeout time.Duration) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		p.t.Fatalf("waiting for %s (%s): %v", what, predicate, err)
	}
}

func fig(name string) string { return fmt.Sprintf(`figure[data-name=%q]`, name) }

func (p *page) state(name string) snippetState {
	p.t.Helper()
	var s snippetState
	p.eval(fmt.Sprintf(`pgt.state(%q)`, name), &s)
	return s
}

func (p *page) setCode(name, code string) {
	p.t.Helper()
	js, _ := json.Marshal(code)
	p.eval(fmt.Sprintf(`pgt.setCode(%q, %s)`, name, js), nil)
}

// run presses the snippet's Run button and waits for the run to end.
func (p *page) run(name string, timeout time.Duration) snippetState {
	p.t.Helper()
	p.eval(fmt.Sprintf(`pgt.watch(%q)`, name), nil)
	p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-run`)))
	p.wait("the end of the run of "+name, fmt.Sprintf(`pgt.done(%q)`, name), timeout)
	return p.state(name)
}

// noConsoleErrors fails on errors the page logged (exceptions, CSP
// violations, failed requests), except the missing favicon and those
// containing one of the allowed strings (expected HTTP errors).
func (p *page) noConsoleErrors(allowed ...string) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
next:
	for _, m := range p.console {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException || strings.HasSuffix(m.URL, "/favicon.ico") {
			continue
		}
		for _, a := range allowed {
			if strings.Contains(m.Text, a) {
				continue next
			}
		}
		p.t.Errorf("console %s (source %q): %s", m.Type, m.Source, m.Text)
	}
}

// consoleHas reports whether a console error containing text was logged.
func (p *page) consoleHas(text string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.console {
		if strings.Contains(m.Text, text) {
			return true
		}
	}
	return false
}

// colorScheme emulates prefers-color-scheme.
func (p *page) colorScheme(scheme string) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// screenshot saves a PNG of the viewport with the snippet scrolled into view,
// under testdata/screenshots/ (gitignored), for a human to look at.
func (p *page) screenshot(name, file string) {
	p.t.Helper()
	var width int
	p.eval(`window.innerWidth`, &width)
	if width > 400 { // a desktop shot: tall enough for the editor, output and footer
		p.do(chromedp.EmulateViewport(int64(width), 1300))
		defer p.do(chromedp.EmulateViewport(int64(width), 900))
	}
	p.eval(fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'start'}); true`, fig(name)), nil)
	saveScreenshot(p.t, p, file)
}
