package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// seenJS runs in every document of the benchmark's tab before its own
// scripts: on each animation frame it looks for the text the benchmark
// waits for (sessionStorage "bench:want", which outlives a reload) and
// records, once, the wall-clock time of the first frame whose page holds
// it (Unix ms; the frame is painted right after its callbacks).
const seenJS = `(() => {
  const tick = () => {
    const want = sessionStorage.getItem('bench:want');
    if (want && !sessionStorage.getItem('bench:seen') && document.body && document.body.textContent.includes(want)) {
      sessionStorage.setItem('bench:seen', JSON.stringify({want, at: performance.timeOrigin + performance.now()}));
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`

// BenchmarkLiveReload measures, in real Chromium, the time from the write
// of a content file to the first frame of the open page that shows the
// edit, on the tutorial's /asyncio/gather/ page under `playdoc serve`:
// by a patch in place (what reload.js does) and by a full reload (forced
// with ?reload=full, what it did before). One iteration is two edits, one
// each way; the order alternates so that both see the same machine load.
// Run it with at least 20 iterations:
//
//	go test ./e2e -run '^$' -bench LiveReload -benchtime 20x
//
// It reports the median and p90 of each way in ms, their ratio, and the
// medians of the patch's steps.
func BenchmarkLiveReload(b *testing.B) {
	base, content := startServeOn(b)
	p := openPage(b, newBrowser(b), base+"/asyncio/gather/")
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: seenJS})
		return err
	}))
	src := filepath.Join(content, "asyncio", "05-gather.md")
	orig, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	const anchor = "This is the example the whole article builds up to:"
	if !strings.Contains(string(orig), anchor) {
		b.Fatalf("%s lacks %q", src, anchor)
	}
	urls := map[string]string{"patch": base + "/asyncio/gather/", "full": base + "/asyncio/gather/?reload=full"}
	lat := map[string][]float64{}
	at := ""
	edit := 0
	// one makes an edit with the page open the given way and returns
	// the milliseconds from the write to the frame that shows it.
	one := func(mode string) float64 {
		if at != mode {
			p.navigate(urls[mode])
			at = mode
		}
		waitThrough(b, p, "the live-reload stream", `document.documentElement.hasAttribute('data-playdoc-build')`)
		time.Sleep(150 * time.Millisecond) // let the page settle
		edit++
		want := fmt.Sprintf("Benchmark edit %d.", edit)
		p.eval(fmt.Sprintf(`sessionStorage.removeItem('bench:seen'); sessionStorage.setItem('bench:want', %q); true`, want), nil)
		body := strings.Replace(string(orig), anchor, want+" "+anchor, 1)
		start := time.Now()
		if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(reloadWait)
		for {
			// The page may be between documents: retry.
			raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`sessionStorage.getItem('bench:seen') || ''`))
			if err == nil && raw != "" {
				var seen struct {
					Want string  `json:"want"`
					At   float64 `json:"at"`
				}
				if err := json.Unmarshal([]byte(raw), &seen); err != nil {
					b.Fatalf("bench:seen %q: %v", raw, err)
				}
				if seen.Want == want {
					if mode == "patch" {
						// Where the time went: the page's marks.
						var steps []float64
						p.eval(`['playdoc:fetch', 'playdoc:fetched', 'playdoc:patched'].map((n) => { const e = performance.getEntriesByName(n).pop(); return e ? performance.timeOrigin + e.startTime : 0; })`, &steps)
						t0 := float64(start.UnixNano()) / 1e6
						lat["event"] = append(lat["event"], steps[0]-t0)
						lat["fetch"] = append(lat["fetch"], steps[1]-steps[0])
						lat["patch"+"-apply"] = append(lat["patch-apply"], steps[2]-steps[1])
					}
					return seen.At - float64(start.UnixNano())/1e6
				}
			}
			if time.Now().After(deadline) {
				var st any
				p.eval(fmt.Sprintf(`({url: location.href, build: document.documentElement.getAttribute('data-playdoc-build'), has: document.body.textContent.includes(%q), want: sessionStorage.getItem('bench:want'), seen: sessionStorage.getItem('bench:seen'), ready: document.readyState})`, want), &st)
				b.Fatalf("%s: edit %d not visible within %v: %v; console: %s", mode, edit, reloadWait, st, p.consoleText())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		order := []string{"patch", "full"}
		if i%2 == 1 {
			order = []string{"full", "patch"}
		}
		for _, mode := range order {
			lat[mode] = append(lat[mode], one(mode))
		}
	}
	b.StopTimer()
	var p50 = map[string]float64{}
	for _, mode := range []string{"patch", "full"} {
		l := slices.Sorted(slices.Values(lat[mode]))
		p50[mode] = percentile(l, 0.5)
		b.ReportMetric(p50[mode], mode+"-p50-ms")
		b.ReportMetric(percentile(l, 0.9), mode+"-p90-ms")
		b.Logf("%s: %d edits, write → visible median %.1f ms, p90 %.1f ms, min %.1f, max %.1f", mode, len(l), p50[mode], percentile(l, 0.9), l[0], l[len(l)-1])
	}
	b.ReportMetric(p50["full"]/p50["patch"], "full/patch")
	// The patch's steps, medians: write → reload event (the server's
	// debounce and rebuild), the page's fetch of itself, the patch.
	for _, step := range []string{"event", "fetch", "patch-apply"} {
		b.ReportMetric(percentile(slices.Sorted(slices.Values(lat[step])), 0.5), step+"-p50-ms")
	}
	if err := os.WriteFile(src, orig, 0o644); err != nil {
		b.Fatal(err)
	}
}

// percentile is the nearest-rank q-quantile of sorted values.
func percentile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
