package playground

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"playdoc/playground/api"
)

const helloSnippet = `package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("hello from the playground")
	time.Sleep(10 * time.Millisecond)
	fmt.Println("bye")
}
`

// firstOutput posts code to /api/run and returns the time from the
// request to the first stdout event, then drains the stream.
func firstOutput(b *testing.B, base, code string) (time.Duration, []timedEvent) {
	b.Helper()
	start := time.Now()
	var first time.Duration
	evs := readEvents(b, startRun(b, context.Background(), base, code).Body, func(e timedEvent) {
		if e.Kind == api.KindStdout && first == 0 {
			first = e.at.Sub(start)
		}
	})
	if first == 0 {
		b.Fatalf("no output: %s", kinds(evs))
	}
	return first, evs
}

// BenchmarkFirstOutputCached: an unedited snippet (its binary cached).
func BenchmarkFirstOutputCached(b *testing.B) {
	_, ts := newRealServer(b, nil)
	firstOutput(b, ts.URL, helloSnippet) // fill the cache
	var total time.Duration
	b.ResetTimer()
	for b.Loop() {
		d, _ := firstOutput(b, ts.URL, helloSnippet)
		total += d
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/first-output")
}

// BenchmarkFirstOutputEdited compares an edited snippet (compiled in the
// sandbox, then run) with a bare `go build && ./prog` of the same source
// on the host, alternating the two in one run.
func BenchmarkFirstOutputEdited(b *testing.B) {
	_, ts := newRealServer(b, nil)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module bare\n\ngo 1.26\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	var ours, bare time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		code := helloSnippet + fmt.Sprintf("\n// edit %d %s\n", i, newID())
		d, _ := firstOutput(b, ts.URL, code)
		ours += d
		bare += bareBuildRun(b, dir, code)
	}
	n := float64(b.N)
	b.ReportMetric(float64(ours.Microseconds())/1000/n, "ms/first-output")
	b.ReportMetric(float64(bare.Microseconds())/1000/n, "ms/bare-build+run")
	b.ReportMetric(float64(ours)/float64(bare), "x-bare")
}

// bareBuildRun times `go build && ./prog` on the host up to the first
// output line (the host's own warm build cache, the same build flags).
func bareBuildRun(b *testing.B, dir, code string) time.Duration {
	b.Helper()
	if err := os.WriteFile(filepath.Join(dir, "prog.go"), []byte(code), 0o644); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	args := append(append([]string{"build", "-o", "prog"}, buildFlags...), ".")
	build := exec.Command("go", args...)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("bare build: %v: %s", err, out)
	}
	run := exec.Command("./prog")
	run.Dir = dir
	stdout, err := run.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := run.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		b.Fatal("bare run: no output")
	}
	d := time.Since(start)
	for sc.Scan() {
	}
	_ = run.Wait()
	return d
}

// BenchmarkConcurrent50ThreeTasks: 50 clients at once each run the
// three-tasks-in-2-s snippet (cached); one iteration is one such wave.
func BenchmarkConcurrent50ThreeTasks(b *testing.B) {
	const clients = 50
	_, ts := newRealServer(b, func(c *Config) { c.Runners = clients })
	firstOutput(b, ts.URL, threeTasks) // cached from now on
	var (
		mu     sync.Mutex
		firsts []time.Duration
		peaks  []int64
		runs   int
	)
	start := time.Now()
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				d, evs := firstOutput(b, ts.URL, threeTasks)
				exit, ok := find(evs, api.KindExit)
				mu.Lock()
				defer mu.Unlock()
				if !ok || exit.Code != 0 {
					b.Errorf("run failed: %s", kinds(evs))
					return
				}
				firsts = append(firsts, d)
				peaks = append(peaks, exit.PeakMemKB)
				runs++
			})
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if len(firsts) == 0 {
		return
	}
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	sort.Slice(peaks, func(i, j int) bool { return peaks[i] < peaks[j] })
	pct := func(p float64) time.Duration { return firsts[min(len(firsts)-1, int(p*float64(len(firsts))))] }
	b.ReportMetric(float64(runs)/elapsed.Seconds(), "runs/s")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-first-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-first-ms")
	b.ReportMetric(float64(peaks[len(peaks)/2])/1024, "MB/program-peak-p50")
	b.ReportMetric(float64(peaks[len(peaks)-1])/1024, "MB/program-peak-max")
	if hwm, err := vmHWM(); err == nil {
		b.ReportMetric(float64(hwm)/1024, "MB/server-peak-rss")
	}
}

// vmHWM is this process's peak RSS in KiB (the server and the clients).
func vmHWM() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM")
}

// BenchmarkCompileWithVetSqlite: POST /compile with withVet=true of an
// edited program importing sqlite (compile, go vet, run). Without the
// warm-up's vet of the allowed packages, vet alone took ~37 s cold.
func BenchmarkCompileWithVetSqlite(b *testing.B) {
	_, ts := newRealServer(b, nil)
	src := "package main\n\nimport (\n\t\"database/sql\"\n\t\"fmt\"\n\n\t_ \"modernc.org/sqlite\"\n)\n\nfunc main() {\n\tdb, err := sql.Open(\"sqlite\", \":memory:\")\n\tfmt.Println(db != nil, err)\n}\n"
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.PostForm(ts.URL+"/compile", url.Values{"version": {"2"}, "withVet": {"true"}, "body": {uniq(src)}})
		if err != nil {
			b.Fatal(err)
		}
		var cr compileResponse
		err = json.NewDecoder(resp.Body).Decode(&cr)
		resp.Body.Close()
		if err != nil || cr.Errors != "" || !cr.VetOK || len(cr.Events) != 1 || cr.Events[0].Message != "true <nil>\n" {
			b.Fatalf("answer %+v %v", cr, err)
		}
	}
}
