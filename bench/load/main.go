// Command load measures the playground under a crowd: N clients, each from
// its own loopback address (127.0.0.2, 127.0.0.3, …, so that the per-client
// rate limit of the server does not apply), send the same program to
// POST /api/run at once and read the NDJSON stream. It reports, per
// workload, the time from request to the first stdout line and to the exit
// event (p50, p99, max), how many were served, refused (503 + Retry-After)
// or failed, and the server's peak RSS when -pid is given.
//
// Beside each burst it runs the same number of bare, unsandboxed execs of
// the same program (compiled once on the host) at once, so that the ratio
// playground/bare is comparable across noisy machines.
//
//	go run ./bench/load -url http://127.0.0.1:8081 -clients 50
//	go run ./bench/load -url … -clients 500 -workloads hello
//	go run ./bench/load -url … -sustain 10s -clients 16 -workloads hello
//
// The server must be started separately, e.g. `playdoc playground --addr
// 127.0.0.1:8081` (as root for every sandbox layer).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"playdoc/bench/internal/loopback"
	"playdoc/playground/api"
)

// workloads are the programs of the table.
var workloads = map[string]string{
	"hello": `package main

import "fmt"

func main() { fmt.Println("hello, world") }
`,
	"three-task": `package main

import (
	"fmt"
	"sync"
	"time"
)

func task(name string, wg *sync.WaitGroup) {
	defer wg.Done()
	time.Sleep(2 * time.Second)
	fmt.Println("task", name, "done")
}

func main() {
	start := time.Now()
	fmt.Println("starting three tasks")
	var wg sync.WaitGroup
	for _, n := range []string{"A", "B", "C"} {
		wg.Add(1)
		go task(n, &wg)
	}
	wg.Wait()
	fmt.Printf("all done in %.1fs\n", time.Since(start).Seconds())
}
`,
}

// result is what one client saw.
type result struct {
	status      int
	firstStdout time.Duration // request → first stdout event (0: none)
	exit        time.Duration // request → exit event (0: none)
	err         error
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("url", "http://127.0.0.1:8081", "playground base URL")
	clients := flag.Int("clients", 50, "clients at once (each from its own 127.0.0.x address)")
	names := flag.String("workloads", "three-task,hello", "comma-separated: "+strings.Join(slices.Sorted(maps.Keys(workloads)), ", "))
	rounds := flag.Int("rounds", 3, "bursts per workload (the first warms the binary cache and is not counted)")
	sustain := flag.Duration("sustain", 0, "instead of bursts: keep -clients requests in flight for this long and report runs/s")
	bare := flag.Bool("bare", true, "also run the same number of bare execs of the program, for the ratio")
	pid := flag.Int("pid", 0, "the server's pid: report its peak RSS (VmHWM) at the end")
	pause := flag.Duration("pause", 0, "quiet time before each burst after the first (and between the bare bursts): 0 sends them back to back; a few seconds let the server refill its pre-started sandboxes, as between the bursts of real traffic")
	flag.Parse()
	ctx := context.Background()

	for _, name := range strings.Split(*names, ",") {
		code, ok := workloads[name]
		if !ok {
			return fmt.Errorf("unknown workload %q", name)
		}
		if *sustain > 0 {
			n, errs, d := sustained(ctx, *url, code, *clients, *sustain)
			fmt.Printf("%-10s sustained %d clients for %v: %d runs, %.1f runs/s, %d errors\n", name, *clients, d.Round(time.Millisecond), n, float64(n)/d.Seconds(), errs)
			continue
		}
		var all []result
		for r := range *rounds {
			if r > 0 {
				time.Sleep(*pause)
			}
			res := burst(ctx, *url, code, *clients)
			if r > 0 || *rounds == 1 {
				all = append(all, res...)
			}
		}
		report(name+" playground", all)
		if *bare {
			bres, err := bareBurst(ctx, code, *clients, max(*rounds-1, 1), *pause)
			if err != nil {
				return err
			}
			report(name+" bare exec", bres)
		}
	}
	if *pid > 0 {
		// The peak RSS of a wrapping shell or of `go run` would be
		// reported as the server's: check what the pid runs.
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", *pid))
		if err != nil {
			return fmt.Errorf("server peak RSS: %w", err)
		}
		if args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00"); !slices.Contains(args, "playground") || !strings.Contains(args[0], "playdoc") {
			return fmt.Errorf("server peak RSS: pid %d runs %q, not playdoc playground", *pid, strings.Join(args, " "))
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid))
		if err != nil {
			return fmt.Errorf("server peak RSS: %w", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM:") {
				fmt.Println("server peak RSS:", strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")))
			}
		}
	}
	return nil
}

// burst sends n requests at once and waits for every stream to end.
func burst(ctx context.Context, base, code string, n int) []result {
	body, _ := json.Marshal(map[string]string{"code": code})
	res := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		c := loopback.Client(i, 0)
		wg.Go(func() {
			<-start
			res[i] = one(ctx, c, base, body)
		})
	}
	close(start)
	wg.Wait()
	return res
}

// one runs one request and times its events.
func one(ctx context.Context, c *http.Client, base string, body []byte) result {
	var r result
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/run", bytes.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	r.status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			r.err = errors.New("503 without Retry-After")
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return r
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			r.err = fmt.Errorf("bad event %q: %w", sc.Bytes(), err)
			return r
		}
		switch ev.Kind {
		case api.KindStdout:
			if r.firstStdout == 0 {
				r.firstStdout = time.Since(t0)
			}
		case api.KindExit:
			r.exit = time.Since(t0)
			if ev.Reason != api.ReasonNone {
				r.err = fmt.Errorf("exit reason %q: %s", ev.Reason, ev.Message)
			}
			return r
		case api.KindError, api.KindCompileError:
			r.err = fmt.Errorf("%s: %s", ev.Kind, ev.Message)
			return r
		}
	}
	r.err = fmt.Errorf("stream ended without exit: %v", sc.Err())
	return r
}

// sustained keeps n requests in flight for d and counts finished runs.
func sustained(ctx context.Context, base, code string, n int, d time.Duration) (runs, errs int, took time.Duration) {
	body, _ := json.Marshal(map[string]string{"code": code})
	one(ctx, loopback.Client(0, 0), base, body) // warm the binary cache
	deadline := time.Now().Add(d)
	t0 := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		c := loopback.Client(i, 0)
		wg.Go(func() {
			for time.Now().Before(deadline) {
				r := one(ctx, c, base, body)
				mu.Lock()
				if r.err != nil || r.status != http.StatusOK {
					errs++
				} else {
					runs++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return runs, errs, time.Since(t0)
}

// bareBurst compiles code once and execs it n times at once, rounds times
// with pause before each but the first,
// timing the first line on stdout and the exit of each.
func bareBurst(ctx context.Context, code string, n, rounds int, pause time.Duration) ([]result, error) {
	dir, err := os.MkdirTemp("", "load-bare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	src, bin := filepath.Join(dir, "main.go"), filepath.Join(dir, "prog")
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, src).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v: %s", err, out)
	}
	var all []result
	for r := range rounds {
		if r > 0 {
			time.Sleep(pause)
		}
		res := make([]result, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				r := &res[i]
				t0 := time.Now()
				cmd := exec.CommandContext(ctx, bin)
				out, err := cmd.StdoutPipe()
				if err != nil {
					r.err = err
					return
				}
				if err := cmd.Start(); err != nil {
					r.err = err
					return
				}
				br := bufio.NewReader(out)
				if _, err := br.ReadString('\n'); err == nil {
					r.firstStdout = time.Since(t0)
				}
				_, _ = io.Copy(io.Discard, br)
				r.err = cmd.Wait()
				r.exit = time.Since(t0)
				r.status = http.StatusOK
			})
		}
		close(start)
		wg.Wait()
		all = append(all, res...)
	}
	return all, nil
}

// report prints one line of figures for a set of results.
func report(name string, rs []result) {
	var first, exit []time.Duration
	served, refused, failed := 0, 0, 0
	var firstErr error
	for _, r := range rs {
		switch {
		case r.err != nil:
			failed++
			if firstErr == nil {
				firstErr = r.err
			}
		case r.status == http.StatusServiceUnavailable:
			refused++
		case r.status == http.StatusOK:
			served++
			first = append(first, r.firstStdout)
			exit = append(exit, r.exit)
		default:
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("HTTP %d", r.status)
			}
		}
	}
	fmt.Printf("%-22s n=%-4d served=%-4d refused=%-4d failed=%-3d first stdout p50 %6s p99 %6s max %6s | exit p50 %6s p99 %6s max %6s\n",
		name, len(rs), served, refused, failed,
		ms(pct(first, 50)), ms(pct(first, 99)), ms(pct(first, 100)),
		ms(pct(exit, 50)), ms(pct(exit, 99)), ms(pct(exit, 100)))
	if firstErr != nil {
		fmt.Printf("%-22s first failure: %v\n", "", firstErr)
	}
}

// pct is the p-th percentile (nearest rank) of ds; 0 when empty.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }
