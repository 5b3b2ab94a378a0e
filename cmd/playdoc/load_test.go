package main

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestJudgedWall(t *testing.T) {
	const ms = time.Millisecond
	for _, c := range []struct {
		wall, want, overhead, judged time.Duration
	}{
		{wall: 900 * ms, want: 0, overhead: 300 * ms, judged: 900 * ms},         // no duration: untouched
		{wall: 400 * ms, want: 500 * ms, overhead: 300 * ms, judged: 400 * ms},  // early: never forgiven
		{wall: 1100 * ms, want: 500 * ms, overhead: 300 * ms, judged: 800 * ms}, // late: overhead forgiven
		{wall: 600 * ms, want: 500 * ms, overhead: 300 * ms, judged: 500 * ms},  // not below the expectation
		{wall: 2500 * ms, want: 500 * ms, overhead: 10 * ms, judged: 2490 * ms}, // sleeping too long still fails
	} {
		if got := judgedWall(c.wall, c.want, c.overhead); got != c.judged {
			t.Errorf("judgedWall(%v, %v, %v) = %v, want %v", c.wall, c.want, c.overhead, got, c.judged)
		}
	}
}

// TestCPUHogBurnsCPU checks that the hog really uses CPU (more than its
// sleep: it spins) and restores GOMAXPROCS.
func TestCPUHogBurnsCPU(t *testing.T) {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano())
	}
	procs := runtime.GOMAXPROCS(0)
	before := cpu()
	h := startCPUHog(2)
	if got := runtime.GOMAXPROCS(0); got != procs+2 {
		t.Errorf("GOMAXPROCS while hogging = %d, want %d", got, procs+2)
	}
	time.Sleep(500 * time.Millisecond)
	h.Stop()
	// Sleeping alone uses next to no CPU; two spinning threads use a good
	// part of the 500 ms even on a machine so loaded (load 25 on 2 cores)
	// that they get a tenth of a core between them.
	if used := cpu() - before; used < 20*time.Millisecond {
		t.Errorf("the hog used %v of CPU in 500 ms, want at least 20ms", used)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS after Stop = %d, want %d", got, procs)
	}
}
