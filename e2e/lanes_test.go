package e2e

import (
	"cmp"
	"fmt"
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
