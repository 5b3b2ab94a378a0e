package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Accessibility audit: axe-core run in Chromium on a page, in both colour
// schemes and at desktop and phone sizes (TestAudit's axe subtests).

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
