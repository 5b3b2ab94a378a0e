package main

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestJudgedWall(t *testing.T) {
	const ms = time.Millisecond
	quiet := runCost{wall: 10 * ms, cpu: 5 * ms}    // stretch 2
	loaded := runCost{wall: 400 * ms, cpu: 20 * ms} // stretch 20
	for _, c := range []struct {
		name   string
		run    runCost
		empty  runCost
		want   time.Duration
		judged time.Duration
	}{
		{"no duration: untouched", runCost{wall: 900 * ms}, loaded, 0, 900 * ms},
		{"early: never forgiven", runCost{wall: 400 * ms, cpu: 50 * ms}, loaded, 500 * ms, 400 * ms},
		{"late on a loaded machine: start-up and stretched CPU forgiven", runCost{wall: 2000 * ms, cpu: 50 * ms}, loaded, 500 * ms, 600 * ms},
		{"never below the expectation", runCost{wall: 700 * ms, cpu: 10 * ms}, loaded, 500 * ms, 500 * ms},
		{"sleeping too long on a quiet machine still fails", runCost{wall: 1600 * ms, cpu: 20 * ms}, quiet, 500 * ms, 1550 * ms},
		{"no CPU figure for the empty run: CPU counted once", runCost{wall: 1000 * ms, cpu: 100 * ms}, runCost{wall: 100 * ms}, 500 * ms, 800 * ms},
	} {
		if got := judgedWall(c.run, c.empty, c.want); got != c.judged {
			t.Errorf("%s: judgedWall(%v, %v, %v) = %v, want %v", c.name, c.run, c.empty, c.want, got, c.judged)
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
