package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
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

// darkRules are the axe rules run in the dark colour scheme: those whose
// outcome depends on colours (contrast, links told apart from text) or on
// the width of code text (a code block that overflows must be focusable;
// the dark code style sets bold and italic where the light one does not).
// Every other rule sees the same document in both schemes: the scripts do
// not read the scheme, and the stylesheet's dark rules change only colours,
// code text's weight and style, or nothing (TestAudit's "dark-recolours-only"
// checks that on the built CSS). Colour contrast is most of axe's time
// (0.38 s of a full run's 0.64 s on a site page), the other ~90 rules the
// rest.
var darkRules = []string{"color-contrast", "link-in-text-block", "scrollable-region-focusable"}

// axeRun injects axe-core (once per document) and runs every rule of its
// default set on the whole page, plus WCAG 2.2's target size (off by
// default in axe), or only the rules named in only (if any). The DevTools
// protocol evaluates outside the page's Content-Security-Policy, so the
// site's strict CSP stays as it is.
func axeRun(t *testing.T, p *page, axeJS []byte, only ...string) []axeViolation {
	t.Helper()
	var loaded bool
	p.eval(`typeof window.axe === 'object'`, &loaded)
	if !loaded {
		p.eval(string(axeJS)+"\n;true", nil)
	}
	opts := `{resultTypes: ['violations'], rules: {'target-size': {enabled: true}}}`
	if len(only) > 0 {
		names, err := json.Marshal(only)
		if err != nil {
			t.Fatal(err)
		}
		opts = `{resultTypes: ['violations'], runOnly: {type: 'rule', values: ` + string(names) + `}}`
	}
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[json.RawMessage](`axe.run(document, `+opts+`).then((r) =>
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

// axeCheck fails the test on any violation, of any impact (of every rule,
// or of those named in only).
func axeCheck(t *testing.T, p *page, axeJS []byte, where string, only ...string) {
	t.Helper()
	for _, v := range axeRun(t, p, axeJS, only...) {
		t.Errorf("%s: axe %s", where, v)
	}
}

// axeAllModes checks the page as it is, at desktop width and at 360 px, in
// the light colour scheme with every rule and in the dark one with
// darkRules.
func axeAllModes(t *testing.T, p *page, axeJS []byte, where string) {
	t.Helper()
	for _, vp := range []viewport{desktop, phone} {
		p.viewport(vp)
		p.colorScheme("light")
		axeCheck(t, p, axeJS, fmt.Sprintf("%s %s light", where, vp.name))
		p.colorScheme("dark")
		axeCheck(t, p, axeJS, fmt.Sprintf("%s %s dark", where, vp.name), darkRules...)
	}
	p.colorScheme("light")
	p.viewport(desktop)
}

// axePage runs axe on one page at desktop and phone sizes, each in light
// (every rule) and dark (darkRules), and checks that the phone layout does not scroll sideways.
func axePage(t *testing.T, browser context.Context, axeJS []byte, base, path string) {
	for _, vp := range []viewport{desktop, phone} {
		p, close := openAuditTabWith(t, browser, base+path, vp, func(p *page) {
			for _, problem := range perfMeasure(t, p, path, vp) {
				t.Error(problem)
			}
		})
		p.colorScheme("light")
		axeCheck(t, p, axeJS, fmt.Sprintf("%s %s light", path, vp.name))
		p.colorScheme("dark")
		axeCheck(t, p, axeJS, fmt.Sprintf("%s %s dark", path, vp.name), darkRules...)
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

// Selector prefixes of the built stylesheet's theme rules (site.themeable):
// a dark rule applies under the dark system scheme unless the reader chose
// light, or when the reader chose dark; a light rule likewise.
var (
	darkPrefixes  = []string{`:root:not([data-theme="light"])`, `:root[data-theme="dark"]`}
	lightPrefixes = []string{`:root:not([data-theme="dark"])`, `:root[data-theme="light"]`}
)

// paintProperties change how a box is painted, never its size or place,
// nor what the accessibility tree holds.
var paintProperties = map[string]bool{
	"color": true, "background-color": true, "background": true, "border-color": true,
	"outline-color": true, "text-decoration-color": true, "caret-color": true,
	"accent-color": true, "fill": true, "stroke": true, "color-scheme": true, "box-shadow": true,
}

// colourValue matches a CSS colour as the stylesheets write one: a hex
// colour, rgb()/rgba()/hsl()/hsla(), transparent or currentColor, or a
// custom property with such a fallback.
var colourValue = regexp.MustCompile(`(?i)^(#[0-9a-f]{3,8}|(rgb|hsl)a?\([^()]*\)|transparent|currentcolor|var\(--[\w-]+(,\s*(#[0-9a-f]{3,8}|(rgb|hsl)a?\([^()]*\)))?\))$`)

// cssRule matches an innermost rule: its selectors and declarations.
var cssRule = regexp.MustCompile(`([^{}]*)\{([^{}]*)\}`)

// darkRecolourProblems lists the declarations of css's dark theme that may
// change more than colours: what darkRules would not see. Allowed are
// paint properties, custom properties holding a colour, font-weight and
// font-style on code text (under .chroma), and any declaration the light
// theme or the unthemed rules make with the same selector and value.
func darkRecolourProblems(css string) []string {
	css = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(css, "")
	type decl struct{ sel, prop string }
	dark := map[decl]string{}
	light := map[decl]string{}
	strip := func(sel string, prefixes []string) (string, bool) {
		for _, pre := range prefixes {
			if rest, ok := strings.CutPrefix(sel, pre); ok {
				if rest = strings.TrimSpace(rest); rest == "" {
					rest = ":root" // the theme's :root { --custom: … } block
				}
				return rest, true
			}
		}
		return "", false
	}
	for _, m := range cssRule.FindAllStringSubmatch(css, -1) {
		for _, sel := range strings.Split(m[1], ",") {
			sel = strings.TrimSpace(sel)
			if strings.HasPrefix(sel, "@") || sel == "" {
				continue
			}
			into := light // unthemed rules hold in both themes
			if rest, ok := strip(sel, darkPrefixes); ok {
				sel, into = rest, dark
			} else if rest, ok := strip(sel, lightPrefixes); ok {
				sel = rest
			}
			for _, d := range strings.Split(m[2], ";") {
				prop, val, ok := strings.Cut(d, ":")
				if !ok {
					continue
				}
				into[decl{sel, strings.TrimSpace(strings.ToLower(prop))}] = strings.TrimSpace(val)
			}
		}
	}
	var problems []string
	for d, val := range dark {
		switch {
		case paintProperties[d.prop]:
		case strings.HasPrefix(d.prop, "--") && colourValue.MatchString(val):
		case (d.prop == "font-weight" || d.prop == "font-style") && strings.HasPrefix(d.sel, ".chroma"):
		case light[d] == val:
		default:
			problems = append(problems, fmt.Sprintf("dark theme: %s { %s: %s } (light: %q)", d.sel, d.prop, val, light[d]))
		}
	}
	slices.Sort(problems)
	return problems
}
