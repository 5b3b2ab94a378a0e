//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKillSleeper(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"sleep"}})
	if err != nil {
		t.Fatal(err)
	}
	buf, err := readUntil(p.Output, 9)
	if err != nil || string(buf) != "sleeping\n" {
		t.Fatalf("read %q: %v", buf, err)
	}
	start := time.Now()
	p.Kill()
	r, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if r.Reason != ReasonKilled || time.Since(start) > 3*time.Second {
		t.Errorf("kill: %+v after %v", r, time.Since(start))
	}
	if !waitGone(p.Pid, time.Second) {
		t.Error("PID 1 still exists")
	}

	// Cancelling the context kills too.
	ctx, cancel := context.WithCancel(context.Background())
	p, err = sb.Start(ctx, Spec{Binary: hostileBinary, Args: []string{"sleep"}})
	if err != nil {
		t.Fatal(err)
	}
	go discard(p.Output)
	cancel()
	r, _ = p.Wait()
	if r.Reason != ReasonKilled {
		t.Errorf("context cancelled: %+v", r)
	}
	expectHello(t, sb)
}

func TestStdin(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := run(t, sb, Spec{Binary: hostileBinary, Args: []string{"cat"}, Stdin: strings.NewReader("typed input\n")})
	if o.Stdout != "typed input\n" {
		t.Errorf("stdin: %v", o)
	}
	o = hostile(t, sb, Limits{}, "cat")
	if o.Stdout != "" || !strings.Contains(o.Stderr, "copied 0 bytes, err=<nil>") {
		t.Errorf("no stdin: %v", o)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{}, "exit", "3")
	if o.ExitCode != 3 || o.Reason != ReasonNone || o.Signal != "" {
		t.Errorf("exit 3: %v", o)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	bad := []Spec{
		{},
		{Binary: "/nonexistent/prog"},
		{Binary: hostileBinary, Binds: []Bind{{Host: "/usr", Target: "relative"}}},
		{Binary: hostileBinary, Binds: []Bind{{Host: "/usr", Target: "/proc/x"}}},
		{Binary: hostileBinary, Binds: []Bind{{Host: "/usr", Target: "/prog"}}},
		{Binary: hostileBinary, Overlays: []Overlay{{Lower: hostileBinary, Target: "/cache"}}},
	}
	for i, spec := range bad {
		if _, err := sb.Start(context.Background(), spec); !errors.Is(err, errSpec) {
			t.Errorf("spec %d: error %v, want an invalid spec error", i, err)
		}
	}
	_, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Path: "/nonexistent"})
	if err == nil || !strings.Contains(err.Error(), "exec /nonexistent: no such file or directory") {
		t.Errorf("exec of a missing path: %v", err)
	}
	expectHello(t, sb)
}

func TestNothingLeftBehind(t *testing.T) {
	mountsBefore := countMounts(t)
	sb, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		o := hostile(t, sb, Limits{WallTime: 500 * time.Millisecond}, "forkbomb")
		if o.Reason != ReasonTimeout {
			t.Fatalf("forkbomb: %v", o)
		}
	}
	// Without cgroups (a non-root user without a delegated subtree) only
	// processes and mounts can be left behind.
	var parents map[string]string
	if sb.cg != nil {
		parents = sb.cg.parents
	}
	for _, dir := range parents {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() {
				t.Errorf("cgroup %s left behind", filepath.Join(dir, e.Name()))
			}
		}
	}
	if kids := sandboxChildren(t); len(kids) == 0 {
		t.Error("no pre-started init found before Close")
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	// The pre-started inits are gone too: no child of ours runs as the
	// sandbox's uid.
	if kids := sandboxChildren(t); len(kids) > 0 {
		t.Errorf("processes left after Close: %v", kids)
	}
	for _, dir := range parents {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s left after Close", dir)
		}
	}
	if n := countMounts(t); n != mountsBefore {
		t.Errorf("host mounts: %d before, %d after", mountsBefore, n)
	}
}

func countMounts(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func TestOutputReadableAfterWait(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"hello"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, err := p.Wait()
	if err != nil || r.ExitCode != 0 {
		t.Fatalf("Wait: %+v %v", r, err)
	}
	// A Wait that waited for a reader would take the output's grace
	// period at least; a slow machine (an emulated VM) may take over a
	// second for the run itself.
	if d := time.Since(start); d >= outputGrace {
		t.Errorf("Wait took %v without a reader", d)
	}
	cs, err := readOutput(p.Output)
	if err != nil || len(cs) != 2 || string(cs[0].Data) != "hello from the sandbox\n" || cs[0].Stream != Stdout ||
		string(cs[1].Data) != "to stderr\n" || cs[1].Stream != Stderr {
		t.Errorf("output after Wait: %v %v", cs, err)
	}
}

// sandboxChildren lists our child processes that run as the sandbox's uid.
func sandboxChildren(t *testing.T) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		st := map[string][]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				st[k] = strings.Fields(v)
			}
		}
		if len(st["PPid"]) == 1 && st["PPid"][0] == fmt.Sprint(os.Getpid()) &&
			len(st["Uid"]) > 0 && st["Uid"][0] == fmt.Sprint(sandboxUID) {
			kids = append(kids, e.Name())
		}
	}
	return kids
}

func TestDeadPrestartedInitIsReplaced(t *testing.T) {
	t.Parallel()
	sb := newSandboxWarm(t, -1)
	// One init kept ready, killed while it waits (as an OOM killer might).
	it, err := sb.spawnInit()
	if err != nil {
		t.Fatal(err)
	}
	_ = it.proc.Kill()
	if _, err := it.proc.Wait(); err != nil {
		t.Fatal(err)
	}
	if it.alive() {
		t.Fatal("a dead init looks alive")
	}
	// A pool that starts nothing of its own (at most 0).
	sb.warm = newWarmPool(defaultWarmPolicy(0, 0), sb.spawnInit, (*idleInit).close, (*idleInit).alive, nil, sb.log)
	t.Cleanup(sb.warm.close)
	sb.warm.put(it)
	expectHello(t, sb)
	if sb.warm.size() != 0 {
		t.Error("the dead init was not taken out")
	}
	sb.warm = nil
}

// TestExtraOutput: Spec.ExtraOutput is the program's descriptor 3, a pipe
// whose reader sees what the program wrote and EOF once the tree is gone;
// without it, writing to descriptor 3 fails.
func TestExtraOutput(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- string(b)
	}()
	o := run(t, sb, Spec{Binary: hostileBinary, Args: []string{"fd3", "trace bytes"}, ExtraOutput: w})
	w.Close()
	l := lines(o.Stdout)
	if !strings.HasPrefix(l["fd 3"], "pipe:") || l["write fd 3"] != "ok" {
		t.Errorf("with ExtraOutput: %v", o)
	}
	select {
	case s := <-got:
		if s != "trace bytes" {
			t.Errorf("extra output read %q, want %q", s, "trace bytes")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no EOF on the extra output after the program ended")
	}
	o = hostile(t, sb, Limits{}, "fd3", "x")
	if !strings.HasPrefix(lines(o.Stdout)["write fd 3"], "error:") {
		t.Errorf("without ExtraOutput, descriptor 3 was writable: %v", o)
	}
}

// TestSpawnerDeathIsSurvived: when the spawner dies (killed, or by the OOM
// killer), the next start replaces it and runs go on, with the init
// program it ran.
func TestSpawnerDeathIsSurvived(t *testing.T) {
	t.Parallel()
	sb := newSandboxWarm(t, -1) // every run asks the spawner
	expectHello(t, sb)
	dead := sb.spawner.Load()
	if err := dead.proc.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := dead.proc.Wait(); err != nil {
		t.Fatal(err)
	}
	expectHello(t, sb)
	if sb.spawner.Load() == dead {
		t.Error("the dead spawner was not replaced")
	}
	expectHello(t, sb)
}
