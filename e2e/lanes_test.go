package e2e

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// laneIv is one drawn interval of a lane, read back from its title.
type laneIv struct {
	lane       int
	state, at  string
	start, end float64 // ms since the program started, to the ms
}

// ivTitle reads an interval's title as drawLanes writes it:
// "main: blocked (waitgroup) at prog.go:19, 0.001 s to 2.003 s".
var ivTitle = regexp.MustCompile(`^.+?: (running|runnable|blocked|syscall)(?: \([^)]*\))?(?: at (\S+))?, (\d+\.\d{3}) s to (\d+\.\d{3}) s$`)

// laneIntervals reads every interval of st's lanes from its title.
func laneIntervals(t *testing.T, st lanesState) []laneIv {
	t.Helper()
	var ivs []laneIv
	for i, l := range st.Lanes {
		for _, v := range l.Ivs {
			m := ivTitle.FindStringSubmatch(v.Title)
			if m == nil {
				t.Errorf("lane %q: interval title %q not understood", l.Name, v.Title)
				continue
			}
			s, _ := strconv.ParseFloat(m[3], 64)
			e, _ := strconv.ParseFloat(m[4], 64)
			ivs = append(ivs, laneIv{lane: i, state: m[1], at: m[2], start: s * 1000, end: e * 1000})
		}
	}
	return ivs
}

// runningAtOnce sweeps the running intervals of every lane but skip (-1:
// none) over [from, to] ms: the most running at once, and how long at
// least n ran at once.
func runningAtOnce(ivs []laneIv, skip int, from, to float64, n int) (most int, atLeastN float64) {
	type edge struct {
		at    float64
		delta int
	}
	var edges []edge
	for _, v := range ivs {
		if v.state != "running" || v.lane == skip || v.end <= from || v.start >= to {
			continue
		}
		edges = append(edges, edge{max(v.start, from), 1}, edge{min(v.end, to), -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return a.delta - b.delta // ends before starts at the same time
	})
	running, last := 0, from
	for _, e := range edges {
		if running >= n {
			atLeastN += e.at - last
		}
		running += e.delta
		last = e.at
		most = max(most, running)
	}
	return most, atLeastN
}

// checkCPULanes runs the CPU-bound page's parallel snippet, traced by its
// fence, and checks that its lanes show goroutines queuing for the
// processors: the head's GOMAXPROCS is the one the program printed, main
// and a worker per processor have lanes, goroutines were runnable for at
// least 5 ms in all while GOMAXPROCS others ran (waiting for a processor,
// not for work), and never more than GOMAXPROCS ran at once. Then
// screenshots of the lanes in both themes.
func checkCPULanes(t *testing.T, p *page, name, prefix string) {
	var st lanesState
	p.eval(fmt.Sprintf(`%s(%q)`, lanesJS, fig(name)), &st)
	if !st.Toggle {
		t.Errorf("the Trace toggle of %s is off before the run; its fence has trace", name)
		p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-trace input`)))
	}
	run := p.run(name, runTimeout)
	if run.WallMs < 0 {
		t.Fatalf("traced run of %s: foot %q, msg %q", name, run.Foot, run.Msg)
	}
	p.eval(fmt.Sprintf(`%s(%q)`, lanesJS, fig(name)), &st)
	head := regexp.MustCompile(`GOMAXPROCS (\d+)`).FindStringSubmatch(st.Head)
	if st.Hidden || head == nil {
		t.Fatalf("lanes: %+v", st)
	}
	procs, _ := strconv.Atoi(head[1])
	printed := ""
	for _, l := range run.Lines {
		if m := regexp.MustCompile(`GOMAXPROCS (\d+);`).FindStringSubmatch(l); m != nil {
			printed = m[1]
		}
	}
	if printed != head[1] {
		t.Errorf("the lanes say GOMAXPROCS %s, the program printed %q (lines %q)", head[1], printed, run.Lines)
	}
	if procs < 1 || len(st.Lanes) < procs+1 || st.Lanes[0].Name != "main" {
		t.Fatalf("%d lanes for GOMAXPROCS %d, want main and a worker per processor: %+v", len(st.Lanes), procs, st.Lanes)
	}
	ivs := laneIntervals(t, st)
	queued, runnable := 0.0, 0.0
	for _, v := range ivs {
		if v.state != "runnable" {
			continue
		}
		runnable += v.end - v.start
		_, busy := runningAtOnce(ivs, v.lane, v.start, v.end, procs)
		queued += busy
	}
	if queued < 5 {
		t.Errorf("goroutines were runnable %.0f ms in all, %.0f ms of it while %d others ran; want ≥ 5 ms of queuing for the processors: %+v", runnable, queued, procs, st.Lanes)
	}
	if most, _ := runningAtOnce(ivs, -1, 0, st.SpanMs, procs); most > procs {
		t.Errorf("%d goroutines drawn running at once on %d processors", most, procs)
	}
	t.Logf("%d lanes, GOMAXPROCS %d: runnable %.0f ms in all, %.0f ms of it while %d others ran", len(st.Lanes), procs, runnable, queued, procs)
	lanesScreenshots(t, p, name, prefix)
}

// checkThreadLanes runs a snippet of two goroutines blocked for a second
// each in a system call (nanosleep at the line holding syscallAt) and
// checks that their lanes show them holding a thread: two syscall
// intervals of at least 0.9 s at that line, overlapping.
func checkThreadLanes(t *testing.T, p *page, name, syscallAt, prefix string) {
	var st lanesState
	p.eval(fmt.Sprintf(`%s(%q)`, lanesJS, fig(name)), &st)
	if !st.Toggle {
		t.Errorf("the Trace toggle of %s is off before the run; its fence has trace", name)
		p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-trace input`)))
	}
	if run := p.run(name, runTimeout); run.WallMs < 0 {
		t.Fatalf("traced run of %s: foot %q, msg %q", name, run.Foot, run.Msg)
	}
	p.eval(fmt.Sprintf(`%s(%q)`, lanesJS, fig(name)), &st)
	if st.Hidden || len(st.Lanes) < 3 {
		t.Fatalf("lanes: %+v", st)
	}
	at := codeLine(t, st.Code, syscallAt)
	var calls []laneIv
	for _, v := range laneIntervals(t, st) {
		if v.state == "syscall" && v.at == at && v.end-v.start >= 900 {
			calls = append(calls, v)
		}
	}
	if len(calls) != 2 || calls[0].lane == calls[1].lane || min(calls[0].end, calls[1].end)-max(calls[0].start, calls[1].start) < 800 {
		t.Errorf("syscall intervals ≥ 0.9 s at %s: %+v, want two lanes in the call at once: %+v", at, calls, st.Lanes)
	}
	found := false
	for _, f := range st.Facts {
		found = found || strings.Contains(f, "syscall at "+at)
	}
	if !found {
		t.Errorf("the text alternative does not say who was in a syscall at %s: %q", at, st.Facts)
	}
	lanesScreenshots(t, p, name, prefix)
}

// lanesScreenshots saves the viewport with the snippet's lanes at its
// bottom (the output and its timeline above them), in the light and the
// dark theme, and checks the snippet's contrast in each.
func lanesScreenshots(t *testing.T, p *page, name, prefix string) {
	show := fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'end'}); true`, fig(name)+" .pg-lanes")
	for _, theme := range []string{"light", "dark"} {
		p.colorScheme(theme)
		p.eval(show, nil)
		saveScreenshot(t, p, prefix+"-lanes-"+theme+".png")
		checkContrast(t, p, name, theme)
	}
	p.colorScheme("")
}

// lanesJS reads a snippet's goroutine lanes as drawn: each interval's
// title and its place in pixels, with the timeline's axis to compare.
const lanesJS = `((sel) => {
  const f = document.querySelector(sel), box = f.querySelector('.pg-lanes'), r = (e) => e.getBoundingClientRect();
  const axis = f.querySelector('.pg-axis');
  return {
    hidden: !box || box.hidden,
    toggle: !!f.querySelector('.pg-trace input:checked'),
    spanMs: box ? +box.dataset.spanMs : 0,
    head: box && box.querySelector('.pg-lanes-head') ? box.querySelector('.pg-lanes-head').textContent : '',
    axisLeft: axis ? r(axis).left : -1, axisWidth: axis ? r(axis).width : -1,
    code: f.querySelector('textarea').value,
    facts: box ? [...box.querySelectorAll('.pg-sr li')].map((li) => li.textContent) : [],
    running: (() => { const s = box && box.querySelector('.pg-lane .pg-running'); return s ? getComputedStyle(s).backgroundColor : ''; })(),
    lanes: box ? [...box.querySelectorAll('.pg-lane')].map((l) => ({
      name: l.querySelector('.pg-lane-name').textContent,
      barLeft: r(l.querySelector('.pg-lane-bar')).left, barWidth: r(l.querySelector('.pg-lane-bar')).width,
      ivs: [...l.querySelectorAll('.pg-iv')].map((s) => ({title: s.title, left: r(s).left, width: r(s).width})),
    })) : [],
  };
})`

// lanesState mirrors lanesJS.
type lanesState struct {
	Hidden    bool     `json:"hidden"`
	Toggle    bool     `json:"toggle"`
	SpanMs    float64  `json:"spanMs"`
	Head      string   `json:"head"`
	AxisLeft  float64  `json:"axisLeft"`
	AxisWidth float64  `json:"axisWidth"`
	Code      string   `json:"code"`
	Facts     []string `json:"facts"`
	Running   string   `json:"running"`
	Lanes     []struct {
		Name     string  `json:"name"`
		BarLeft  float64 `json:"barLeft"`
		BarWidth float64 `json:"barWidth"`
		Ivs      []struct {
			Title string  `json:"title"`
			Left  float64 `json:"left"`
			Width float64 `json:"width"`
		} `json:"ivs"`
	} `json:"lanes"`
}

// codeLine is "prog.go:N" for the first line of code holding needle.
func codeLine(t *testing.T, code, needle string) string {
	for i, l := range strings.Split(code, "\n") {
		if strings.Contains(l, needle) {
			return fmt.Sprintf("prog.go:%d", i+1)
		}
	}
	t.Fatalf("no line with %q in the snippet", needle)
	return ""
}

// checkLanes runs a gather snippet with Trace on (clicking the toggle
// unless the snippet has it on by default) and checks its lanes: three
// goroutines asleep together for about 2 s at time.Sleep, main blocked on
// the WaitGroup meanwhile, drawn on the timeline's axis, named by titles
// and by a text list; then screenshots in both themes.
func checkLanes(t *testing.T, p *page, name, prefix string, byDefault bool) {
	var st lanesState
	p.eval(fmt.Sprintf(`%s(%q)`, lanesJS, fig(name)), &st)
	if st.Toggle != byDefault {
		t.Errorf("the Trace toggle is checked=%v before the run, want %v", st.Toggle, byDefault)
	}
	if !st.Toggle {
		p.do(chromedp.Click(chromedp.CSS(fig(name) + ` .pg-trace input`)))
	}
	if run := p.run(name, runTimeout); run.WallMs < 0 {
		t.Fatalf("traced run of %s: foot %q, msg %q", name, run.Foot, run.Msg)
	}
	p.eval(fmt.Sprintf(`%s(%q)`, lanesJS, fig(name)), &st)
	if st.Hidden || len(st.Lanes) != 4 || !regexp.MustCompile(`GOMAXPROCS \d`).MatchString(st.Head) || st.SpanMs < 1900 {
		t.Fatalf("lanes: %+v", st)
	}
	sleepAt, waitAt := codeLine(t, st.Code, "time.Sleep"), codeLine(t, st.Code, "wg.Wait()")
	ms := func(px float64) float64 { return (px - st.AxisLeft) / st.AxisWidth * st.SpanMs }
	lo, hi := 0.0, st.SpanMs
	sleepers, mainWaits := 0, false
	for _, l := range st.Lanes {
		if math.Abs(l.BarLeft-st.AxisLeft) > 1 || math.Abs(l.BarWidth-st.AxisWidth) > 1 {
			t.Errorf("lane %q spans %.0f+%.0f px, the timeline %.0f+%.0f px: not one time axis", l.Name, l.BarLeft, l.BarWidth, st.AxisLeft, st.AxisWidth)
		}
		for _, iv := range l.Ivs {
			start, end := ms(iv.Left), ms(iv.Left+iv.Width)
			switch {
			case strings.Contains(iv.Title, "blocked (sleep) at "+sleepAt) && end-start >= 1900:
				sleepers++
				lo, hi = math.Max(lo, start), math.Min(hi, end)
			case l.Name == "main" && strings.Contains(iv.Title, "blocked (waitgroup) at "+waitAt) && end-start >= 1900:
				mainWaits = true
			}
		}
	}
	if sleepers != 3 || hi-lo < 1800 {
		t.Errorf("%d lanes asleep ≥ 1.9 s at %s, together for %.0f ms, want 3 for ≥ 1.8 s: %+v", sleepers, sleepAt, hi-lo, st.Lanes)
	}
	if !mainWaits {
		t.Errorf("no main lane blocked on the WaitGroup at %s for ≥ 1.9 s: %+v", waitAt, st.Lanes)
	}
	asleep := 0
	for _, f := range st.Facts {
		if strings.Contains(f, "blocked (sleep) at "+sleepAt) {
			asleep++
		}
	}
	if len(st.Facts) != 4 || asleep != 3 || !strings.HasPrefix(st.Facts[0], "main") || !strings.Contains(st.Facts[0], "waitgroup") {
		t.Errorf("text alternative %q", st.Facts)
	}
	p.colorScheme("light")
	p.eval(fmt.Sprintf(`%s(%q)`, lanesJS, fig(name)), &st)
	light := st.Running
	p.screenshot(name, prefix+"-lanes-light.png")
	checkContrast(t, p, name, "light")
	p.colorScheme("dark")
	p.eval(fmt.Sprintf(`%s(%q)`, lanesJS, fig(name)), &st)
	p.screenshot(name, prefix+"-lanes-dark.png")
	checkContrast(t, p, name, "dark")
	p.colorScheme("")
	if light == st.Running || light == "" {
		t.Errorf("a running interval is %q in the light theme and %q in the dark", light, st.Running)
	}
}
