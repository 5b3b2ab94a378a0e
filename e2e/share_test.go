package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestShareLink: on the real tutorial under `playdoc serve`, a reader edits
// a snippet, the edit survives a reload, Share (by keyboard) copies a link
// and says so to screen readers; the link opened in a fresh browser (no
// shared storage) shows the edited code on a playground page that links
// back to the tutorial, and runs it. Reset drops the edit, for good. The
// /play/ page's examples menu loads a tutorial snippet.
func TestShareLink(t *testing.T) {
	// The playground need not be ready until the shared code is run.
	srv := startServeProc(t)
	base := srv.base
	url := base + "/asyncio/gather/"
	p := openPage(t, newBrowser(t), url)
	allowClipboard(t, p, base)

	var orig string
	p.eval(`pgt.fig('gather').querySelector('textarea').value`, &orig)
	marker := fmt.Sprintf("shared-%d", time.Now().UnixNano())
	edited := "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"" + marker + "\")\n}\n"
	p.setCode("gather", edited)

	// Reload: the edit is back, and the reader is told.
	p.navigate(url)
	if got := p.code("gather"); got != edited {
		t.Fatalf("after reload the editor has %q, want the edit %q", got, edited)
	}
	if st := p.state("gather"); !strings.Contains(st.Status, "Your edit is back") {
		t.Errorf("after reload the status says %q", st.Status)
	}

	// Share by keyboard: focus the button, press Enter.
	var live string
	p.eval(`pgt.fig('gather').querySelector('.pg-share-msg').getAttribute('aria-live')`, &live)
	if live != "polite" {
		t.Errorf("the share message is not a live region (aria-live=%q)", live)
	}
	p.eval(`pgt.fig('gather').querySelector('.pg-share').focus(), true`, nil)
	p.do(chromedp.KeyEvent(kb.Enter))
	p.wait("the share's answer", `(() => { const m = pgt.fig('gather').querySelector('.pg-share-msg').textContent; return m !== '' && m !== 'Sharing…'; })()`, 30*time.Second)
	var res struct{ Msg, Link, Clip, Focus string }
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`(async () => {
		const f = pgt.fig('gather');
		let clip = '';
		try { clip = await navigator.clipboard.readText(); } catch (e) { clip = 'unreadable: ' + e; }
		return JSON.stringify({Msg: f.querySelector('.pg-share-msg').textContent, Link: f.querySelector('.pg-link').value,
			Clip: clip, Focus: document.activeElement.className});
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `/p/[\w-]{11,}$`).MatchString(res.Link) {
		t.Fatalf("share: link %q, message %q", res.Link, res.Msg)
	}
	if res.Msg != "Link copied to the clipboard" || res.Clip != res.Link {
		t.Errorf("share: message %q, clipboard %q; want the link %q copied", res.Msg, res.Clip, res.Link)
	}
	if !strings.Contains(res.Focus, "pg-share") {
		t.Errorf("focus moved to %q after sharing, want it on the Share button", res.Focus)
	}
	p.noConsoleErrors()

	// A fresh browser: another profile, so nothing comes from localStorage.
	q := openPage(t, newBrowser(t), res.Link)
	if got := q.code("play"); got != edited {
		t.Fatalf("%s shows %q, want the edited code", res.Link, got)
	}
	var back string
	q.eval(`(document.querySelector('.play-from a') || {}).getAttribute ? document.querySelector('.play-from a').getAttribute('href') : ''`, &back)
	if back != "/asyncio/gather/#snippet-gather" {
		t.Errorf("link back to the tutorial %q, want /asyncio/gather/#snippet-gather", back)
	}
	srv.waitPlaygroundReady(t, warmTimeout)
	st := q.run("play", runTimeout)
	if len(st.Lines) != 1 || !strings.HasSuffix(st.Lines[0], marker) || st.Foot == "" || !strings.Contains(st.Foot, "Exit status 0") {
		t.Errorf("running the shared code: lines %q, foot %q", st.Lines, st.Foot)
	}
	q.noConsoleErrors()

	// Reset drops the edit, and a reload does not bring it back.
	p.do(chromedp.Click(chromedp.CSS(fig("gather") + ` .pg-reset`)))
	if got := p.code("gather"); got != orig {
		t.Errorf("after Reset the editor has %q, want the original", got)
	}
	p.navigate(url)
	if got := p.code("gather"); got != orig {
		t.Errorf("after Reset and a reload the editor has %q, want the original", got)
	}

	// The standalone playground: the examples menu loads a snippet (its
	// code read from the snippet's page).
	q.navigate(base + "/play/")
	q.eval(`(() => { const s = document.getElementById('play-example');
		const o = [...s.options].find((o) => o.dataset.from === '/asyncio/gather/#snippet-gather');
		s.value = o.value; s.dispatchEvent(new Event('change')); return true; })()`, nil)
	q.wait("the gather example in the editor", `!pgt.fig('play').querySelector('textarea').value.includes('Hello, playground')`, 10*time.Second)
	if got := q.code("play"); got != orig {
		t.Errorf("/play/ after picking the gather example: %q, want the tutorial's code %q", got, orig)
	}
	q.noConsoleErrors()
}

// code is the editor's text of snippet name.
func (p *page) code(name string) string {
	p.t.Helper()
	var s string
	p.eval(fmt.Sprintf(`pgt.fig(%q).querySelector('textarea').value`, name), &s)
	return s
}

// warmTimeout bounds a cold start's warm-up when the test has done its other
// work meanwhile: on a loaded 2-core machine it has taken more than 5 min.
const warmTimeout = 15 * time.Minute

// allowClipboard grants the page's origin clipboard access, as a reader's
// click does in a real browser (headless Chromium asks nobody).
func allowClipboard(t *testing.T, p *page, origin string) {
	t.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
				Setting:    browser.PermissionSettingGranted, Origin: origin,
				// Each page has a browser context of its own (openPage).
				BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
			})
			return err
		}))
	}
}
