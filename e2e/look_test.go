package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// What the page looks like, checked in any server's scenarios: the phone
// layout, the screenshots and the output's colour contrast.

// checkNarrow: on a 360-px-wide phone the page never scrolls sideways, even
// with the output of a run; long lines scroll inside their panels.
func checkNarrow(t *testing.T, p *page, url, name, shot string) {
	p.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	p.navigate(url)
	p.run(name, runTimeout)
	var w struct {
		Scroll float64 `json:"scroll"`
		Client float64 `json:"client"`
	}
	p.eval(`({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})`, &w)
	p.screenshot(name, shot)
	if w.Scroll > 360 {
		var wide []string
		p.eval(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 361).slice(0, 8).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`, &wide)
		t.Errorf("elements past 360 px: %q", wide)
		t.Errorf("at 360 px the page is %.0f px wide (clientWidth %.0f): it scrolls sideways", w.Scroll, w.Client)
	}
	p.do(chromedp.EmulateViewport(1280, 900))
}

// checkScreenshots saves the snippet after a run in the light and the dark
// theme, and checks that the theme really changed the panel's colours.
func checkScreenshots(t *testing.T, p *page, name, prefix string) {
	bg := func() string {
		var c string
		p.eval(fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).backgroundColor`, fig(name)+` .pg-ed`), &c)
		return c
	}
	p.colorScheme("light")
	light := bg()
	p.screenshot(name, prefix+"-light.png")
	checkContrast(t, p, name, "light")
	p.colorScheme("dark")
	dark := bg()
	p.screenshot(name, prefix+"-dark.png")
	checkContrast(t, p, name, "dark")
	p.colorScheme("")
	if light == dark {
		t.Errorf("the editor background is %s in both themes", light)
	}
}

// contrastJS computes, for each visible text element of the playground in a
// snippet, the WCAG contrast ratio of its colour against the background it
// sits on (the nearest opaque ancestor background, with translucent layers
// blended over it). Disabled controls are exempt, as in WCAG.
const contrastJS = `((sel) => {
  const parse = (c) => { const m = c.match(/[\d.]+/g) || []; return m.length < 3 ? null : [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1]; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const over = (top, bot) => [0, 1, 2].map((i) => top[i] * top[3] + bot[i] * (1 - top[3])).concat(1);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] === 1) break; }
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const out = [];
  const root = document.querySelector(sel);
  const scope = [root, root.closest('.pair') && root.closest('.pair').nextElementSibling].filter(Boolean);
  for (const r of scope) for (const el of r.querySelectorAll('.pg-ed .pg-hl span, .pg-btn, .pg-status, .pg-msg, .pg-t, .pg-d, .pg-tag, .pg-foot, .pg-scale span, .pg-errbtn, .pg-cmp-res, .pg-lanes-head, .pg-lanes-note, .pg-lane-name, .pg-blocked')) {
    if (!el.textContent.trim() || el.disabled || el.offsetParent === null) continue;
    const cs = getComputedStyle(el), fg = parse(cs.color), bg = background(el);
    const a = lum(over(fg, bg)), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out.push({what: el.className + ' "' + el.textContent.trim().slice(0, 20) + '"', ratio: Math.round(ratio * 100) / 100});
  }
  return out;
})`

// checkContrast asserts AA contrast (4.5:1) for the playground's text.
func checkContrast(t *testing.T, p *page, name, theme string) {
	var res []struct {
		What  string  `json:"what"`
		Ratio float64 `json:"ratio"`
	}
	p.eval(fmt.Sprintf(`%s(%q)`, contrastJS, fig(name)), &res)
	if len(res) < 5 {
		t.Fatalf("%s: only %d text elements checked for contrast", theme, len(res))
	}
	minimum := res[0]
	for _, r := range res {
		if r.Ratio < minimum.Ratio {
			minimum = r
		}
		if r.Ratio < 4.5 {
			t.Errorf("%s theme: contrast %.2f:1 < 4.5:1 for %s", theme, r.Ratio, r.What)
		}
	}
	t.Logf("%s theme: %d text elements, lowest contrast %.2f:1 (%s)", theme, len(res), minimum.Ratio, minimum.What)
}
