package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"playdoc/playground"
	"playdoc/playground/api"
)

// cpuHog keeps every CPU busy so that `check -under-load` shows that the
// snippets' expectations survive a loaded machine.
type cpuHog struct {
	stop    atomic.Bool
	wg      sync.WaitGroup
	threads int
	procs   int // GOMAXPROCS before the hog started
}

// startCPUHog starts n spinning goroutines, each locked to its own OS
// thread, and raises GOMAXPROCS by n so that the hog competes with the
// sandboxed programs for the cores (like another process would) instead
// of starving the check's own goroutines of Ps. Stop ends it.
func startCPUHog(n int) *cpuHog {
	h := &cpuHog{threads: n, procs: runtime.GOMAXPROCS(0)}
	runtime.GOMAXPROCS(h.procs + n)
	for range n {
		h.wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			x := uint64(1)
			for !h.stop.Load() {
				for range 1 << 16 { // some work between flag checks
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			_ = x
		})
	}
	return h
}

// Stop ends the hog's goroutines and restores GOMAXPROCS.
func (h *cpuHog) Stop() {
	h.stop.Store(true)
	h.wg.Wait()
	runtime.GOMAXPROCS(h.procs)
}

// emptyProgram is run next to a late snippet to measure what starting,
// and computing, cost on the machine at that moment, one per language:
// Python's interpreter start-up (imports from disk) costs more than Go's.
var emptyPrograms = map[string]string{
	playground.LangGo:     "package main\n\nfunc main() {}\n",
	playground.LangPython: "pass\n",
}

// runCost is the wall and CPU time of one sandboxed run.
type runCost struct {
	wall, cpu time.Duration
}

// emptySamples is how many times measureEmpty runs the empty program: the
// load of a busy machine comes in bursts, and one quick sample taken
// between two of them would forgive too little.
const emptySamples = 2

// measureEmpty runs the empty program in the sandbox emptySamples times and
// returns the slowest start-up and the largest stretch seen. Its wall time
// is the exec, runtime start-up and exit that every snippet's wall time
// includes, and wall/cpu is how much a millisecond of CPU work is stretched
// by the machine's load just now.
func measureEmpty(ctx context.Context, srv *playground.Server, lang string) (runCost, error) {
	var worst runCost
	stretch := 1.0
	for range emptySamples {
		c, err := runEmpty(ctx, srv, lang)
		if err != nil {
			return runCost{}, err
		}
		worst.wall = max(worst.wall, c.wall)
		if c.cpu > 0 && c.wall > c.cpu {
			stretch = max(stretch, float64(c.wall)/float64(c.cpu))
		}
	}
	worst.cpu = time.Duration(float64(worst.wall) / stretch)
	return worst, nil
}

// runEmpty runs the empty program of lang once.
func runEmpty(ctx context.Context, srv *playground.Server, lang string) (runCost, error) {
	code, ok := emptyPrograms[lang]
	if !ok {
		return runCost{}, fmt.Errorf("no empty program for language %q", lang)
	}
	var exit *api.Event
	var failure string
	err := srv.ExecuteLang(ctx, lang, code, func(ev api.Event) {
		switch ev.Kind {
		case api.KindExit:
			exit = &ev
		case api.KindCompileError, api.KindError:
			failure = ev.Message
		}
	})
	switch {
	case err != nil:
		return runCost{}, fmt.Errorf("empty program: %w", err)
	case failure != "":
		return runCost{}, fmt.Errorf("empty program: %s", failure)
	case exit == nil:
		return runCost{}, fmt.Errorf("empty program: no exit event")
	}
	return costOf(*exit), nil
}

// costOf reads the wall and CPU time of an exit event.
func costOf(exit api.Event) runCost {
	return runCost{
		wall: exit.Wall,
		cpu:  exit.CPU,
	}
}

// judgedWall is the wall time to compare with a snippet's duration=. A run
// that took longer than want is forgiven what the machine's load explains:
// the empty program's wall time (start-up and exit), plus the snippet's
// own CPU time stretched as the empty program's was (its wall over its
// CPU). It is never made to look shorter than want, so an early run still
// fails, and a program that waits too long fails on a machine where its
// CPU work is quick.
func judgedWall(run, empty runCost, want time.Duration) time.Duration {
	if want <= 0 || run.wall <= want {
		return run.wall
	}
	stretch := 1.0
	if empty.cpu > 0 && empty.wall > empty.cpu {
		stretch = float64(empty.wall) / float64(empty.cpu)
	}
	forgive := empty.wall + time.Duration(float64(run.cpu)*stretch)
	return max(want, run.wall-forgive)
}
