//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartHello is one complete sandboxed run of a Go hello world:
// namespaces, root, cgroups, seccomp, Landlock, exec, output, Wait and
// cleanup. Compare with BenchmarkBareExec for the sandbox's overhead.
func BenchmarkStartHello(b *testing.B) {
	benchHello(b, newSandbox(b))
}

// BenchmarkStartHelloCold is the same without pre-started inits: every run
// pays for the init's namespaces and Go runtime start-up.
func BenchmarkStartHelloCold(b *testing.B) {
	benchHello(b, newSandboxWarm(b, -1))
}

// benchHello runs hello in sb b.N times.
func benchHello(b *testing.B, sb *Sandbox) {
	b.ReportAllocs()
	for b.Loop() {
		o := hostile(b, sb, Limits{}, "hello")
		if o.ExitCode != 0 || o.Stdout != "hello from the sandbox\n" {
			b.Fatalf("run: %v", o)
		}
	}
}

// BenchmarkBareExec runs the same binary without any sandbox.
func BenchmarkBareExec(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var out, errb bytes.Buffer
		cmd := exec.Command(hostileBinary, "hello")
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil || out.String() != "hello from the sandbox\n" {
			b.Fatalf("run: %v %q", err, out.String())
		}
	}
}

// BenchmarkStartHelloParallel measures runs per second with concurrent runs.
func BenchmarkStartHelloParallel(b *testing.B) {
	sb := newSandbox(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := hostile(b, sb, Limits{}, "hello")
			if o.ExitCode != 0 {
				b.Fatalf("run: %v", o)
			}
		}
	})
}

// BenchmarkOverhead interleaves a sandboxed and a bare run of the same hello
// world, so both see the same load on a shared machine, and reports their
// medians and the difference (the sandbox's cost per run), with pre-started
// inits (warm) and without (cold).
func BenchmarkOverhead(b *testing.B) {
	for _, c := range []struct {
		name string
		warm int
	}{{"warm", 0}, {"cold", -1}} {
		b.Run(c.name, func(b *testing.B) {
			overhead(b, newSandboxWarm(b, c.warm))
		})
	}
}

func overhead(b *testing.B, sb *Sandbox) {
	var boxed, bare, start []time.Duration
	for b.Loop() {
		t0 := time.Now()
		p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"hello"}})
		if err != nil {
			b.Fatal(err)
		}
		start = append(start, time.Since(t0))
		out, _ := readUntil(p.Output, len("hello from the sandbox\n"))
		go discard(p.Output)
		r, err := p.Wait()
		t1 := time.Now()
		if err != nil || r.ExitCode != 0 || string(out) != "hello from the sandbox\n" {
			b.Fatalf("run: %+v %v %q", r, err, out)
		}
		var bareOut bytes.Buffer
		cmd := exec.Command(hostileBinary, "hello")
		cmd.Stdout, cmd.Stderr = &bareOut, &bareOut
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		boxed = append(boxed, t1.Sub(t0))
		bare = append(bare, t2.Sub(t1))
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2]) / float64(time.Millisecond)
	}
	mb, mr := median(boxed), median(bare)
	b.ReportMetric(mb, "sandboxed-ms")
	b.ReportMetric(mr, "bare-ms")
	b.ReportMetric(mb-mr, "overhead-ms")
	b.ReportMetric(median(start), "start-ms") // Start's return: the program runs
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCPUPerRun splits the CPU time of one sandboxed hello world by
// process, per run: this process (the server's side: config, cgroups,
// output, wait), the spawner (cloning the init and its namespaces), the
// init before its exec (its Go runtime and the sandbox's setup, as it
// reports it) and the program with the teardown of the tree (the rest of
// the reaped children's time). CPU times move less with the load of a
// shared machine than wall times, but on a loaded VM they still grow
// (stolen time counts): a bare exec of the same program between the runs
// gives bare-ms/op and the ratio total/bare.
//
// The init is the init program (BuildInit, cached in the temporary folder),
// as in the playground, not this test binary re-executed.
func BenchmarkCPUPerRun(b *testing.B) {
	bin, err := BuildInit(context.Background(), InitBuild{Dir: filepath.Join(os.TempDir(), "playdoc-bench-init")})
	if err != nil {
		b.Fatal(err)
	}
	sb, err := New(context.Background(), Options{InitBinary: bin, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sb.Close() })
	sp := sb.spawner.Load()
	self0, kids0 := rusageCPU(b)
	spawner0 := procCPU(b, sp.proc.Pid)
	var initCPU, bareCPU time.Duration
	for b.Loop() {
		p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"hello"}})
		if err != nil {
			b.Fatal(err)
		}
		go discard(p.Output)
		r, err := p.Wait()
		if err != nil || r.ExitCode != 0 {
			b.Fatalf("run: %+v %v", r, err)
		}
		initCPU += p.initCPU
		// A bare exec of the same program between the runs: the same
		// load, for the ratio.
		_, k0 := rusageCPU(b)
		if out, err := exec.Command(hostileBinary, "hello").Output(); err != nil || string(out) != "hello from the sandbox\n" {
			b.Fatalf("bare run: %v %q", err, out)
		}
		_, k1 := rusageCPU(b)
		bareCPU += k1 - k0
	}
	// Let the keeper refill, so that its starts are counted for the runs
	// they replace.
	time.Sleep(200 * time.Millisecond)
	self1, kids1 := rusageCPU(b)
	spawner1 := procCPU(b, sp.proc.Pid)
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	// This process's time includes the bare execs' starts (a vfork each).
	kids := kids1 - kids0 - bareCPU
	total := self1 - self0 + spawner1 - spawner0 + kids
	b.ReportMetric(per(self1-self0), "server-ms/op")
	b.ReportMetric(per(spawner1-spawner0), "spawner-ms/op")
	b.ReportMetric(per(initCPU), "init-ms/op")
	b.ReportMetric(per(kids-initCPU), "prog-ms/op")
	b.ReportMetric(per(total), "total-ms/op")
	b.ReportMetric(per(bareCPU), "bare-ms/op")
	b.ReportMetric(float64(total)/float64(bareCPU), "total/bare")
}

// rusageCPU is the user+system time of this process and of its reaped
// children.
func rusageCPU(b *testing.B) (self, kids time.Duration) {
	var s, k syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &s); err != nil {
		b.Fatal(err)
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &k); err != nil {
		b.Fatal(err)
	}
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(s.Utime) + tv(s.Stime), tv(k.Utime) + tv(k.Stime)
}

// procCPU is the user+system time of process pid (/proc/PID/stat, in
// clock ticks of 10 ms).
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, data)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// BenchmarkSpawnCost prices the way an init is started, apart from
// everything else: the same Go hello world started from this process
// with os.StartProcess in the init's fresh namespaces, once as the
// spawner starts it (initAttr: a vfork, the ids mapped after the exec,
// see mapIDs) and once as Go would with UidMappings (a fork: the child
// waits for its maps, so Go cannot vfork it), and a bare exec for
// reference. parent-ms/op is this process's CPU per start, child-ms/op
// the reaped child's (its side of the clone, its exec and its run).
// Both namespaced starts map the same ids, so that they run alike.
func BenchmarkSpawnCost(b *testing.B) {
	uid, gid := os.Geteuid(), os.Getegid()
	forked := initAttr()
	forked.Cloneflags &^= syscall.CLONE_VFORK | syscall.CLONE_VM
	forked.UidMappings = []syscall.SysProcIDMap{{ContainerID: sandboxUID, HostID: uid, Size: 1}}
	forked.GidMappings = []syscall.SysProcIDMap{{ContainerID: sandboxUID, HostID: gid, Size: 1}}
	start := func(b *testing.B, sys *syscall.SysProcAttr, mapAfter bool) (parent, child time.Duration) {
		self0, kids0 := rusageCPU(b)
		p, err := os.StartProcess(hostileBinary, []string{hostileBinary, "hello"}, &os.ProcAttr{Sys: sys})
		if err != nil {
			b.Fatal(err)
		}
		if mapAfter {
			if err := mapIDs(p.Pid, uid, gid); err != nil {
				b.Fatal(err)
			}
		}
		st, err := p.Wait()
		if err != nil || !st.Success() {
			b.Fatalf("run: %v %v", st, err)
		}
		self1, kids1 := rusageCPU(b)
		return self1 - self0, kids1 - kids0
	}
	var cost [3][2]time.Duration
	for b.Loop() {
		for i, s := range []struct {
			sys      *syscall.SysProcAttr
			mapAfter bool
		}{{nil, false}, {initAttr(), true}, {forked, false}} {
			p, c := start(b, s.sys, s.mapAfter)
			cost[i][0] += p
			cost[i][1] += c
		}
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(time.Millisecond) }
	for i, name := range []string{"bare", "vfork", "fork"} {
		b.ReportMetric(per(cost[i][0]), name+"-parent-ms/op")
		b.ReportMetric(per(cost[i][1]), name+"-child-ms/op")
	}
	b.ReportMetric(0, "ns/op")
}
