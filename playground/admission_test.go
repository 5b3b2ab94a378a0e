package playground

import (
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
	greedy := uniq("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tvar keep [][]byte\n\tfor i := 0; i < 60; i++ {\n\t\tb := make([]byte, 4<<20)\n\t\tfor j := range b {\n\t\t\tb[j] = 1\n\t\t}\n\t\tkeep = append(keep, b)\n\t}\n\tfmt.Println(\"took\", len(keep)*4, \"MiB\")\n\tselect {}\n}\n")
	// Compile both once, so that the runs below start together.
	runCode(t, ts.URL, sleeper)
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
			if exit.Reason != api.ReasonTimeout {
				greedyEnded++
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
	t.Logf("%d of 4 greedy runs ended by the total limit; 12 sleepers finished", greedyEnded)
}
