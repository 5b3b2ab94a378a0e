//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
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
	for _, l := range leftBehind(t, sb) {
		t.Errorf("%s left behind", l)
	}
	if kids := initChildren(t, sb); len(kids) == 0 {
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

// leftBehind waits for the removals of finished runs' cgroups, then
// reports what the runs left: the run cgroups but those of the
// pre-started inits ready in the pool (each of which must hold its init
// and nothing else), and the processes of the sandbox's uid but those
// inits. The pool's keeper may be between starting an init and adding
// it, so what looks left is looked at again until it is gone, for up to
// 10 s.
func leftBehind(t *testing.T, sb *Sandbox) []string {
	t.Helper()
	sb.teardowns.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := leftOnce(t, sb)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func leftOnce(t *testing.T, sb *Sandbox) []string {
	var left []string
	pool := map[string]int{} // cgroup directory → the init's pid
	inits := map[string]bool{}
	if sb.warm != nil {
		sb.warm.mu.Lock()
		for _, it := range sb.warm.ready {
			inits[fmt.Sprint(it.proc.Pid)] = true
			if it.rc == nil && sb.cg != nil {
				left = append(left, fmt.Sprintf("pre-started init %d without a cgroup", it.proc.Pid))
				continue
			}
			if it.rc != nil {
				for _, d := range it.rc.dirs {
					pool[d] = it.proc.Pid
				}
			}
		}
		sb.warm.mu.Unlock()
	}
	for _, pid := range initChildren(t, sb) {
		if !inits[pid] {
			left = append(left, "process "+pid)
		}
	}
	if sb.cg == nil {
		return left
	}
	for _, parent := range sb.cg.parents {
		ents, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			dir := filepath.Join(parent, e.Name())
			pid, ok := pool[dir]
			if !ok {
				left = append(left, "cgroup "+dir)
				continue
			}
			if procs := readPids(filepath.Join(dir, "cgroup.procs")); len(procs) != 1 || procs[0] != pid {
				left = append(left, fmt.Sprintf("pre-started init %d's cgroup %s holding %v", pid, dir, procs))
			}
		}
	}
	return left
}

// TestBurstLeavesNothingBehind: runs started at once, some killed while
// they run, leave no cgroup, process, namespace descriptor or mount behind
// once they are reported ended (their namespaces once released), but the
// pool's pre-started inits (each in a cgroup of its own, its namespaces
// held), and nothing at all after Close.
func TestBurstLeavesNothingBehind(t *testing.T) {
	mountsBefore := countMounts(t)
	nsBefore := nsDescriptors(t)
	sb, err := New(context.Background(), Options{Warm: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			if i%4 == 3 {
				p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"sleep"}})
				if err != nil {
					errs <- err
					return
				}
				go discard(p.Output)
				p.Kill()
				r, err := p.Wait()
				if err == nil && r.Reason != ReasonKilled {
					err = fmt.Errorf("killed sleeper: %+v", r)
				}
				errs <- err
				return
			}
			o, err := runSpec(sb, Spec{Binary: hostileBinary, Args: []string{"hello"}})
			if err == nil && (o.ExitCode != 0 || o.Stdout != "hello from the sandbox\n") {
				err = fmt.Errorf("hello: %+v", o)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if sb.cg == nil {
		t.Log("no cgroups (not root, no delegated subtree): processes, descriptors and mounts only")
	}
	for _, l := range leftBehind(t, sb) {
		t.Errorf("%s left behind", l)
	}
	// A finished run's namespaces are released in the background once no
	// run is being started (releaseLater); the inits that live (the
	// pool's) keep theirs open. The pool's keeper may be starting an init
	// while we look (it opens the init's namespaces before the pool holds
	// it), so the descriptors are listed before the inits, and a check
	// that sees more is repeated for a while: a leak stays, a refill ends.
	sb.teardowns.Wait()
	var held []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		held = heldNamespaces(t, sb)
		if len(held) <= len(nsBefore) || time.Now().After(deadline) {
			break
		}
	}
	if len(held) > len(nsBefore) {
		t.Errorf("namespace descriptors open: %v, before: %v", held, nsBefore)
	}
	var parents map[string]string
	if sb.cg != nil {
		parents = maps.Clone(sb.cg.parents)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
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

// nsDescriptors lists this process's descriptors open on a namespace.
// heldNamespaces lists our namespace descriptors (nsDescriptors) that are
// not the namespaces of a live init of sb. The descriptors are listed
// first: an init whose namespaces were opened by then is listed after.
func heldNamespaces(t *testing.T, sb *Sandbox) []string {
	t.Helper()
	ds := nsDescriptors(t)
	live := map[string]bool{}
	for _, pid := range initChildren(t, sb) {
		for _, n := range []string{"mnt", "net"} {
			if l, err := os.Readlink(filepath.Join("/proc", pid, "ns", n)); err == nil {
				live[l] = true
			}
		}
	}
	var held []string
	for _, d := range ds {
		if _, l, _ := strings.Cut(d, " "); !live[l] {
			held = append(held, d)
		}
	}
	return held
}

func nsDescriptors(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.Contains(l, ":[") && !strings.HasPrefix(l, "socket:") &&
			!strings.HasPrefix(l, "pipe:") && !strings.HasPrefix(l, "anon_inode:") {
			out = append(out, e.Name()+" "+l)
		}
	}
	return out
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

// initChildren is sandboxChildren without sb's spawner, which runs as the
// sandbox's uid too (as root) while sb is open.
func initChildren(t *testing.T, sb *Sandbox) []string {
	t.Helper()
	kids := sandboxChildren(t)
	if sp := sb.spawner.Load(); sp != nil && sp.proc != nil {
		kids = slices.DeleteFunc(kids, func(pid string) bool { return pid == strconv.Itoa(sp.proc.Pid) })
	}
	return kids
}

// sandboxChildren lists our child processes that run as the sandbox's uid:
// the inits and programs, and (as root) the spawner.
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

// TestStuckSpawnerIsReplaced: a spawner that stops answering (here
// stopped by SIGSTOP) costs a run its patience, not forever: it is ended
// and a new one starts the init.
func TestStuckSpawnerIsReplaced(t *testing.T) {
	t.Parallel()
	sb := newSandboxWarm(t, -1) // every run asks the spawner
	expectHello(t, sb)
	stuck := sb.spawner.Load()
	stuck.mu.Lock()
	stuck.patience = 300 * time.Millisecond
	stuck.mu.Unlock()
	if err := stuck.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	expectHello(t, sb)
	if sb.spawner.Load() == stuck {
		t.Error("the stuck spawner was not replaced")
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("the run took %v: it cannot have waited for the stuck spawner", d)
	}
	// Ended, not left stopped: signal 0 fails once it is reaped.
	if err := stuck.proc.Signal(syscall.Signal(0)); err == nil {
		t.Error("the stuck spawner is still there")
	}
	expectHello(t, sb)
}

// TestPrestartedInitCgroup: a pre-started init waits in a cgroup of its
// own with the lowest CPU weight; the run that takes it gets the default
// weight and its own limits, also when they differ from the ones the
// cgroup was made with.
func TestPrestartedInitCgroup(t *testing.T) {
	t.Parallel()
	sb := newSandboxWarm(t, 1)
	if sb.cg == nil {
		t.Skip("no cgroups: nothing to pre-make (not root, no delegated subtree)")
	}
	weight := func(rc *runCgroup) string {
		t.Helper()
		path := filepath.Join(rc.dirs["unified"], "cpu.weight")
		if !sb.cg.v2 {
			path = filepath.Join(rc.dirs["cpu"], "cpu.shares")
		}
		b, err := readFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	idle, normal := v1SharesIdle, v1SharesRun
	if sb.cg.v2 {
		idle, normal = v2WeightIdle, v2WeightRun
	}
	for i, mem := range []int64{0, 96 << 20} {
		deadline := time.Now().Add(20 * time.Second)
		for sb.warm.size() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		sb.warm.mu.Lock()
		var ready *idleInit
		if len(sb.warm.ready) > 0 {
			ready = sb.warm.ready[0] // the one take hands out
		}
		sb.warm.mu.Unlock()
		if ready == nil {
			t.Fatal("no pre-started init after 20 s")
		}
		rc := ready.rc // the run takes it over
		if rc == nil {
			t.Fatal("a pre-started init without its cgroup")
		}
		if sb.cg.cpu {
			if w := weight(rc); w != idle {
				t.Errorf("pre-started init's CPU weight %s, want %s", w, idle)
			}
		}
		p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"sleep"}, Limits: Limits{Memory: mem}})
		if err != nil {
			t.Fatal(err)
		}
		go discard(p.Output)
		if p.cg != rc {
			t.Errorf("run %d did not take the pre-started init's cgroup", i)
		}
		if sb.cg.cpu {
			if w := weight(p.cg); w != normal {
				t.Errorf("run %d's CPU weight %s, want %s", i, w, normal)
			}
		}
		want := p.limits.Memory
		file := filepath.Join(p.cg.dirs["memory"], "memory.limit_in_bytes")
		if sb.cg.v2 {
			file = filepath.Join(p.cg.dirs["unified"], "memory.max")
		}
		if got := readInt(file); got != want {
			t.Errorf("run %d's memory limit %d, want %d", i, got, want)
		}
		p.Kill()
		if _, err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// A finished run's namespaces (the descriptors holding them) are released
// only once no run is being started, or after startsPatience; Close waits
// for them.
func TestReleaseWaitsForStarts(t *testing.T) {
	s := &Sandbox{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	end := s.beginStart()
	s.releaseLater(nil, []*os.File{w})
	_ = r.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("released while a run was being started: read %v", err)
	}
	end()
	_ = r.SetReadDeadline(time.Now().Add(startsPatience / 2))
	if _, err := r.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("not released once the starts ended: read %v", err)
	}
	s.teardowns.Wait()
}
