package e2e

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"playdoc/devserver"
)

// TestReaderFeatures serves `playdoc build` as a static host would, under
// the site's CSP, and uses the reader features in Chromium: the theme
// switch (remembered across pages and applied before the first paint, by a
// blocking script in <head> ahead of the stylesheet), the copy buttons,
// unfolding another section of the sidebar from the navigation file, and
// axe in the chosen themes against the system's.
func TestReaderFeatures(t *testing.T) {
	out := buildSite(t)
	srv := &http.Server{Handler: devserver.WithCSP(http.FileServer(http.Dir(out))), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + ln.Addr().String()
	p := openPage(t, newBrowser(t), base+"/using-playdoc/runnable-examples/")

	t.Run("theme", func(t *testing.T) {
		var ok bool
		p.eval(`(() => { const s = document.head.querySelector('script[src^="/assets/theme."]'), l = document.head.querySelector('link[rel=stylesheet]');
			return !!s && !s.defer && !s.async && !!(s.compareDocumentPosition(l) & Node.DOCUMENT_POSITION_FOLLOWING); })()`, &ok)
		if !ok {
			t.Fatal("the theme script is not a blocking script before the stylesheet")
		}
		p.colorScheme("light")
		var label string
		for _, want := range []string{"Theme: System", "Theme: Light", "Theme: Dark"} {
			p.eval(`document.querySelector('.theme-toggle').textContent`, &label)
			if label != want {
				t.Fatalf("switch says %q, want %q", label, want)
			}
			if want != "Theme: Dark" {
				p.do(chromedp.Click(chromedp.CSS(`.theme-toggle`)))
			}
		}
		// The next page starts dark on a light system, with no script run
		// after the stylesheet.
		p.navigate(base + "/asyncio/gather/")
		var bg string
		p.eval(`document.documentElement.dataset.theme + ' ' + getComputedStyle(document.body).backgroundColor`, &bg)
		if bg != "dark rgb(13, 17, 23)" {
			t.Errorf("after choosing dark: %q, want the dark background", bg)
		}
		axeJS := loadAxe(t)
		axeCheck(t, p, axeJS, "/asyncio/gather/ chosen dark, light system")
		p.do(chromedp.Click(chromedp.CSS(`.theme-toggle`))) // → system
		p.colorScheme("dark")
		p.eval(`getComputedStyle(document.body).backgroundColor`, &bg)
		if bg != "rgb(13, 17, 23)" {
			t.Errorf("system dark: background %q", bg)
		}
		p.navigate(base + "/asyncio/gather/")
		p.eval(`document.querySelector('.theme-toggle').textContent`, &label)
		if label != "Theme: System" {
			t.Errorf("after cycling back: %q", label)
		}
		p.colorScheme("dark")
		p.eval(`localStorage.setItem('playdoc-theme', 'light'); true`, nil)
		p.navigate(base + "/asyncio/gather/")
		p.eval(`getComputedStyle(document.body).backgroundColor`, &bg)
		if bg != "rgb(255, 255, 255)" {
			t.Errorf("chosen light on a dark system: background %q", bg)
		}
		axeCheck(t, p, axeJS, "/asyncio/gather/ chosen light, dark system")
		p.eval(`localStorage.removeItem('playdoc-theme'); true`, nil)
		p.colorScheme("light")
	})

	t.Run("copy", func(t *testing.T) {
		p.navigate(base + "/using-playdoc/runnable-examples/")
		// Headless Chromium has no clipboard to grant: the test takes
		// its place, to see what the button writes.
		p.eval(`window.copied = null; navigator.clipboard.writeText = async (t) => { window.copied = t; }; true`, nil)
		var n int
		p.eval(`document.querySelectorAll('.copy-code').length`, &n)
		if n < 2 {
			t.Fatalf("%d copy buttons", n)
		}
		p.do(chromedp.Click(chromedp.CSS(`.code-block .copy-code`)))
		p.wait("the copy button to confirm", `document.querySelector('.code-block .copy-code').textContent === 'Copied'`, 5*time.Second)
		var same bool
		p.eval(`window.copied === document.querySelector('.code-block pre').textContent && window.copied.length > 10`, &same)
		if !same {
			t.Error("the clipboard does not hold the code block")
		}
	})

	t.Run("line-numbers-and-highlights", func(t *testing.T) {
		// A static block: each line its own box of one line's height, the
		// highlighted ones tinted; the numbers show but are not text.
		// (A page without runnable snippets: no editors to wait for.)
		p.do(chromedp.Navigate(base+"/using-playdoc/pages/"), chromedp.WaitReady(chromedp.CSS(`pre.linenos`)))
		var st struct {
			Lines, Marked, Numbers int
			Heights                []float64
			LineHeight             float64
			Tint, Plain, Number    string
			Text                   string
			Hidden                 bool
		}
		p.eval(`(() => { const pre = document.querySelector('pre.linenos'), ls = [...pre.querySelectorAll('.code-line')], ln = pre.querySelector('.lnum');
			return { Lines: ls.length, Marked: pre.querySelectorAll('mark.code-line').length, Numbers: pre.querySelectorAll('.lnum').length,
				Heights: ls.map(l => l.getBoundingClientRect().height), LineHeight: parseFloat(getComputedStyle(pre).lineHeight),
				Tint: getComputedStyle(pre.querySelector('mark.code-line')).backgroundColor, Plain: getComputedStyle(ls[0]).backgroundColor,
				Number: getComputedStyle(ln, '::before').content, Text: pre.textContent, Hidden: ln.getAttribute('aria-hidden') === 'true' }; })()`, &st)
		if st.Lines != 3 || st.Marked != 2 || st.Numbers != 3 {
			t.Fatalf("static block: %d lines, %d marked, %d numbers; want 3, 2, 3", st.Lines, st.Marked, st.Numbers)
		}
		for i, h := range st.Heights {
			if h < st.LineHeight-1 || h > st.LineHeight+1 {
				t.Errorf("line %d is %.1f px high, want one line (%.1f px)", i+1, h, st.LineHeight)
			}
		}
		if st.Tint == st.Plain || st.Tint == "rgba(0, 0, 0, 0)" {
			t.Errorf("a highlighted line's background %q, a plain one's %q", st.Tint, st.Plain)
		}
		if st.Number != `"1"` || !st.Hidden || strings.ContainsAny(st.Text[:5], "0123456789") || !strings.HasPrefix(st.Text, "async def main") {
			t.Errorf("line number %s (aria-hidden %v); the block's text starts %q, want the code without numbers", st.Number, st.Hidden, st.Text[:min(20, len(st.Text))])
		}
		axeAllModes(t, p, loadAxe(t), "/using-playdoc/pages/ with numbered lines")

		// The runnable editor: a gutter of numbers beside the textarea,
		// the marked line under line 6 until lines are added.
		p.navigate(base + "/using-playdoc/runnable-examples/")
		var ed struct {
			Gutter, Value string
			Marks         int
			MarkTop, Line float64
			GutterHidden  bool
		}
		p.eval(`(() => { const f = document.querySelector('figure[data-name="lines"]'), g = f.querySelector('.pg-gutter'), m = f.querySelector('.pg-hlline'), ta = f.querySelector('textarea');
			return { Gutter: g ? g.textContent : '', Value: ta.value, Marks: f.querySelectorAll('.pg-hlline').length, GutterHidden: !!g && g.getAttribute('aria-hidden') === 'true',
				MarkTop: m ? m.getBoundingClientRect().top - ta.getBoundingClientRect().top : -1, Line: parseFloat(getComputedStyle(ta).lineHeight) }; })()`, &ed)
		if ed.Gutter != "1\n2\n3\n4\n5\n6\n7\n8\n9\n10" || !ed.GutterHidden || strings.ContainsAny(ed.Value[:8], "0123456789") {
			t.Errorf("editor gutter %q (aria-hidden %v), textarea starts %q", ed.Gutter, ed.GutterHidden, ed.Value[:8])
		}
		// 0.75rem of padding (12 px) then five lines.
		if want := 12 + 5*ed.Line; ed.Marks != 1 || ed.MarkTop < want-1 || ed.MarkTop > want+1 {
			t.Errorf("editor: %d marks, the first %.1f px below the top; want 1 at %.1f", ed.Marks, ed.MarkTop, want)
		}
		p.setCode("lines", "package main\n\nfunc main() {}\n")
		var shown bool
		p.eval(`(() => { const f = document.querySelector('figure[data-name="lines"]');
			return f.querySelector('.pg-gutter').textContent === '1\n2\n3\n4' && getComputedStyle(f.querySelector('.pg-hlline')).display === 'none'; })()`, &shown)
		if !shown {
			t.Error("after an edit to 3 lines: the gutter does not count 4 lines (3 and the empty last one) or the mark still shows")
		}
	})

	t.Run("pair-tabs", func(t *testing.T) {
		type tabState struct {
			Tabs     []string // tab labels, the selected one in brackets
			Visible  []string // languages of the pair's visible figures
			ListShow bool
			Focused  string
		}
		read := func() tabState {
			var st tabState
			p.eval(`(() => { const box = document.querySelector('.pair[data-tabs]'), list = box.querySelector('[role=tablist]');
				return { Tabs: [...box.querySelectorAll('[role=tab]')].map(t => t.getAttribute('aria-selected') === 'true' ? '[' + t.textContent + ']' : t.textContent),
					Visible: [...box.querySelectorAll('figure')].filter(f => f.offsetParent !== null).map(f => f.classList.contains('snippet-go') ? 'go' : 'python'),
					ListShow: !!list && list.offsetParent !== null, Focused: document.activeElement.getAttribute('role') === 'tab' ? document.activeElement.textContent : '' }; })()`, &st)
			return st
		}
		// Wide: side by side, no tabs.
		p.navigate(base + "/using-playdoc/runnable-examples/")
		if st := read(); st.ListShow || len(st.Visible) != 2 {
			t.Errorf("at 1280 px: tabs shown %v, visible %v; want no tabs and both", st.ListShow, st.Visible)
		}
		// A phone: tabs, Go first; the choice follows the reader.
		p.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		defer p.do(chromedp.EmulateViewport(1280, 900))
		p.wait("tabs at 360 px", `document.querySelector('.pair[data-tabs] [role=tablist]').offsetParent !== null`, 5*time.Second)
		if st := read(); !slices.Equal(st.Tabs, []string{"Python", "[Go]"}) || !slices.Equal(st.Visible, []string{"go"}) {
			t.Fatalf("at 360 px: tabs %v, visible %v; want Go selected and alone", st.Tabs, st.Visible)
		}
		var panel bool
		p.eval(`(() => { const f = document.querySelector('.pair[data-tabs] figure.snippet-go').parentElement, t = document.getElementById(f.getAttribute('aria-labelledby'));
			return f.getAttribute('role') === 'tabpanel' && t.getAttribute('aria-controls') === f.id; })()`, &panel)
		if !panel {
			t.Error("the Go figure is not in a tabpanel labelled by the tab that controls it")
		}
		p.do(chromedp.Focus(chromedp.CSS(`.pair[data-tabs] [role=tab][aria-selected=true]`)), chromedp.KeyEvent(kb.ArrowLeft))
		if st := read(); !slices.Equal(st.Tabs, []string{"[Python]", "Go"}) || !slices.Equal(st.Visible, []string{"python"}) || st.Focused != "Python" {
			t.Errorf("after ArrowLeft: tabs %v, visible %v, focus %q; want Python selected, shown and focused", st.Tabs, st.Visible, st.Focused)
		}
		axeAllModes(t, p, loadAxe(t), "/using-playdoc/runnable-examples/ with tabs at 360 px")
		// Another page's pairs open on the language chosen.
		p.navigate(base + "/asyncio/gather/")
		p.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		p.wait("tabs at 360 px", `document.querySelector('.pair[data-tabs] [role=tablist]').offsetParent !== null`, 5*time.Second)
		var sel []string
		p.eval(`[...document.querySelectorAll('.pair[data-tabs] [role=tab][aria-selected=true]')].map(t => t.textContent)`, &sel)
		if len(sel) < 2 || slices.ContainsFunc(sel, func(s string) bool { return s != "Python" }) {
			t.Errorf("on the next page the selected tabs are %v, want Python everywhere", sel)
		}
		p.do(chromedp.Click(chromedp.CSS(`.pair[data-tabs] [role=tab][data-lang=go]`)))
		p.navigate(base + "/using-playdoc/runnable-examples/") // where the next subtest starts
	})

	t.Run("unfold-section", func(t *testing.T) {
		var n int
		p.eval(`document.querySelectorAll('.nav-closed').length`, &n)
		if n == 0 {
			t.Fatal("no other section in the sidebar")
		}
		p.do(chromedp.Click(chromedp.CSS(`.nav-closed .nav-unfold`)))
		p.wait("the other section's pages", `document.querySelectorAll('.nav-closed ol a[href^="/asyncio/"]').length > 10`, 10*time.Second)
		var exp string
		p.eval(`document.querySelector('.nav-closed .nav-unfold').getAttribute('aria-expanded')`, &exp)
		if exp != "true" {
			t.Errorf("aria-expanded = %q after unfolding", exp)
		}
	})
	t.Run("search", func(t *testing.T) {
		p.navigate(base + "/asyncio/gather/")
		p.do(chromedp.KeyEvent("/"))
		var focused bool
		p.eval(`document.activeElement.id === 'search-q'`, &focused)
		if !focused {
			t.Fatal("/ does not focus the search box")
		}
		p.do(chromedp.SendKeys(chromedp.CSS(`#search-q`), "gather"))
		p.wait("results", `!document.getElementById('search-results').hidden && document.querySelectorAll('#search-results a').length > 0`, 10*time.Second)
		var urls []string
		// Paths: a result with an excerpt links to the heading above it.
		p.eval(`[...document.querySelectorAll('#search-results a')].map(a => a.pathname)`, &urls)
		if len(urls) == 0 || urls[0] != "/asyncio/gather/" || !slices.Contains(urls, "/asyncio/taskgroup-vs-errgroup/") {
			t.Errorf("results for gather: %v, want /asyncio/gather/ first and the errgroup page (a synonym)", urls)
		}
		// Titles show the words matched.
		p.eval(`(() => { const i = document.getElementById('search-q'); i.value = 'errgr'; i.dispatchEvent(new Event('input')); return true; })()`, nil)
		p.wait("results for errgr", `[...document.querySelectorAll('#search-results mark')].some(m => m.textContent.toLowerCase() === 'errgr')`, 10*time.Second)
		p.eval(`[...document.querySelectorAll('#search-results a')].map(a => a.pathname)`, &urls)
		if len(urls) == 0 || urls[0] != "/asyncio/taskgroup-vs-errgroup/" {
			t.Errorf("results for errgr: %v, want the errgroup page first", urls)
		}
		p.do(chromedp.KeyEvent(kb.ArrowDown))
		var href string
		p.eval(`document.activeElement.pathname`, &href)
		if href != urls[0] {
			t.Errorf("ArrowDown focused %q, want the first result", href)
		}
		p.do(chromedp.KeyEvent(kb.Escape))
		var hidden bool
		p.eval(`document.getElementById('search-results').hidden`, &hidden)
		if !hidden {
			t.Error("Escape does not close the results")
		}
		// Excerpts: the first results show the text that matched, the
		// word marked, and link to the heading above it; only their
		// pages' text is fetched.
		p.eval(`(() => { const i = document.getElementById('search-q'); i.value = 'semaphore'; i.dispatchEvent(new Event('input')); return true; })()`, nil)
		p.wait("excerpts for semaphore", `[...document.querySelectorAll('#search-results .search-excerpt')].filter((e) => /semaphore/i.test(e.textContent)).length >= 2`, 10*time.Second)
		var ex struct {
			Results  int      `json:"results"`
			Excerpts []string `json:"excerpts"`
			Marked   bool     `json:"marked"`
			Missing  []string `json:"missing"`
			Fetched  []string `json:"fetched"`
		}
		p.evalAwait(`(async () => {
			const as = [...document.querySelectorAll('#search-results a')];
			const ex = [...document.querySelectorAll('#search-results .search-excerpt')];
			const missing = [];
			for (const a of as) {
				if (!a.hash) continue;
				const html = await (await fetch(a.pathname)).text();
				if (!html.includes('id="' + decodeURIComponent(a.hash.slice(1)) + '"')) missing.push(a.getAttribute('href'));
			}
			return {results: as.length, excerpts: ex.map((e) => e.textContent),
				marked: ex.every((e) => [...e.querySelectorAll('mark')].some((m) => m.textContent.toLowerCase() === 'semaphore')),
				missing, fetched: performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname).filter((u) => u.startsWith('/_search/x/'))};
		})()`, &ex)
		t.Logf("semaphore: %d results, excerpts %q", ex.Results, ex.Excerpts)
		if ex.Results < 2 || len(ex.Excerpts) < 2 || !ex.Marked {
			t.Errorf("semaphore: %d results, excerpts %q, each with the word marked: %v", ex.Results, ex.Excerpts, ex.Marked)
		}
		if len(ex.Missing) > 0 {
			t.Errorf("results link to headings their pages lack: %v", ex.Missing)
		}
		// Five per query at most: gather, errgr, semaphore.
		if len(ex.Fetched) > 15 {
			t.Errorf("%d excerpt files fetched for three queries: %v", len(ex.Fetched), ex.Fetched)
		}
		axeCheck(t, p, loadAxe(t), "/asyncio/gather/ with search results and excerpts")
	})
	p.noConsoleErrors()
}

// loadAxe reads axe-core's script (scripts/test.sh installs it).
func loadAxe(t *testing.T) []byte {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(auditModules(t), "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return js
}
