//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestForkBombContained(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	// No wall limit judges this: the bomb runs until PID 1 reports the
	// refused fork (on an emulated VM that takes many seconds), then we
	// end it.
	p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"forkbomb"},
		Limits: Limits{WallTime: 2 * time.Minute, CPUTime: 2 * time.Minute, Pids: 64}})
	if err != nil {
		t.Fatal(err)
	}
	var refused string
	stdout := stdoutReader(p.Output)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "fork failed") {
			refused = sc.Text()
			break
		}
	}
	p.Kill()
	go io.Copy(io.Discard, stdout)
	r, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refused, "resource temporarily unavailable") {
		t.Errorf("the fork bomb was not refused: %q, %+v", refused, r)
	}
	if r.Reason != ReasonKilled {
		t.Errorf("reason %q, want killed: %+v", r.Reason, r)
	}
	expectHello(t, sb)
}

func TestMemoryBombContained(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	const limit = 64 << 20
	// Time and CPU limits far above what touching 64 MiB takes, even on a
	// loaded machine, so that memory is what runs out first.
	o := hostile(t, sb, Limits{Memory: limit, WallTime: time.Minute, CPUTime: time.Minute}, "memory")
	if o.Reason != ReasonOOM || o.Signal != "killed" || strings.Contains(o.Stdout, "not contained") {
		t.Errorf("memory bomb: %v", o)
	}
	if o.PeakMemory <= 0 || o.PeakMemory > limit+1<<20 {
		t.Errorf("peak memory %d, limit %d", o.PeakMemory, limit)
	}
	expectHello(t, sb)
}

func TestDiskFillContained(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{TmpSize: 8 << 20}, "fill", "/tmp")
	got := lines(o.Stdout)
	if !strings.Contains(got["write"]+got["create"], "no space left on device") {
		t.Errorf("filling /tmp: %v", o)
	}
	o = hostile(t, sb, Limits{FileSize: 2 << 20}, "bigfile", "/tmp/big")
	got = lines(o.Stdout)
	if !strings.Contains(got["write"], "file too large") || !strings.Contains(o.Stdout, "wrote 2097152 bytes") {
		t.Errorf("a file beyond RLIMIT_FSIZE: %v", o)
	}
	// The next run starts with an empty /tmp.
	o = hostile(t, sb, Limits{}, "ls", "/tmp")
	if lines(o.Stdout)["/tmp"] != " <nil>" {
		t.Errorf("/tmp not fresh: %v", o)
	}
	expectHello(t, sb)
}

func TestOutputFlood(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	// Wall and CPU time enough for 100 MiB through a pipe on a slow
	// machine (an emulated VM moves ~5 MB/s): the test kills the flood.
	limits := Limits{WallTime: 5 * time.Minute, CPUTime: 5 * time.Minute}
	p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"flood"}, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for n < 100<<20 {
		c, err := p.Output.Next()
		if err != nil {
			t.Fatalf("read %d bytes of the flood: %v", n, err)
		}
		n += len(c.Data)
	}
	p.Kill()
	done := make(chan Result)
	go func() { r, _ := p.Wait(); done <- r }()
	select {
	case r := <-done:
		if r.Reason != ReasonKilled {
			t.Errorf("reason %q, want killed", r.Reason)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Wait hangs after Kill during a flood")
	}
	// Nobody reads at all: Kill and Wait must still end it.
	p, err = sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"flood"}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	p.Kill()
	go func() { r, _ := p.Wait(); done <- r }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Wait hangs after Kill of an unread flood")
	}
	expectHello(t, sb)
}

func TestWallTimeout(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{WallTime: time.Second}, "busy")
	if o.Reason != ReasonTimeout || o.Signal != "killed" {
		t.Errorf("busy loop: %v", o)
	}
	if o.Wall < time.Second || o.Wall > 5*time.Second {
		t.Errorf("wall %v for a 1s limit", o.Wall)
	}
	expectHello(t, sb)
}

func TestCPULimit(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	// A generous wall limit: on a loaded machine 1 s of CPU takes a while.
	o := hostile(t, sb, Limits{CPUTime: time.Second, WallTime: 30 * time.Second}, "busy")
	if o.Reason != ReasonCPU {
		t.Errorf("busy loop with a 1s CPU limit: %v", o)
	}
	// RLIMIT_CPU counts the init's start-up too (tens of ms when the test
	// binary is the init), Result.CPU only the program's; and the kernel
	// checks the limit on tick-sampled times.
	if o.CPU < 700*time.Millisecond {
		t.Errorf("cpu %v for a 1s CPU limit", o.CPU)
	}
	expectHello(t, sb)
}

func TestManyGoroutinesWork(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{}, "goroutines")
	if o.ExitCode != 0 || lines(o.Stdout)["goroutines done"] != "10000" {
		t.Errorf("10k goroutines: %v", o)
	}
}

func TestThreadsBounded(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{Pids: 64}, "threads")
	if o.ExitCode == 0 || strings.Contains(o.Stdout, "not contained") {
		t.Errorf("threads were not bounded: %v", o)
	}
	if !strings.Contains(o.Stderr, "failed to create new OS thread") {
		t.Errorf("no clear error: %v", o)
	}
	expectHello(t, sb)
}

// TestQuitBeforeKill: with QuitGrace, the wall timeout makes a Go program,
// PID 1 of its namespace, dump its goroutines (the runtime handles SIGQUIT,
// so the kernel delivers it) and exit; one that ignores SIGQUIT is killed
// once the grace has passed. Both runs end ReasonTimeout.
func TestQuitBeforeKill(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	limits := Limits{WallTime: time.Second, QuitGrace: 2 * time.Second}
	o := hostile(t, sb, limits, "sleep")
	switch {
	case !strings.HasPrefix(o.Stderr, "SIGQUIT: quit\n"):
		t.Errorf("no SIGQUIT before the kill: %v", o)
	case o.Reason == ReasonTimeout && o.Signal == "killed":
		// What a loaded machine guarantees: the quit came first. The
		// dump itself needs CPU that a starved program may not get
		// within the grace (seen at load average 30: 30 ms in 3 s).
		t.Logf("the grace ran out before the dump was written (a loaded machine?): %v", o)
	case o.Reason != ReasonTimeout || o.ExitCode != 2 || o.Signal != "":
		t.Errorf("sleeper with a quit grace: %v", o)
	case !strings.Contains(o.Stderr, "goroutine 1 ") || !strings.Contains(o.Stderr, "main.main()"):
		t.Errorf("no goroutine dump on stderr: %v", o)
	}

	o = hostile(t, sb, limits, "ignorequit")
	if o.Reason != ReasonTimeout || o.Signal != "killed" || strings.Contains(o.Stderr, "goroutine") {
		t.Errorf("sleeper ignoring SIGQUIT: %v", o)
	}
	// Killed once the grace has passed: not before, and not much after.
	if o.Wall < 3*time.Second || o.Wall > 8*time.Second {
		t.Errorf("wall %v for a 1s limit and a 2s grace", o.Wall)
	}
	expectHello(t, sb)
}
