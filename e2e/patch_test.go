package e2e

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestLiveReloadKeepsState edits the content under an open page on which
// the reader has done what a reload would undo, and checks that each edit
// shows by a patch in place that undoes none of it: a mark on window (gone
// on a navigation), the scroll position, the focus and selection in an
// editor, the editor's text and its very element, a closed <details>, and
// a snippet's finished output. A changed snippet is set up anew (its new
// code in a new editor, its Run both bar rebuilt once); a change the patch
// cannot take (half a Compare group) reloads the page.
func TestLiveReloadKeepsState(t *testing.T) {
	base, content := startServeOn(t)
	browser := newBrowser(t)
	p := openPage(t, browser, base+"/asyncio/gather/")
	waitThrough(t, p, "the live-reload stream", `document.documentElement.hasAttribute('data-playdoc-build')`)
	src := filepath.Join(content, "asyncio", "05-gather.md")

	// The reader's state. No playground runs here (--no-playground): Run
	// shows the recorded output, a finished output all the same.
	const readerCode = "// the reader's edit\n"
	p.run("results-as-completed", reloadWait)
	p.eval(`(() => {
		window.reloadMark = 1;
		pgt.fig('results-as-completed').querySelector('.pg-log').keepMark = 1;
		const d = document.querySelector('#sidebar details[open]');
		if (!d) throw new Error('no open <details> in the sidebar');
		d.open = false;
		return true; })()`, nil)
	p.setCode("results-in-order", readerCode+"package main\n")
	p.eval(`(() => {
		const ta = pgt.fig('results-in-order').querySelector('textarea');
		ta.keepMark = 1;
		ta.focus();
		ta.setSelectionRange(3, 9);
		window.scrollTo(0, 900);
		return true; })()`, nil)
	var y0 float64
	p.eval(`window.scrollY`, &y0)
	if y0 < 800 {
		t.Fatalf("could not scroll the page: scrollY %v", y0)
	}
	// kept checks what must survive every patch.
	kept := func(when string) {
		t.Helper()
		var st struct {
			Mark, Log, TA, Details, Focus bool
			Sel                           string
			Code                          string
			Lines                         int
			Y                             float64
		}
		p.eval(`(() => { if (!window.pgt) return {};
			const ta = pgt.fig('results-in-order').querySelector('textarea');
			return {Mark: window.reloadMark === 1,
				Log: pgt.fig('results-as-completed').querySelector('.pg-log').keepMark === 1,
				Lines: pgt.state('results-as-completed').lines.length,
				TA: ta.keepMark === 1, Code: ta.value,
				Focus: document.activeElement === ta, Sel: ta.selectionStart + '-' + ta.selectionEnd,
				Details: !document.querySelector('#sidebar details').open,
				Y: window.scrollY}; })()`, &st)
		if !st.Mark {
			t.Fatalf("%s: the page was reloaded, not patched (console: %s)", when, p.consoleText())
		}
		if !st.Log || st.Lines == 0 {
			t.Errorf("%s: the finished output is gone (same element %v, %d lines)", when, st.Log, st.Lines)
		}
		if !st.TA || !strings.HasPrefix(st.Code, readerCode) {
			t.Errorf("%s: the edited editor was replaced (same element %v, text %.40q)", when, st.TA, st.Code)
		}
		if !st.Focus || st.Sel != "3-9" {
			t.Errorf("%s: focus in the editor %v, selection %s, want 3-9", when, st.Focus, st.Sel)
		}
		if !st.Details {
			t.Errorf("%s: the <details> the reader closed is open again", when)
		}
		if math.Abs(st.Y-y0) >= 50 {
			t.Errorf("%s: scrollY %v, want %v ± 50", when, st.Y, y0)
		}
	}

	// 1. Prose.
	const prose = "This sentence was added while the page was open."
	editFile(t, src, "A classic asyncio mistake", prose+" A classic asyncio mistake")
	waitThrough(t, p, "the prose edit", fmt.Sprintf(`document.querySelector('main').textContent.includes(%q)`, prose))
	kept("after a prose edit")

	// 2. A snippet of a Run both pair: the pair is set up anew.
	editFile(t, src, "// the gather: block until every task has returned", "// the gather, edited: block until every task has returned")
	waitThrough(t, p, "the new code in the gather editor", `pgt.fig('gather').querySelector('textarea')?.value.includes('the gather, edited')`)
	kept("after a snippet edit")
	var pair struct {
		Bars, Tabs, Editors int
	}
	p.eval(`({Bars: document.querySelectorAll('.pg-both[data-pair="gather"]').length,
		Tabs: pgt.fig('gather').closest('.pair').querySelectorAll('.tab-list').length,
		Editors: document.querySelectorAll('figure[data-run] textarea.pg-ta').length - document.querySelectorAll('figure[data-run]').length})`, &pair)
	if pair.Bars != 1 || pair.Tabs != 1 || pair.Editors != 0 {
		t.Errorf("after the pair changed: %d Run both bars, %d tab lists (want 1 each), %d figures without one editor", pair.Bars, pair.Tabs, -pair.Editors)
	}

	// 3. A heading and the title: the table of contents, the title and
	// the sidebar follow.
	editFile(t, src, "## Results as they arrive", "## Results as they arrive, edited")
	editFile(t, src, "title: Running tasks concurrently", "title: Running tasks concurrently, edited")
	waitThrough(t, p, "the new title", `document.title.includes('concurrently, edited')`)
	waitThrough(t, p, "the new heading in the table of contents", `document.querySelector('.toc').textContent.includes('arrive, edited')`)
	waitThrough(t, p, "the new title in the sidebar", `document.querySelector('#sidebar a[aria-current="page"]').textContent.includes('concurrently, edited')`)
	kept("after a heading and title edit")
	p.noConsoleErrors("404", "405") // 405: Run probes the missing playground

	// 4. Half a Compare group: the page reloads.
	editFile(t, src, "task(name) // each call returns before the next one starts", "task(name) // each call returns before the next starts")
	waitThrough(t, p, "the reload", `window.reloadMark === undefined &&
		!!document.querySelector('figure[data-name="sequential"] textarea')?.value.includes('before the next starts')`)
}

// consoleText is what the page logged, one message a line.
func (p *page) consoleText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, m := range p.console {
		fmt.Fprintf(&b, "\n%s: %s", m.Type, m.Text)
	}
	return b.String()
}
