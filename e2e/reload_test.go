package e2e

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// reloadWait bounds how long an open page may take to follow a change
// (generous: the machine is shared; the devserver benchmark measures it).
const reloadWait = 15 * time.Second

// copyTree copies the folder src into dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// startServeOn runs `playdoc serve` on copies of content/ and
// templates/static/ in a temporary folder, without the playground, and
// returns the base URL and the copied content folder.
func startServeOn(t testing.TB) (base, content string) {
	t.Helper()
	dir := t.TempDir()
	content = filepath.Join(dir, "content")
	static := filepath.Join(dir, "static")
	copyTree(t, filepath.Join(repoRoot(), "content"), content)
	copyTree(t, filepath.Join(repoRoot(), "templates", "static"), static)
	s := runServe(t, dir, true, "--content", content, "--static", static, "--no-playground")
	s.waitReady(t, "/gather/ answering 200", 60*time.Second, func() error { return httpOK(s.base + "/asyncio/gather/") })
	return s.base, content
}

// httpOK fetches url and reports why it did not answer 200.
func httpOK(url string) error {
	_, err := httpBody(url)
	return err
}

// waitThrough polls a JavaScript predicate in p until it is true, through
// the page's own reloads (a poll interrupted by a navigation is retried).
func waitThrough(t testing.TB, p *page, what, predicate string) {
	t.Helper()
	deadline := time.Now().Add(reloadWait)
	var last error
	for time.Now().Before(deadline) {
		_, err := chromedp.Run(p.ctx, chromedp.Poll[chromedp.Void](predicate,
			chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(20*time.Millisecond)))
		if err == nil {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %s (%s): %v", what, predicate, last)
}

// editFile replaces old with new in a content file, failing if old is
// absent (the test would prove nothing).
func editFile(t testing.TB, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLiveReload opens two pages of `playdoc serve` and edits the content
// under them: the edited page patches itself in place, keeping its scroll
// position, while the other does not even fetch itself; a broken build
// shows an overlay on the open page, and the fix clears it.
func TestLiveReload(t *testing.T) {
	base, content := startServeOn(t)
	browser := newBrowser(t)
	gather := openPage(t, browser, base+"/asyncio/gather/")
	other := openPage(t, browser, base+"/asyncio/first-program/")
	for _, p := range []*page{gather, other} {
		// Connected to the event stream: reload.js got its hello.
		waitThrough(t, p, "the live-reload stream", `document.documentElement.hasAttribute('data-playdoc-build')`)
		// A mark that a reload wipes out.
		p.eval(`window.reloadMark = 1; true`, nil)
	}
	gather.eval(`window.scrollTo(0, 700); true`, nil)
	var y float64
	gather.eval(`window.scrollY`, &y)
	if y < 600 {
		t.Fatalf("could not scroll the page: scrollY %v", y)
	}

	src := filepath.Join(content, "asyncio", "05-gather.md")
	const edited = "This paragraph was edited while the page was open."
	editFile(t, src, "This is the example the whole article builds up to:", edited+" This is the example the whole article builds up to:")

	// The edited page patches itself: no navigation.
	{
		waitThrough(t, gather, "the edit in the open page", fmt.Sprintf(`document.body.textContent.includes(%q)`, edited))
		var st struct {
			Mark    bool    `json:"mark"`
			Patched string  `json:"patched"`
			Y       float64 `json:"y"`
		}
		gather.eval(`({mark: window.reloadMark === 1, patched: document.documentElement.getAttribute('data-playdoc-patched'), y: window.scrollY})`, &st)
		if !st.Mark || st.Patched == "" {
			t.Errorf("the page was reloaded, not patched (mark kept %v, patches %q)", st.Mark, st.Patched)
		}
		if math.Abs(st.Y-700) >= 50 {
			t.Errorf("scrollY %v after the patch, want 700 ± 50", st.Y)
		}
	}
	// The other page neither reloads nor fetches itself.
	{
		var st struct {
			Mark    bool `json:"mark"`
			Fetched bool `json:"fetched"`
		}
		other.eval(`({mark: window.reloadMark === 1, fetched: performance.getEntriesByType('resource').some((e) => e.initiatorType === 'fetch' && new URL(e.name).pathname === location.pathname)})`, &st)
		if !st.Mark || st.Fetched {
			t.Errorf("/first-program/ after an edit of the body of /gather/ only: mark kept %v, fetched itself %v", st.Mark, st.Fetched)
		}
	}

	// A broken build shows an overlay, the fix clears it.
	{
		gather.eval(`window.reloadMark = 2; true`, nil)
		editFile(t, src, "order: 5", "order: [5")
		waitThrough(t, gather, "the error overlay", `(() => { const o = document.getElementById('playdoc-overlay');
			return !!o && !o.hidden && o.textContent.includes('content/asyncio/05-gather.md:'); })()`)
		var ov struct {
			Role     string `json:"role"`
			Position string `json:"position"`
			Button   string `json:"button"`
			Fg, Bg   string
			Mark     bool `json:"mark"`
		}
		gather.eval(`(() => { const o = document.getElementById('playdoc-overlay'), s = getComputedStyle(o);
			return {role: o.getAttribute('role'), position: s.position, button: o.querySelector('button').textContent,
			        fg: s.color, bg: s.backgroundColor, mark: window.reloadMark === 2}; })()`, &ov)
		if ov.Role != "alert" && ov.Role != "alertdialog" {
			t.Errorf("overlay role %q, want alert", ov.Role)
		}
		if ov.Position != "fixed" {
			t.Errorf("overlay position %q: its stylesheet did not apply (CSP?)", ov.Position)
		}
		if ov.Button != "Dismiss" {
			t.Errorf("overlay button %q", ov.Button)
		}
		if !ov.Mark {
			t.Errorf("a failed build reloaded the page")
		}
		// Readable in both themes: WCAG AA contrast of every text.
		for _, scheme := range []string{"light", "dark"} {
			gather.colorScheme(scheme)
			var worst struct {
				Ratio float64 `json:"ratio"`
				What  string  `json:"what"`
			}
			gather.eval(overlayContrastJS, &worst)
			t.Logf("%s theme: lowest overlay contrast %.2f (%s)", scheme, worst.Ratio, worst.What)
			saveScreenshot(t, gather, "reload-overlay-"+scheme+".png")
			if worst.Ratio < 4.5 {
				t.Errorf("%s theme: overlay text %s has contrast %.2f, want ≥ 4.5", scheme, worst.What, worst.Ratio)
			}
		}
		// The page opened now gets the error at once, over the last
		// good build.
		late := openPage(t, browser, base+"/asyncio/gather/")
		waitThrough(t, late, "the error overlay on a page opened while broken", `(() => { const o = document.getElementById('playdoc-overlay');
			return !!o && !o.hidden; })()`)
		waitThrough(t, late, "the last good build", fmt.Sprintf(`document.body.textContent.includes(%q)`, edited))

		// Dismissed by keyboard.
		gather.do(chromedp.Focus(chromedp.CSS(`#playdoc-overlay button`)))
		gather.do(chromedp.KeyEvent(kb.Enter))
		waitThrough(t, gather, "the overlay dismissed", `document.getElementById('playdoc-overlay').hidden`)

		// The fix clears the overlay everywhere, and patches the page
		// with what the fix changed (here: nothing).
		editFile(t, src, "order: [5", "order: 5")
		for _, p := range []*page{gather, late} {
			waitThrough(t, p, "the overlay cleared", `(() => { const o = document.getElementById('playdoc-overlay');
				return !o || o.hidden; })()`)
		}
		var mark bool
		gather.eval(`window.reloadMark === 2`, &mark)
		if !mark {
			t.Errorf("the fixed build reloaded the page")
		}
		for _, p := range []*page{gather, late, other} {
			p.noConsoleErrors("404")
		}
	}
}

// TestLiveReloadMissedEvent: a page whose event stream connects only after
// a build that changed it (here: the stream is blocked until then) learns
// it from the greeting and reloads.
func TestLiveReloadMissedEvent(t *testing.T) {
	base, content := startServeOn(t)
	ctx, cancel := chromedp.NewContext(newBrowser(t))
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	block := func(on bool) {
		p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			var patterns []*network.BlockPattern
			if on {
				patterns = []*network.BlockPattern{{URLPattern: base + "/_playdoc/events", Block: true}}
			}
			_, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: patterns})
			return err
		}))
	}
	block(true)
	p.navigate(base + "/asyncio/gather/")
	p.eval(`window.reloadMark = 1; true`, nil)

	const edited = "Edited while the page could not hear."
	editFile(t, filepath.Join(content, "asyncio", "05-gather.md"), "This is the example the whole article builds up to:", edited+" This is the example the whole article builds up to:")
	deadline := time.Now().Add(reloadWait)
	for {
		body, err := httpBody(base + "/asyncio/gather/")
		if err == nil && strings.Contains(body, edited) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not rebuild the edited page: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var stale bool
	p.eval(fmt.Sprintf(`window.reloadMark === 1 && !document.body.textContent.includes(%q)`, edited), &stale)
	if !stale {
		t.Fatal("the page changed while its event stream was blocked")
	}
	block(false) // reload.js reconnects
	waitThrough(t, p, "the stale page to reload", fmt.Sprintf(`document.body.textContent.includes(%q)`, edited))
}

// httpBody fetches url's body; an answer other than 200 is an error.
func httpBody(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, res.Status)
	}
	b, err := io.ReadAll(res.Body)
	return string(b), err
}

// saveScreenshot saves the viewport under testdata/screenshots/ (not
// committed) for a human to look at.
func saveScreenshot(t testing.TB, p *page, file string) {
	t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// PLAYDOC_SCREENSHOTS chooses the folder (CI keeps it as an artifact).
	dir := os.Getenv("PLAYDOC_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	t.Logf("screenshot: %s", path)
}

// overlayContrastJS returns the lowest WCAG contrast ratio between the text
// colour of the overlay's parts and the background behind them.
const overlayContrastJS = `(() => {
  const rgb = (c) => c.match(/[\d.]+/g).map(Number);
  const lum = (c) => { const [r, g, b] = rgb(c).slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor; if (rgb(c)[3] !== 0) return c; } return 'rgb(255,255,255)'; };
  let worst = {ratio: 99, what: ''};
  for (const el of document.querySelectorAll('#playdoc-overlay h2, #playdoc-overlay li, #playdoc-overlay p, #playdoc-overlay button')) {
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < worst.ratio) worst = {ratio, what: el.tagName.toLowerCase()};
  }
  return worst;
})()`

// TestBuildHasNoReloadMachinery: `playdoc build` output carries nothing of
// live reload (no script, no /_playdoc/ reference).
func TestBuildHasNoReloadMachinery(t *testing.T) {
	out := buildSite(t)
	files := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, bad := range []string{"_playdoc", "reload.js", "data-livereload", "EventSource"} {
			if strings.Contains(p, bad) || strings.Contains(string(b), bad) {
				t.Errorf("%s: built output refers to live reload (%q)", p, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("only %d files built", files)
	}
}
