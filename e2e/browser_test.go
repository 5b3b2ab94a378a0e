package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// newBrowser starts a headless Chromium for one top-level test and returns
// the context of the browser; every page opens its own tab in it.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	// The minimal flags, as documented in the README ("The page playground").
	// chromedp adds --remote-debugging-port=0 itself, to talk to the browser.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),                      // no display
		chromedp.Flag("no-sandbox", true),                    // CI containers run as root, where the sandbox refuses to start
		chromedp.Flag("disable-gpu", true),                   // no GPU in CI
		chromedp.Flag("no-first-run", true),                  // no welcome page or first-run dialogs
		chromedp.Flag("disable-background-networking", true), // no requests other than the page's
		chromedp.Flag("disable-component-update", true),      // no component downloads
		chromedp.Flag("disable-sync", true),                  // no account sync
		chromedp.UserDataDir(t.TempDir()),                    // a fresh profile per run
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return bctx
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
	// A browser context of its own: each page is a new reader, with no
	// edits kept in localStorage by an earlier scenario.
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
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
