package playground

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"playdoc/playground/api"
	"playdoc/sandbox"
)

// TestRealGreedyRunsDoNotStarveSleepers runs, at once, programs that
// sleep and programs that take all the memory they can, on a server whose
// runs together may take 600 MiB (each program alone may take 256 MiB):
// the greedy ones together pass the total, and the kernel, enforcing it on
// the runs' parent cgroup, must end greedy runs, never the sleepers, which
// all finish with their output.
func TestRealGreedyRunsDoNotStarveSleepers(t *testing.T) {
	_, ts := newRealServer(t, func(c *Config) {
		c.RunTimeout = time.Minute
		c.RunTotals = sandbox.Totals{Memory: 600 << 20}
	})
	sleeper := uniq("package main\n\nimport (\n\t\"fmt\"\n\t\"time\"\n)\n\nfunc main() {\n\tfmt.Println(\"asleep\")\n\ttime.Sleep(3 * time.Second)\n\tfmt.Println(\"awake\")\n}\n")
	// A greedy program takes 240 MiB (each within its own 256 MiB limit)
	// and holds it for 5 s, so that the four overlap: together they pass
	// the 600 MiB total, and the kernel must end at least one.
	greedy := uniq("package main\n\nimport (\n\t\"fmt\"\n\t\"time\"\n)\n\nfunc main() {\n\tvar keep [][]byte\n\tfor i := 0; i < 60; i++ {\n\t\tb := make([]byte, 4<<20)\n\t\tfor j := range b {\n\t\t\tb[j] = 1\n\t\t}\n\t\tkeep = append(keep, b)\n\t}\n\tfmt.Println(\"took\", len(keep)*4, \"MiB\")\n\ttime.Sleep(5 * time.Second)\n\tfmt.Println(\"released\", len(keep))\n}\n")
	// Build (and run) both once, so that the runs below start together.
	runCode(t, ts.URL, sleeper)
	if evs := runCode(t, ts.URL, greedy); output(evs, api.KindStdout) != "took 240 MiB\nreleased 60\n" {
		t.Fatalf("greedy alone: %s %q", kinds(evs), output(evs, api.KindStdout))
	}
	var wg sync.WaitGroup
	results := make([][]timedEvent, 16)
	for i := range results {
		src := sleeper
		if i%4 == 0 {
			src = greedy // 4 × 240 MiB > 600 MiB
		}
		wg.Go(func() { results[i] = runCode(t, ts.URL, src) })
	}
	wg.Wait()
	greedyEnded := 0
	for i, evs := range results {
		exit, ok := find(evs, api.KindExit)
		if !ok {
			t.Fatalf("run %d: no exit: %s", i, kinds(evs))
		}
		if i%4 == 0 {
			switch {
			case exit.Reason == api.ReasonOOM:
				greedyEnded++
			case exit.Code != 0 || exit.Reason != api.ReasonNone || output(evs, api.KindStdout) != "took 240 MiB\nreleased 60\n":
				t.Errorf("greedy %d: neither ended by the memory limit nor finished: %+v, stdout %q", i, exit.Event, output(evs, api.KindStdout))
			}
			continue
		}
		if exit.Code != 0 || exit.Reason != api.ReasonNone || output(evs, api.KindStdout) != "asleep\nawake\n" {
			t.Errorf("sleeper %d: %+v, stdout %q", i, exit.Event, output(evs, api.KindStdout))
		}
	}
	if greedyEnded == 0 {
		t.Errorf("no greedy run was ended although together they passed the total")
	}
	t.Logf("%d of 4 greedy runs ended by the total memory limit (oom), the others finished; 12 sleepers finished", greedyEnded)
}

func TestRunBusyIs503WithRetryAfter(t *testing.T) {
	s, _, ts := newFakeServer(t, func(c *Config) { c.Runners, c.Queue = 1, 1 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	long := prog("sleep 5s")
	r1 := startRun(t, ctx, ts.URL, long)
	defer r1.Body.Close()
	r2 := startRun(t, ctx, ts.URL, long+"//2\n")
	defer r2.Body.Close()
	eventually(t, 5*time.Second, "one running, one queued", func() bool {
		r, q := s.counts()
		return r == 1 && q == 1
	})
	var h healthResponse
	getJSON(t, ts.URL+"/healthz", &h)
	if h.Running != 1 || h.Queued != 1 {
		t.Errorf("healthz = %+v", h)
	}
	resp := postJSON(t, ctx, ts.URL+"/api/run", map[string]string{"code": long})
	var e struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || e.Error == "" {
		t.Fatalf("third run: %s Retry-After=%q error=%q, want 503 with both", resp.Status, resp.Header.Get("Retry-After"), e.Error)
	}
	cancel()
	eventually(t, 5*time.Second, "runs to end", func() bool {
		r, q := s.counts()
		return r == 0 && q == 0
	})
}

func TestStopWhileQueued(t *testing.T) {
	s, fx, ts := newFakeServer(t, func(c *Config) { c.Runners, c.Queue = 1, 4 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := startRun(t, ctx, ts.URL, prog("sleep 10s"))
	defer first.Body.Close()
	eventually(t, 3*time.Second, "the first program to run", func() bool { return fx.Runs.Load() == 1 })
	var id string
	start := time.Now()
	evs := readEvents(t, startRun(t, ctx, ts.URL, prog("out stdout 0s never")).Body, func(e timedEvent) {
		if e.Kind == api.KindAccepted {
			id = e.ID
			r := postJSON(t, ctx, ts.URL+"/api/stop", map[string]string{"id": id})
			r.Body.Close()
			if r.StatusCode != 204 {
				t.Errorf("stop of a queued run: %s", r.Status)
			}
		}
	})
	if got := kinds(evs); got != "accepted,error" || !strings.Contains(evs[1].Message, "stopped by the client") {
		t.Errorf("queued run stopped: %s %q", got, evs[len(evs)-1].Message)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("stop of a queued run took %v", time.Since(start))
	}
	if fx.Runs.Load() != 1 {
		t.Errorf("%d programs ran, want only the first", fx.Runs.Load())
	}
	if _, q := s.counts(); q != 0 {
		t.Errorf("queued = %d after the stop", q)
	}
}
