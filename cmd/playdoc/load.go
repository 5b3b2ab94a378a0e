package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"playdoc/playground"
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

// emptyProgram is run next to each snippet to measure what starting and
// ending any program costs on the machine at that moment.
const emptyProgram = "package main\n\nfunc main() {}\n"

// startOverhead returns the wall time of an empty program in the sandbox:
// the exec, runtime start-up and exit that every snippet's wall time
// includes, which grows with the machine's load.
func startOverhead(ctx context.Context, srv *playground.Server) (time.Duration, error) {
	var exit *playground.Event
	var failure string
	err := srv.Execute(ctx, emptyProgram, func(ev playground.Event) {
		switch ev.Kind {
		case playground.KindExit:
			exit = &ev
		case playground.KindCompileError, playground.KindError:
			failure = ev.Message
		}
	})
	switch {
	case err != nil:
		return 0, fmt.Errorf("empty program: %w", err)
	case failure != "":
		return 0, fmt.Errorf("empty program: %s", failure)
	case exit == nil:
		return 0, fmt.Errorf("empty program: no exit event")
	}
	return time.Duration(exit.WallMs * float64(time.Millisecond)), nil
}

// judgedWall is the wall time to compare with a snippet's duration=: a run
// that took longer than expected is forgiven the start-up overhead measured
// next to it (but never made to look shorter than expected), so that a
// loaded machine's slower exec does not count against the snippet while a
// run that sleeps too long still fails.
func judgedWall(wall, want, overhead time.Duration) time.Duration {
	if want <= 0 || wall <= want {
		return wall
	}
	return max(want, wall-overhead)
}
