package playground

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"playdoc/playground/api"
)

// lineOf is the 1-based line of src holding needle (the first such line).
func lineOf(t testing.TB, src, needle string) string {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, needle) {
			return fmt.Sprintf("prog.go:%d", i+1)
		}
	}
	t.Fatalf("no line with %q", needle)
	return ""
}

// hostTrace builds src wrapped by withTrace with the host's go command
// and runs it with descriptor 3 a file, outside the sandbox, and returns
// the summary: withTrace and summarizeTrace tested on their own.
func hostTrace(t *testing.T, src string) (*api.Trace, string, []byte) {
	t.Helper()
	p, err := ParseProgram([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	q, err := withTrace(p)
	if err != nil {
		t.Fatalf("withTrace: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module play\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range q.Files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.Command("go", "build", "-trimpath", "-o", "prog", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s\n%s", err, out, q.Files["prog.go"])
	}
	tf, err := os.Create(filepath.Join(dir, "trace.out"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(dir, "prog"))
	cmd.ExtraFiles = []*os.File{tf}
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	_ = cmd.Run() // exits non-zero on purpose in some cases
	tf.Close()
	b, err := os.ReadFile(filepath.Join(dir, "trace.out"))
	if err != nil {
		t.Fatal(err)
	}
	tr, truncated, err := summarizeTrace(bytes.NewReader(b), start, newUserCode(p))
	if err != nil {
		t.Fatalf("summarizeTrace: %v (program output %q)", err, out.String())
	}
	return tr, truncated, out.Bytes()
}

// laneNamed is the first goroutine called name.
func laneNamed(tr *api.Trace, name string) *api.Lane {
	for i := range tr.Lanes {
		if tr.Lanes[i].Name == name {
			return &tr.Lanes[i]
		}
	}
	return nil
}

// longest is g's longest interval in state (and reason, if not empty).
func longest(g *api.Lane, state, reason string) api.Interval {
	var best api.Interval
	for _, iv := range g.Intervals {
		if iv.State == state && (reason == "" || iv.Reason == reason) && iv.End-iv.Start > best.End-best.Start {
			best = iv
		}
	}
	return best
}

func TestWithTraceKeepsLines(t *testing.T) {
	src := "package main // the comment stays\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Println(1)\n\tif len(os.Args) > 5 {\n\t\tos.Exit(3 +\n\t\t\t1)\n\t}\n}\n"
	p, err := ParseProgram([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	q, err := withTrace(p)
	if err != nil {
		t.Fatal(err)
	}
	got := string(q.Files["prog.go"])
	gl, sl := strings.Split(got, "\n"), strings.Split(src, "\n")
	for i, l := range sl[1 : len(sl)-1] {
		want := strings.ReplaceAll(strings.ReplaceAll(l, "func main", "func "+traceMainName), "os.Exit(3", "os.Exit(playdoc_exit(3")
		if i+1 == 11 || i+1 == 12 {
			continue // checked below
		}
		if gl[i+1] != want {
			t.Errorf("line %d = %q, want %q", i+2, gl[i+1], want)
		}
	}
	if !strings.Contains(got, "os.Exit(playdoc_exit(3 +\n\t\t\t1))") {
		t.Errorf("os.Exit not wrapped:\n%s", got)
	}
	if !strings.HasPrefix(gl[0], "package main; import (playdoc_trace \"runtime/trace\";") || !strings.HasSuffix(gl[0], "// the comment stays") {
		t.Errorf("package line = %q", gl[0])
	}
	if _, err := withTrace(&Program{Files: map[string][]byte{"prog_test.go": []byte("package main")}, Test: true}); err == nil {
		t.Error("a test program was wrapped")
	}
	if _, err := withTrace(&Program{Files: map[string][]byte{"prog.go": []byte("package main\nfunc main( {")}}); err == nil {
		t.Error("a program that does not parse was wrapped")
	}
}

const chanProgram = `package main

import (
	"fmt"
	"sync"
	"time"
)

func producer(ch chan<- int) {
	time.Sleep(300 * time.Millisecond)
	ch <- 1
	ch <- 2
}

func locker(mu *sync.Mutex, done chan<- bool) {
	mu.Lock()
	mu.Unlock()
	time.Sleep(150 * time.Millisecond)
	done <- true
}

func main() {
	ch := make(chan int)
	go producer(ch)
	fmt.Println(<-ch)
	time.Sleep(200 * time.Millisecond)
	fmt.Println(<-ch)
	var mu sync.Mutex
	done := make(chan bool)
	mu.Lock()
	go locker(&mu, done)
	time.Sleep(200 * time.Millisecond)
	mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
`

// TestTraceSummaryReasons: the states, reasons and lines of a program with
// channels, a mutex and a select, traced outside the sandbox.
func TestTraceSummaryReasons(t *testing.T) {
	tr, truncated, out := hostTrace(t, chanProgram)
	if truncated != "" {
		t.Errorf("truncated: %s", truncated)
	}
	if string(out) != "1\n2\n" {
		t.Errorf("output %q", out)
	}
	main, prod, lock := laneNamed(tr, "main"), laneNamed(tr, "main.producer"), laneNamed(tr, "main.locker")
	if main == nil || prod == nil || lock == nil || len(tr.Lanes) != 3 {
		t.Fatalf("lanes: %+v", tr.Lanes)
	}
	if prod.CreatedAt != lineOf(t, chanProgram, "go producer") || lock.CreatedAt != lineOf(t, chanProgram, "go locker") {
		t.Errorf("created at %q, %q", prod.CreatedAt, lock.CreatedAt)
	}
	checks := []struct {
		g      *api.Lane
		reason string
		line   string
		min    float64
	}{
		{main, "chan recv", "fmt.Println(<-ch)", 250},
		{prod, "sleep", "time.Sleep(300", 250},
		{prod, "chan send", "ch <- 2", 150},
		{lock, "mutex", "mu.Lock()\n\tmu.Unlock()\n\tdone", 150},
		{main, "select", "select {", 100},
	}
	for _, c := range checks {
		iv := longest(c.g, "blocked", c.reason)
		want := lineOf(t, chanProgram, strings.Split(c.line, "\n")[0])
		if iv.At != want || iv.End-iv.Start < c.min {
			t.Errorf("%s blocked on %s: longest %+v, want at %s for ≥ %vms", c.g.Name, c.reason, iv, want, c.min)
		}
	}
	for _, g := range tr.Lanes {
		for i, iv := range g.Intervals {
			if iv.End <= iv.Start || i > 0 && iv.Start < g.Intervals[i-1].End {
				t.Errorf("%s: interval %d %+v out of order", g.Name, i, iv)
			}
		}
	}
	if tr.GOMAXPROCS < 1 || tr.Start < 0 || tr.End < tr.Start+700*time.Millisecond {
		t.Errorf("trace: GOMAXPROCS %d, %v to %v", tr.GOMAXPROCS, tr.Start, tr.End)
	}
}

// TestTraceSurvivesExitAndPanic: os.Exit and a panic in main still leave
// a readable trace, with what happened before them.
func TestTraceSurvivesExitAndPanic(t *testing.T) {
	for _, end := range []string{"os.Exit(3)", `panic("boom")`} {
		src := "package main\n\nimport (\n\t\"os\"\n\t\"time\"\n)\n\nfunc main() {\n\t_ = os.Args\n\ttime.Sleep(100 * time.Millisecond)\n\t" + end + "\n}\n"
		tr, _, out := hostTrace(t, src)
		main := laneNamed(tr, "main")
		if main == nil {
			t.Fatalf("%s: no main lane: %+v", end, tr)
		}
		if iv := longest(main, "blocked", "sleep"); iv.At != "prog.go:10" || iv.End-iv.Start < 90 {
			t.Errorf("%s: sleep %+v", end, iv)
		}
		if strings.HasPrefix(end, "panic") && !strings.Contains(string(out), "panic: boom") {
			t.Errorf("the panic's message changed: %q", out)
		}
	}
}

// TestTraceGarbageIsAnError: descriptor 3 is the program's to write: bytes
// that are not a trace are an error, never a panic.
func TestTraceGarbageIsAnError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	inputs := [][]byte{nil, []byte("go 1.26 trace\x00\x00\x00"), []byte("hello")}
	for range 20 {
		b := make([]byte, r.IntN(4096))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		inputs = append(inputs, append([]byte("go 1.23 trace\x00\x00\x00"), b...))
	}
	for _, in := range inputs {
		if _, _, err := summarizeTrace(bytes.NewReader(in), time.Now(), userCode{modPath: "play"}); err == nil {
			t.Errorf("%q… read as a trace", in[:min(len(in), 20)])
		}
	}
}

// TestRealTraceThreeTasks: through the real sandbox, the three-task
// program's lanes: three goroutines asleep together for ~2 s while main
// waits on the WaitGroup, on the output's time axis.
func TestRealTraceThreeTasks(t *testing.T) {
	_, ts := newRealServer(t, nil)
	src := uniq(threeTasks)
	evs := runWith(t, ts.URL, map[string]any{"code": src, "trace": true}, 2*time.Minute)
	if got := kinds(evs); !strings.HasSuffix(got, ",trace,exit") {
		t.Fatalf("events %s", got)
	}
	ev, _ := find(evs, api.KindTrace)
	tr := ev.Trace
	if tr == nil || ev.Message != "" {
		t.Fatalf("trace event %+v", ev.Event)
	}
	main := laneNamed(tr, "main")
	if main == nil || len(tr.Lanes) != 4 {
		t.Fatalf("lanes %+v", tr.Lanes)
	}
	wait := longest(main, "blocked", "waitgroup")
	if wait.At != lineOf(t, src, "wg.Wait()") || wait.End-wait.Start < 1900 {
		t.Errorf("main waits %+v, want at wg.Wait() for ≥ 1.9 s", wait)
	}
	var sleeps []api.Interval
	for _, g := range tr.Lanes {
		if g.ID == main.ID {
			continue
		}
		if g.Name != "main.main.func1" || g.CreatedAt != lineOf(t, src, "wg.Go(") {
			t.Errorf("lane %+v: want main.main.func1 created at wg.Go", g)
		}
		iv := longest(&g, "blocked", "sleep")
		if iv.At != lineOf(t, src, "time.Sleep") || iv.End-iv.Start < 1900 {
			t.Errorf("%d sleeps %+v, want at time.Sleep for ≥ 1.9 s", g.ID, iv)
		}
		sleeps = append(sleeps, iv)
	}
	// Asleep together while main waits: the three sleeps and main's wait
	// overlap by ≥ 1.8 s. A task may fall asleep before main reaches
	// wg.Wait (CI saw the third sleep start 10 µs before it), so only the
	// common stretch is asserted, not that every sleep starts inside the wait.
	lo, hi := wait.Start, wait.End
	for _, iv := range sleeps {
		lo, hi = max(lo, iv.Start), min(hi, iv.End)
	}
	if hi-lo < 1800 {
		t.Errorf("sleeps %+v overlap %v..%v, main waits %v..%v", sleeps, lo, hi, wait.Start, wait.End)
	}
	// The same time axis as the output: each "task N done" line is
	// written after its task wakes, and within a second of it.
	var done []float64
	for _, e := range evs {
		if e.Kind == api.KindStdout && strings.HasPrefix(e.Data, "task ") {
			done = append(done, api.Millis(e.T))
		}
	}
	slices.Sort(done)
	ends := []float64{sleeps[0].End, sleeps[1].End, sleeps[2].End}
	slices.Sort(ends)
	if len(done) != 3 {
		t.Fatalf("task lines at %v", done)
	}
	for i := range done {
		if done[i] < ends[i]-1 || done[i] > ends[i]+1000 {
			t.Errorf("task line at %vms, its sleep ends at %vms: not one time axis", done[i], ends[i])
		}
	}
	if tr.GOMAXPROCS < 1 || tr.Start < 0 || tr.Start > 1000*time.Millisecond {
		t.Errorf("GOMAXPROCS %d, trace starts at %v", tr.GOMAXPROCS, tr.Start)
	}
}

const cpuBound = `package main

import (
	"fmt"
	"runtime"
	"sync"
)

func work(n int) int {
	x := 0
	for i := 0; i < n; i++ {
		x = x*31 + i
	}
	return x
}

func main() {
	fmt.Println("procs", runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := 0; i < runtime.GOMAXPROCS(0)+3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = work(60_000_000)
		}()
	}
	wg.Wait()
}
`

// TestRealTraceCPUBound: more busy goroutines than GOMAXPROCS queue for
// the processors: they are runnable for a while, and never more than
// GOMAXPROCS of them run at once.
func TestRealTraceCPUBound(t *testing.T) {
	_, ts := newRealServer(t, nil)
	evs := runWith(t, ts.URL, map[string]any{"code": uniq(cpuBound), "trace": true}, 2*time.Minute)
	ev, ok := find(evs, api.KindTrace)
	if !ok || ev.Trace == nil {
		t.Fatalf("events %s, trace %+v", kinds(evs), ev.Event)
	}
	tr := ev.Trace
	if want := fmt.Sprintf("procs %d\n", tr.GOMAXPROCS); !strings.HasPrefix(output(evs, api.KindStdout), want) {
		t.Errorf("output %q, trace says GOMAXPROCS %d", output(evs, api.KindStdout), tr.GOMAXPROCS)
	}
	if len(tr.Lanes) != tr.GOMAXPROCS+4 {
		t.Fatalf("%d lanes for GOMAXPROCS %d: %+v", len(tr.Lanes), tr.GOMAXPROCS, tr.Lanes)
	}
	var runnable float64
	type edge struct {
		at    float64
		delta int
	}
	var edges []edge
	for _, g := range tr.Lanes {
		for _, iv := range g.Intervals {
			switch iv.State {
			case "runnable":
				runnable += iv.End - iv.Start
			case "running":
				edges = append(edges, edge{iv.Start, 1}, edge{iv.End, -1})
			}
		}
	}
	if runnable < 20 {
		t.Errorf("%d goroutines on %d processors were runnable %vms in all, want queueing", len(tr.Lanes), tr.GOMAXPROCS, runnable)
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return a.delta - b.delta // ends before starts at the same time
	})
	running, most := 0, 0
	for _, e := range edges {
		running += e.delta
		if running > tr.GOMAXPROCS {
			t.Logf("at %v: %d running", e.at, running)
		}
		most = max(most, running)
	}
	if most > tr.GOMAXPROCS {
		t.Errorf("%d goroutines running at once on %d processors", most, tr.GOMAXPROCS)
	}
}

// TestRealTraceNotTraceable: a test program runs as usual; its trace event
// says why it has no lanes.
func TestRealTraceNotTraceable(t *testing.T) {
	_, ts := newRealServer(t, nil)
	evs := runWith(t, ts.URL, map[string]any{"code": uniq("package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n"), "trace": true}, 2*time.Minute)
	ev, ok := find(evs, api.KindTrace)
	exit, _ := find(evs, api.KindExit)
	if !ok || ev.Trace != nil || !strings.Contains(ev.Message, "test program") || exit.Code != 0 {
		t.Errorf("events %s: trace %+v exit %+v", kinds(evs), ev.Event, exit.Event)
	}
}

// BenchmarkRealTraceOverhead runs the three-task program through the real
// sandbox, traced and untraced by turns, and reports each's mean wall time
// (the exit event's, the program's own) and end-to-end time (request to
// the last event: the trace's reading and summary included), and the
// overheads in percent. A figure, not a pass/fail:
//
//	go test ./playground -run '^$' -bench RealTraceOverhead -benchtime 5x
func BenchmarkRealTraceOverhead(b *testing.B) {
	_, ts := newRealServer(b, nil)
	src := uniq(threeTasks)
	one := func(trace bool) (wall, total time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		start := time.Now()
		resp := postJSON(b, ctx, ts.URL+"/api/run", map[string]any{"code": src, "trace": trace})
		evs := readEvents(b, resp.Body, nil)
		total = time.Since(start)
		exit, ok := find(evs, api.KindExit)
		if _, traced := find(evs, api.KindTrace); !ok || exit.Code != 0 || traced != trace {
			b.Fatalf("events %s, exit %+v", kinds(evs), exit.Event)
		}
		return exit.Wall, total
	}
	one(false) // the build, cached for both
	one(true)
	var wall, total [2]time.Duration
	b.ResetTimer()
	for range b.N {
		for i, trace := range []bool{false, true} {
			w, t := one(trace)
			wall[i] += w
			total[i] += t
		}
	}
	n := float64(b.N)
	b.ReportMetric(wall[0].Seconds()*1000/n, "untraced-wall-ms")
	b.ReportMetric(wall[1].Seconds()*1000/n, "traced-wall-ms")
	b.ReportMetric(100*(wall[1].Seconds()/wall[0].Seconds()-1), "wall-overhead-%")
	b.ReportMetric(100*(total[1].Seconds()/total[0].Seconds()-1), "end-to-end-overhead-%")
}

// TestWithTraceKeepsRace: a traced race run is still built with -race
// (the copy keeps the mode, so its cache key differs from the plain
// traced build's).
func TestWithTraceKeepsRace(t *testing.T) {
	p, err := ParseProgram([]byte("package main\n\nfunc main() {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p.Race = true
	q, err := withTrace(p)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Race {
		t.Fatal("withTrace dropped Race")
	}
	plain := *q
	plain.Race = false
	if q.Key("tc") == plain.Key("tc") {
		t.Error("a traced race build and a traced plain build share a cache key")
	}
}
