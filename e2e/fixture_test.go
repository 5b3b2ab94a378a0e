package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"playdoc/playground"
)

// TestFixture drives the playground on the fixture page against the real
// playground server over a scripted sandbox (fixtureAPI): the same
// scenarios as against the real sandbox, plus the outcomes that the real
// sandbox only produces slowly or rarely.
func TestFixture(t *testing.T) {
	api := newFixtureAPI(t, playground.Config{})
	srv, err := fixtureServer(api)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	// The outcomes at the limits, on a playground with a 2-s time limit,
	// one runner and one place in the queue, and a 64-KiB output limit.
	lim := newFixtureAPI(t, playground.Config{RunTimeout: 2 * time.Second, Runners: 1, Queue: 1, OutputLimit: 64 << 10})
	limSrv, err := fixtureServer(lim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(limSrv.Close)
	browser := newBrowser(t)
	url, limURL := srv.URL+"/gather/", limSrv.URL+"/gather/"

	t.Run("no-request-on-load", func(t *testing.T) {
		// Pages stay static-friendly: the playground is probed by the first
		// Run, never on load.
		p := openPage(t, browser, url)
		p.wait("a moment", `new Promise((r) => setTimeout(() => r(true), 500))`, 5*time.Second)
		if n := api.requests.Load(); n != 0 {
			t.Errorf("%d requests to the playground API on page load, want 0", n)
		}
		p.noConsoleErrors()
	})

	t.Run("streams-and-times", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkGather(t, p, "concurrent")
		p.noConsoleErrors()
	})
	t.Run("lanes", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkLanes(t, p, "concurrent", "fixture", false)
		p.noConsoleErrors()
	})
	t.Run("compile-error", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkCompileError(t, p, "concurrent")
		p.noConsoleErrors()
	})
	t.Run("stop", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkStop(t, p, "concurrent", srv.URL)
		p.noConsoleErrors()
	})
	t.Run("keyboard", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkKeyboard(t, p, "sequential", 15*time.Second)
		p.noConsoleErrors()
	})
	t.Run("narrow", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkNarrow(t, p, url, "concurrent", "fixture-360px.png")
		// Long output lines and a long compile error stay inside the panel.
		p.do(chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		p.setCode("sequential", "package main // fake:long\n")
		p.run("sequential", 10*time.Second)
		p.setCode("concurrent", "package main\n\nfunc main() { undefinedThing() } // "+strings.Repeat("long ", 60)+"\n")
		p.run("concurrent", 10*time.Second)
		var width float64
		p.eval(`document.documentElement.scrollWidth`, &width)
		if width > 360 {
			t.Errorf("with long output lines the page is %.0f px wide at 360 px", width)
		}
		p.screenshot("sequential", "fixture-360px-long.png")
		p.noConsoleErrors()
	})
	t.Run("messages", func(t *testing.T) {
		p, lp := openPage(t, browser, url), openPage(t, browser, limURL)
		big := "package main\n\n// " + strings.Repeat("x", 65<<10) + "\n"
		cases := []struct {
			name string
			p    *page
			code string
			foot string
		}{
			{"busy", lp, "package main // fake:busy\n", "The playground is busy; retrying is possible in 1 s"},
			{"reject", p, big, fmt.Sprintf("The playground refused the code (HTTP 400): source is %d bytes; the limit is %d bytes", len(big), playground.MaxSourceSize)},
			{"timeout", lp, "package main // fake:timeout\n", "Stopped after 2 s: the program ran too long"},
			{"oom", p, "package main // fake:oom\n", "Out of memory (limit 256 MiB): the program was stopped"},
			{"output-limit", lp, "package main // fake:output-limit\n", "Output truncated at 1 MiB"},
			{"error", lp, "package main // fake:error\n", "Playground error: could not start the program: fake: sandbox start failed"},
		}
		for _, c := range cases {
			switch c.name {
			case "busy":
				// One run holds the only runner (its build lasts until
				// release), another waits in the queue: no room for a third.
				release := lim.hold()
				done := fillRunners(t, lim.pg.URL, 2)
				c.p.setCode("concurrent", c.code)
				st := c.p.run("concurrent", 20*time.Second)
				release()
				<-done
				if !strings.HasPrefix(st.Foot, c.foot) {
					t.Errorf("%s: footer %q, want it to start with %q", c.name, st.Foot, c.foot)
				}
				continue
			case "error":
				lim.pg.Exec.FailStarts(true)
			}
			c.p.setCode("concurrent", c.code)
			st := c.p.run("concurrent", 20*time.Second)
			lim.pg.Exec.FailStarts(false)
			if !strings.HasPrefix(st.Foot, c.foot) {
				t.Errorf("%s: footer %q, want it to start with %q", c.name, st.Foot, c.foot)
			}
		}
		// stderr is marked by a label, not only by colour.
		p.setCode("concurrent", "package main // fake:oom\n")
		st := p.run("concurrent", 10*time.Second)
		if len(st.Stderr) != 1 || !strings.Contains(st.Stderr[0], "stderr") {
			t.Errorf("stderr lines %q, want one labelled stderr", st.Stderr)
		}
		p.noConsoleErrors("400 (Bad Request)")
		lp.noConsoleErrors("503 (Service Unavailable)")

		// The per-client rate limit (429) reads as busy too: on a
		// playground that allows one run a minute, the second run.
		rl := newFixtureAPI(t, playground.Config{RateLimit: 1.0 / 60, RateBurst: 1})
		rlSrv, err := fixtureServer(rl)
		if err != nil {
			t.Fatal(err)
		}
		defer rlSrv.Close()
		rp := openPage(t, browser, rlSrv.URL+"/gather/")
		rp.setCode("concurrent", "package main // fake:oom\n")
		if st := rp.run("concurrent", 10*time.Second); !strings.HasPrefix(st.Foot, "Out of memory") {
			t.Errorf("the first run: footer %q", st.Foot)
		}
		const want = "The playground is busy; retrying is possible in 60 s"
		if st := rp.run("concurrent", 10*time.Second); !strings.HasPrefix(st.Foot, want) {
			t.Errorf("rate-limited: footer %q, want it to start with %q", st.Foot, want)
		}
		rp.noConsoleErrors("429 (Too Many Requests)")
	})
	t.Run("stuck", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkStuck(t, p, "concurrent")
		p.screenshot("concurrent", "fixture-deadlock.png")
		p.noConsoleErrors()
		// At the time limit: the dump is folded under the output.
		p = openPage(t, browser, limURL)
		p.setCode("concurrent", api.rec.sigquit.prog)
		st := p.run("concurrent", 20*time.Second)
		var dump struct {
			Open bool   `json:"open"`
			Text string `json:"text"`
			N    int    `json:"n"`
		}
		p.eval(fmt.Sprintf(`(() => { const d = document.querySelectorAll(%q);
		  return {n: d.length, open: d.length > 0 && d[0].open, text: d.length ? d[0].querySelector('pre').textContent : ''}; })()`, fig("concurrent")+" .pg-dump"), &dump)
		if st.Msg != "At the time limit: main is sleeping at line 6 (`time.Sleep(time.Minute)`)." || len(st.Marks) != 1 || st.Marks[0] != 6 || !strings.HasPrefix(st.Foot, "Stopped after 2 s") {
			t.Errorf("timeout: msg %q, marks %v, foot %q", st.Msg, st.Marks, st.Foot)
		}
		if dump.N != 1 || dump.Open || !strings.Contains(dump.Text, "play/prog.go:6") {
			t.Errorf("dump: %+v", dump)
		}
		// The next run starts clean.
		p.setCode("concurrent", "package main // fake:oom\n")
		p.run("concurrent", 10*time.Second)
		p.eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, fig("concurrent")+" .pg-dump"), &dump.N)
		if st := p.state("concurrent"); dump.N != 0 || len(st.Marks) != 0 || strings.Contains(st.Msg, "time limit") {
			t.Errorf("after the next run: %d dumps, marks %v, msg %q", dump.N, st.Marks, st.Msg)
		}
		p.noConsoleErrors()
	})
	t.Run("race", func(t *testing.T) {
		p := openPage(t, browser, url)
		box := fig("concurrent") + " .pg-race input[type=checkbox]"
		var checked bool
		p.eval(fmt.Sprintf(`document.querySelector(%q).checked`, box), &checked)
		if checked {
			t.Error("the race detector is on by default without the fence's race attribute")
		}
		p.do(chromedp.Click(chromedp.CSS(box)))
		p.setCode("concurrent", api.rec.race.prog)
		st := p.run("concurrent", 10*time.Second)
		// The recorded report (testdata/recorded/race.txtar): goroutine 8
		// read what goroutine 7 wrote.
		if !strings.HasPrefix(st.Msg, "Data race: goroutine 8 reads at line 10") || !strings.HasPrefix(st.Foot, "Exit status 66") {
			t.Errorf("msg %q, foot %q", st.Msg, st.Foot)
		}
		if want := "line 10: goroutine 8 reads `n++`|line 10: goroutine 7 wrote `n++`"; strings.Join(st.Errors, "|") != want {
			t.Errorf("entries %q, want %q", st.Errors, want)
		}
		if len(st.Marks) != 1 || st.Marks[0] != 10 {
			t.Errorf("marks %v, want [10]", st.Marks)
		}
		if len(st.Stderr) == 0 {
			t.Error("the race report is not in the output")
		}
		p.screenshot("concurrent", "fixture-race.png")
		p.noConsoleErrors()
	})
	t.Run("lines", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkLines(t, p)
		p.noConsoleErrors()
	})
	t.Run("clear", func(t *testing.T) {
		// "\f" clears the output pane: only the last frame's rows stay,
		// with one timeline mark each.
		p := openPage(t, browser, url)
		p.setCode("concurrent", "package main // fake:clear\n")
		st := p.run("concurrent", 10*time.Second)
		var got []string
		for _, l := range st.Lines {
			_, text, _ := strings.Cut(l, "s")
			got = append(got, text)
		}
		if want := []string{"frame 3", "#.", "[==>]"}; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("rows %q, want %q", got, want)
		}
		if st.Ticks != 3 {
			t.Errorf("%d timeline marks, want 3", st.Ticks)
		}
		p.noConsoleErrors()
	})
	t.Run("compile-error-in-a-file", func(t *testing.T) {
		// An error in another file of a txtar program is named with its
		// file, and marks and moves to its line in the editor.
		p := openPage(t, browser, url)
		p.setCode("concurrent", "package main\n\nimport \"play/part\"\n\nfunc main() { part.Hello() } // fake:part-error\n-- part/part.go --\npackage part\n\nfunc Hello() {\n\tundefinedInPart()\n}\n")
		st := p.run("concurrent", 10*time.Second)
		if want := "part/part.go:4:2: undefined: undefinedInPart"; len(st.Errors) != 1 || st.Errors[0] != want {
			t.Fatalf("errors %q, want [%q] (foot %q, msg %q)", st.Errors, want, st.Foot, st.Msg)
		}
		if len(st.Marks) != 1 || st.Marks[0] != 10 {
			t.Errorf("marks %v, want [10]", st.Marks)
		}
		p.do(chromedp.Click(chromedp.CSS(fig("concurrent") + ` .pg-errbtn`)))
		var caret int
		p.eval(`(() => { const ta = document.querySelector('figure[data-name="concurrent"] textarea'); return ta.value.slice(0, ta.selectionStart).split('\n').length; })()`, &caret)
		if caret != 10 {
			t.Errorf("the error button put the caret on line %d, want 10", caret)
		}
		p.noConsoleErrors()
	})
	t.Run("image", func(t *testing.T) {
		// "IMAGE:" + base64 of a PNG is shown as the image; a GIF, text
		// that is not base64 and a PNG that does not decode stay text.
		p := openPage(t, browser, url)
		p.setCode("concurrent", "package main // fake:image\n")
		p.run("concurrent", 10*time.Second)
		p.wait("the broken PNG shown as text", `document.querySelectorAll('figure[data-name="concurrent"] .pg-log .pg-line').length === 5 && document.querySelectorAll('figure[data-name="concurrent"] .pg-log img').length === 2 && [...document.querySelectorAll('figure[data-name="concurrent"] .pg-log img')].every((i) => i.complete)`, 10*time.Second)
		var rows []struct {
			Img, Src, Text string
			W, H           int
		}
		p.eval(`[...document.querySelectorAll('figure[data-name="concurrent"] .pg-log .pg-line')].map((r) => {
		  const i = r.querySelector('img');
		  return {img: i ? i.alt : '', src: i ? i.src.slice(0, 22) : '', text: r.querySelector('.pg-d') ? r.querySelector('.pg-d').textContent : '', w: i ? i.naturalWidth : 0, h: i ? i.naturalHeight : 0};
		})`, &rows)
		if len(rows) != 5 {
			t.Fatalf("%d rows, want 5: %+v", len(rows), rows)
		}
		for _, i := range []int{0, 4} {
			if r := rows[i]; r.Src != "data:image/png;base64," || r.W != 4 || r.H != 3 || r.Img == "" || r.Text != "" {
				t.Errorf("row %d: %+v, want the 4x3 PNG with an alt text", i, r)
			}
		}
		for _, i := range []int{1, 2, 3} {
			if r := rows[i]; r.Img != "" || !strings.HasPrefix(r.Text, "IMAGE:") {
				t.Errorf("row %d: %+v, want the text printed", i, r)
			}
		}
		p.noConsoleErrors("data:image/png")
	})
	t.Run("stdin", func(t *testing.T) {
		p := openPage(t, browser, url)
		box := `document.querySelector('figure[data-name="concurrent"] .pg-stdin')`
		key := func(k string, ctrl bool) {
			p.eval(fmt.Sprintf(`%s.dispatchEvent(new KeyboardEvent('keydown', {key: %q, ctrlKey: %v, bubbles: true, cancelable: true}))`, box, k, ctrl), nil)
		}
		rows := `pgt.state("concurrent").lines.map((l) => l.replace(/^\+[\d.]+s/, ''))`
		p.setCode("concurrent", "package main // fake:stdin\n")
		// Typed before Run: the program's input from the start.
		p.eval(box+`.value = "first"; true`, nil)
		p.eval(`pgt.watch("concurrent")`, nil)
		p.do(chromedp.Click(chromedp.CSS(fig("concurrent") + ` .pg-run`)))
		p.wait("the first line echoed", rows+`.join("|") === "got: first"`, 10*time.Second)
		// While it runs: Enter sends the line, Ctrl+D ends the input.
		p.eval(box+`.value = "second"; true`, nil)
		key("Enter", false)
		p.wait("the second line echoed", rows+`.join("|") === "got: first|got: second"`, 10*time.Second)
		key("d", true)
		p.wait("the end of the run", `pgt.done("concurrent")`, 10*time.Second)
		var got []string
		p.eval(rows, &got)
		if strings.Join(got, "|") != "got: first|got: second|EOF" {
			t.Errorf("rows %q", got)
		}
		var after string
		p.eval(box+`.value`, &after)
		if after != "first" {
			t.Errorf("the box holds %q after the run, want the text typed before it", after)
		}
		p.noConsoleErrors()
	})
	t.Run("bench", func(t *testing.T) {
		p := openPage(t, browser, url)
		p.setCode("concurrent", "package main // fake:bench\n")
		p.run("concurrent", 10*time.Second)
		var rows [][]string
		p.eval(`[...document.querySelectorAll('figure[data-name="concurrent"] .pg-bench tr')].map((r) => [...r.children].map((c) => c.textContent))`, &rows)
		want := [][]string{
			{"benchmark", "iterations", "ns/op", "B/op", "allocs/op"},
			{"BenchmarkSequential", "1203", "981234", "16384", "3"},
			{"BenchmarkConcurrent", "4410", "270512.5", "17200", "12"},
		}
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("benchmark table %q, want %q", rows, want)
		}
		// A compare group of benchmark snippets: their results side by side.
		p.setCode("sequential", "package main // fake:bench\n")
		p.do(chromedp.Click(chromedp.CSS(`.pg-cmp-run`)))
		p.wait("both runs of the comparison", `!document.querySelector('.pg-cmp-run').disabled && !document.querySelector('.pg-cmp-res').textContent.includes('–')`, 20*time.Second)
		p.eval(`[...document.querySelectorAll('.pg-cmp-bench tr')].map((r) => [...r.children].map((c) => c.textContent))`, &rows)
		want = [][]string{
			{"benchmark", "snippet", "ns/op", "B/op", "allocs/op"},
			{"BenchmarkSequential", "sequential", "981234", "16384", "3"},
			{"BenchmarkSequential", "concurrent", "981234", "16384", "3"},
			{"BenchmarkConcurrent", "sequential", "270512.5", "17200", "12"},
			{"BenchmarkConcurrent", "concurrent", "270512.5", "17200", "12"},
		}
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("compared benchmarks %q, want %q", rows, want)
		}
		// Edits are kept across reloads: Reset both for the next subtests.
		p.do(chromedp.Click(chromedp.CSS(fig("sequential")+` .pg-reset`)), chromedp.Click(chromedp.CSS(fig("concurrent")+` .pg-reset`)))
		p.noConsoleErrors()
	})
	t.Run("format", func(t *testing.T) {
		p := openPage(t, browser, url)
		p.setCode("concurrent", "package main\n\nfunc main() {\n    println(1)\n}\n")
		p.do(chromedp.Click(chromedp.CSS(fig("concurrent") + ` .pg-fmt`)))
		p.wait("Formatted", `pgt.state("concurrent").status === "Formatted"`, 5*time.Second)
		var v string
		p.eval(`document.querySelector('figure[data-name="concurrent"] textarea').value`, &v)
		if v != "package main\n\nfunc main() {\n\tprintln(1)\n}\n" {
			t.Errorf("formatted code %q", v)
		}
		p.do(chromedp.Click(chromedp.CSS(fig("concurrent") + ` .pg-copy`)))
		p.wait("Copied", `pgt.state("concurrent").status === "Copied"`, 5*time.Second)
		p.setCode("concurrent", "package main\n\nfake:syntax\n")
		p.do(chromedp.Click(chromedp.CSS(fig("concurrent") + ` .pg-fmt`)))
		p.wait("Format failed", `pgt.state("concurrent").status === "Format failed"`, 5*time.Second)
		if st := p.state("concurrent"); len(st.Errors) != 1 || !strings.HasPrefix(st.Errors[0], "3:1: expected declaration") || len(st.Marks) != 1 || st.Marks[0] != 3 {
			t.Errorf("format error: errors %q, marks %v; want 3:1 marked", st.Errors, st.Marks)
		}
		p.noConsoleErrors()
	})
	t.Run("compare", func(t *testing.T) {
		p := openPage(t, browser, url)
		checkCompare(t, p)
		var res string
		p.eval(`document.querySelector('.pg-cmp-res').textContent`, &res)
		var seq, conc float64
		fmt.Sscanf(res, "sequential %f s · concurrent %f s", &seq, &conc)
		if seq < 5.5 || conc > 3.5 {
			t.Errorf("comparison %q, want about 6 s and 2 s", res)
		}
		p.noConsoleErrors()
	})
	t.Run("screenshots", func(t *testing.T) {
		p := openPage(t, browser, url)
		p.run("concurrent", runTimeout)
		checkScreenshots(t, p, "concurrent", "fixture")
		p.noConsoleErrors()
	})
	t.Run("run-both", func(t *testing.T) {
		p := openPage(t, browser, url)
		r := checkRunBoth(t, p, "both", "py-both", "go-both", 20*time.Second)
		checkGatherBoth(t, r)
		screenshotsBoth(t, p, "both", "fixture-run-both")
		// A failing program: the summary says so instead of a time.
		p.setCode("py-both", "import sys # fake:fail\n")
		p.do(chromedp.Click(chromedp.CSS(bothSel("both") + ` .pg-both-run`)))
		p.wait("Run both to end", `!document.querySelector('.pg-both-run').disabled && pgt.done("py-both") && pgt.done("go-both")`, 20*time.Second)
		if st := p.both("both"); !strings.HasPrefix(st.Sum, "Python: ") || !strings.Contains(st.Sum, "(Exit status 1), Go: ") || !strings.HasSuffix(st.Sum, " s") {
			t.Errorf("summary after a failed Python run %q, want its exit status and Go's time", st.Sum)
		}
		p.do(chromedp.Click(chromedp.CSS(fig("py-both") + ` .pg-reset`)))
		checkNarrowBoth(t, p, url, "both", "py-both", "go-both", "fixture-run-both-360px.png", 20*time.Second)
		p.noConsoleErrors()
	})
	t.Run("csp-violations-are-caught", func(t *testing.T) {
		// The console check of the other subtests must be able to fail: an
		// inline style attribute violates the CSP and must be reported.
		p := openPage(t, browser, url)
		p.eval(`document.body.setAttribute('style', 'color: red'); true`, nil)
		p.wait("nothing", `new Promise((r) => setTimeout(() => r(true), 300))`, 5*time.Second)
		if !p.consoleHas("Content Security Policy") {
			t.Errorf("a CSP violation was not reported on the console")
		}
	})
}

// checkLines: pieces of output make the lines a terminal shows (one row per
// line, one timeline mark per line; \r overwrites; colours removed), and
// the page's rules agree with the Go package screen on its shared cases.
func checkLines(t *testing.T, p *page) {
	t.Helper()
	p.setCode("concurrent", "package main // fake:pieces\n")
	st := p.run("concurrent", 10*time.Second)
	want := []string{"Loading..... done", "progress 100%", "red green", "error 0", "output 0", "tail"}
	var got []string
	for _, l := range st.Lines {
		// Each row reads "+0.123s", then "stderr" on stderr, then the text.
		_, text, _ := strings.Cut(l, "s")
		got = append(got, strings.TrimPrefix(text, "stderr"))
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rows %q, want %q", got, want)
	}
	if st.Ticks != len(want) || len(st.Stderr) != 1 {
		t.Errorf("%d timeline marks and %d stderr rows, want %d and 1", st.Ticks, len(st.Stderr), len(want))
	}
	cases, err := os.ReadFile(filepath.Join(repoRoot(), "screen", "testdata", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var failures []string
	p.eval(`(() => {
	  const bad = [];
	  for (const c of `+string(cases)+`) {
	    const s = new window.PlaydocLineScreen();
	    for (const x of c.pieces) s.write(x.stderr, x.t, x.data);
	    const got = JSON.stringify(s.lines), want = JSON.stringify(c.lines);
	    if (got !== want) bad.push(c.name + ": got " + got + ", want " + want);
	  }
	  return bad;
	})()`, &failures)
	for _, f := range failures {
		t.Error(f)
	}
}

// fillRunners starts n runs of a program whose build is held (fake:hold)
// on the playground at base and returns once the server counts them all
// (running or queued); done is closed when all n have ended.
func fillRunners(t *testing.T, base string, n int) (done <-chan struct{}) {
	t.Helper()
	ended := make(chan struct{})
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	for range n {
		wg.Go(func() {
			body := strings.NewReader(`{"code": "package main // fake:hold\n"}`)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/run", body)
			if err != nil {
				t.Error(err)
				return
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("a run to fill the runners: %v", err)
				return
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("a run to fill the runners: %s", res.Status)
			}
			io.Copy(io.Discard, res.Body)
		})
	}
	go func() {
		wg.Wait()
		cancel()
		close(ended)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, err := health(base)
		if err != nil {
			t.Fatal(err)
		}
		if h.Running+h.Queued == n {
			return ended
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz reports %d running and %d queued, want %d in all", h.Running, h.Queued, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
