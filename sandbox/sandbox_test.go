//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestIdentityAndCapabilities(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{}, "whoami")
	if o.ExitCode != 0 {
		t.Fatalf("whoami failed: %v", o)
	}
	got := lines(o.Stdout)
	want := map[string]string{
		"uid":        "65534 euid: 65534 gid: 65534",
		"groups":     "[] <nil>",
		"pid":        "1 ppid: 0",
		"hostname":   "sandbox",
		"CapInh":     "0000000000000000",
		"CapPrm":     "0000000000000000",
		"CapEff":     "0000000000000000",
		"CapBnd":     "0000000000000000",
		"CapAmb":     "0000000000000000",
		"NoNewPrivs": "1",
		"Seccomp":    "2",
		"interfaces": "lo/up|loopback|running <nil>",
		// The mount namespace alone would let it list its root; Landlock
		// grants only the paths it names.
		"root": "error: open /: permission denied",
	}
	t.Logf("host features: %v", host)
	if !host.Seccomp {
		want["Seccomp"] = "0"
	}
	if host.Landlock == 0 {
		// Without Landlock the strongest containment is the mount
		// namespace: the root is the sandbox's own tmpfs (checked by
		// TestHostFilesInvisible), so listing it may succeed.
		delete(want, "root")
		if r := got["root"]; strings.Contains(r, "etc") || strings.Contains(r, "home") {
			t.Errorf("root lists host folders: %q", r)
		}
	}
	// /proc/self/status lines are "Key: value" after our Fields join.
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if t.Failed() {
		t.Logf("%v", o)
	}
}

func TestEnvironmentIsEmpty(t *testing.T) {
	t.Setenv("PLAYDOC_TEST_SECRET", "hunter2")
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{}, "env")
	if strings.Contains(o.Stdout, "hunter2") {
		t.Fatalf("the parent's environment leaked: %v", o)
	}
	got := lines(o.Stdout)
	if got["environ"] != "[]" || got["/proc/self/environ"] != `"" <nil>` || got["/proc/1/environ"] != `"" <nil>` {
		t.Fatalf("environment not empty: %v", o)
	}
	o = run(t, sb, Spec{Binary: hostileBinary, Args: []string{"env"}, Env: []string{"A=1", "B=2"}})
	if got := lines(o.Stdout)["environ"]; got != `["A=1" "B=2"]` {
		t.Fatalf("Spec.Env not passed exactly: %v", o)
	}
}

func TestNoHostDescriptorsInherited(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	host := t.TempDir()
	o := run(t, sb, Spec{Binary: hostileBinary, Args: []string{"fds"},
		Binds: []Bind{{Host: host, Target: "/data"}}, Overlays: []Overlay{{Lower: host, Target: "/cache"}}})
	got := lines(o.Stdout)
	// 0-2 and the directory being listed, nothing else: no control socket,
	// status pipe or mount descriptor survives the exec.
	for k, v := range got {
		switch k {
		case "fd 0":
			if !strings.HasPrefix(v, "pipe:") {
				t.Errorf("%s: %s, want a pipe", k, v)
			}
		case "fd 1", "fd 2":
			if !strings.HasPrefix(v, "socket:") {
				t.Errorf("%s: %s, want the output socket", k, v)
			}
		default:
			// The listed directory and the Go runtime's own poller.
			if v != "/proc/1/fd <nil>" && v != "anon_inode:[eventpoll] <nil>" && v != "anon_inode:[eventfd] <nil>" {
				t.Errorf("%s: %s inherited", k, v)
			}
		}
	}
	if got["fd 0"] == "" || got["fd 3"] == "" {
		t.Errorf("descriptors: %v", o)
	}
}

func TestHostFilesInvisible(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	testBinary, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	source, err := filepath.Abs("sandbox.go")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		"/etc/hostname", "/etc/shadow", hostileBinary, testBinary,
		source, filepath.Dir(source), "/root", "/home", "/usr/bin/env", "/sys/kernel",
		"/proc/1/root/etc/shadow", "/dev/sda", "/dev/vda", "/dev/mem", "/dev/kmsg",
		"/proc/kmsg", "/proc/sys/kernel/hostname", "/proc/meminfo", "/proc/kallsyms", "/sys/fs/cgroup",
	}
	o := hostile(t, sb, Limits{}, "read", secrets...)
	got := lines(o.Stdout)
	for _, p := range secrets {
		if !strings.HasPrefix(got[p], "error:") {
			t.Errorf("read %s: %q, want an error", p, got[p])
		}
	}
	// What the sandbox is meant to see is readable.
	o = hostile(t, sb, Limits{}, "read", "/prog", "/dev/urandom", "/etc/hosts", "/etc/passwd", "/etc/group", "/proc/self/status")
	for k, v := range lines(o.Stdout) {
		if v != "ok" {
			t.Errorf("read %s inside: %s", k, v)
		}
	}
	if t.Failed() {
		t.Logf("%v", o)
	}
	expectHello(t, sb)
}

func TestWriteOutsideTmpFails(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	targets := []string{"/prog", "/etc/hosts", "/newfile", "/etc/new", "/proc/sys/kernel/hostname", "/dev/new", "/proc/1/comm"}
	o := hostile(t, sb, Limits{}, "write", append(targets, "/tmp/ok")...)
	got := lines(o.Stdout)
	for _, p := range targets {
		if !strings.HasPrefix(got[p], "error:") {
			t.Errorf("write %s: %q, want an error", p, got[p])
		}
	}
	if got["/tmp/ok"] != "ok" {
		t.Errorf("write /tmp/ok: %q", got["/tmp/ok"])
	}
	if t.Failed() {
		t.Logf("%v", o)
	}
}

func TestNetworkIsLoopbackOnly(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reached := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
			reached <- struct{}{}
		}
	}()
	addrs := []string{ln.Addr().String(), "1.1.1.1:53", "8.8.8.8:443", "[::1]:22"}
	// The host's own non-loopback addresses, if any.
	if ifAddrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifAddrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				addrs = append(addrs, net.JoinHostPort(ipn.IP.String(), "2024"))
			}
		}
	}
	o := hostile(t, sb, Limits{}, "dial", addrs...)
	got := lines(o.Stdout)
	for _, a := range addrs {
		if !strings.HasPrefix(got["dial "+a], "error:") {
			t.Errorf("dial %s from the sandbox: %q, want an error", a, got["dial "+a])
		}
	}
	select {
	case <-reached:
		t.Error("the host's listener was reached from the sandbox")
	default:
	}
	o = hostile(t, sb, Limits{}, "dns")
	if !strings.HasPrefix(lines(o.Stdout)["lookup"], "error:") {
		t.Errorf("DNS lookup worked: %v", o)
	}
	o = hostile(t, sb, Limits{}, "selfserver")
	got = lines(o.Stdout)
	if got["body"] != "served inside" || got["listen localhost"] != "ok" {
		t.Errorf("a server on the sandbox's own loopback does not work: %v", o)
	}
}

func TestSocketFamiliesRefused(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{}, "raw")
	for k, v := range lines(o.Stdout) {
		if v != "error: operation not permitted" {
			t.Errorf("%s socket: %q, want EPERM", k, v)
		}
	}
	if len(lines(o.Stdout)) != 6 {
		t.Errorf("unexpected output: %v", o)
	}
	// The build profile needs no IP at all; a program may use its loopback.
	o = run(t, sb, Spec{Binary: hostileBinary, Args: []string{"dial", "127.0.0.1:1"}, SeccompProfile: ProfileBuild})
	if got := lines(o.Stdout)["dial 127.0.0.1:1"]; !strings.HasSuffix(got, "socket: operation not permitted") {
		t.Errorf("inet socket in a build: %q", got)
	}
	o = hostile(t, sb, Limits{}, "dial", "127.0.0.1:1")
	if got := lines(o.Stdout)["dial 127.0.0.1:1"]; !strings.HasSuffix(got, "connection refused") {
		t.Errorf("inet socket in a program: %q", got)
	}
}

func TestDangerousSyscallsRefused(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := hostile(t, sb, Limits{}, "syscalls")
	got := lines(o.Stdout)
	for _, name := range []string{
		"io_uring_setup", "bpf", "keyctl", "add_key", "perf_event_open", "userfaultfd",
		"personality", "chroot", "unshare", "setns", "reboot", "settimeofday", "acct",
		"open_by_handle_at", "process_vm_readv", "mount", "umount", "sethostname",
	} {
		if got[name] != "error: operation not permitted" {
			t.Errorf("%s: %q, want EPERM", name, got[name])
		}
	}
	if runtime.GOARCH == "amd64" {
		// The 32-bit entry point has other numbers and another seccomp
		// architecture: nothing may pass there. Where the host has no such
		// entry (probed outside the sandbox), the call never reaches the
		// kernel and the process dies by a signal: that is the containment.
		o = hostile(t, sb, Limits{}, "compat32")
		if host.IA32 {
			t.Logf("host has the ia32 entry (%s): expecting ENOSYS from the seccomp filter", host.IA32Outside)
			for _, name := range []string{"i386 personality", "i386 getpid"} {
				if got := lines(o.Stdout)[name]; got != "error: function not implemented" {
					t.Errorf("%s: %q, want ENOSYS", name, got)
				}
			}
		} else {
			t.Logf("host has no ia32 entry (%s): expecting the call never to reach the kernel", host.IA32Outside)
			if !faulted(o.ExitCode, o.Signal, o.Stderr) || strings.Contains(o.Stdout, "i386") {
				t.Errorf("compat32 on a host without the ia32 entry: %v, want death by SIGSEGV and no result", o)
			}
		}
	}
	o = hostile(t, sb, Limits{}, "ptrace")
	if got := lines(o.Stdout); got["start child"] != "ok" || got["attach"] != "error: operation not permitted" {
		t.Errorf("ptrace: %v", o)
	}
	o = hostile(t, sb, Limits{}, "setuid")
	if got := lines(o.Stdout); !strings.HasPrefix(got["setuid"], "error:") || !strings.HasPrefix(got["setgid"], "error:") {
		t.Errorf("setuid: %v", o)
	}
	o = hostile(t, sb, Limits{}, "newuser")
	got = lines(o.Stdout)
	if got["clone newuser"] != "error: fork/exec /prog: operation not permitted" ||
		got["unshare"] != "error: operation not permitted" ||
		got["clone3"] != "error: function not implemented" {
		t.Errorf("namespaces: %v", o)
	}
	expectHello(t, sb)
}

func TestKillingTheHostFails(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	// A host process: the hostile program's sleep mode, run directly (no
	// sleep(1) needed on the host).
	sleeper := exec.Command(hostileBinary, "sleep")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	// A neighbour: another run with the same uid.
	victim, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"sleep"}})
	if err != nil {
		t.Fatal(err)
	}
	go discard(victim.Output)
	o := hostile(t, sb, Limits{}, "kill", fmt.Sprint(sleeper.Process.Pid), fmt.Sprint(os.Getpid()), "1", fmt.Sprint(victim.Pid))
	if !strings.Contains(o.Stdout, "still here") {
		t.Errorf("unexpected: %v", o)
	}
	for _, k := range []string{"kill " + fmt.Sprint(sleeper.Process.Pid), "kill " + fmt.Sprint(os.Getpid())} {
		if v := lines(o.Stdout)[k]; v != "error: no such process" && v != "ok" {
			t.Errorf("%s: %q", k, v)
		}
	}
	if waitGone(sleeper.Process.Pid, 100*time.Millisecond) {
		t.Fatal("the host's sleeper was killed from the sandbox")
	}
	if waitGone(victim.Pid, 100*time.Millisecond) {
		t.Fatal("a concurrent run was killed from the sandbox")
	}
	victim.Kill()
	if r, _ := victim.Wait(); r.Reason != ReasonKilled {
		t.Errorf("the neighbour ended with %+v, want killed by us", r)
	}
	expectHello(t, sb)
}

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

func TestRunsCannotSeeEachOther(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	a, err := sb.Start(context.Background(), Spec{Binary: hostileBinary, Args: []string{"mark", "alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { a.Kill(); _, _ = a.Wait() }()
	buf, err := readUntil(a.Output, len("mark: ok\nready\n"))
	if err != nil || string(buf) != "mark: ok\nready\n" {
		t.Fatalf("first run: %q %v", buf, err)
	}
	o := hostile(t, sb, Limits{}, "ls", "/tmp", "/proc")
	got := lines(o.Stdout)
	if strings.Contains(got["/tmp"], "mark") {
		t.Errorf("second run sees the first's /tmp: %v", o)
	}
	for _, name := range strings.Fields(strings.TrimSuffix(got["/proc"], " <nil>")) {
		if name[0] >= '0' && name[0] <= '9' && name != "1" {
			t.Errorf("second run sees process %s: %v", name, o)
		}
	}
	o = hostile(t, sb, Limits{}, "read", fmt.Sprintf("/proc/%d/environ", a.Pid), "/tmp/mark-alpha")
	for k, v := range lines(o.Stdout) {
		if !strings.HasPrefix(v, "error:") {
			t.Errorf("second run reads %s: %s", k, v)
		}
	}
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

func TestBindsAndOverlays(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	host := t.TempDir() // 0700, owned by root: the sandbox's uid could not walk it
	ro := filepath.Join(host, "ro")
	rw := filepath.Join(host, "rw")
	lower := filepath.Join(host, "lower")
	for _, d := range []string{ro, rw, filepath.Join(lower, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(rw, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(ro, "file"), filepath.Join(lower, "sub", "cached")} {
		if err := os.WriteFile(f, []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A warm build cache belongs to the sandbox's uid (it was filled by
	// sandboxed builds); what belongs to root stays read-only even through
	// the overlay.
	if err := os.MkdirAll(filepath.Join(lower, "rootonly"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{lower, filepath.Join(lower, "sub"), filepath.Join(lower, "sub", "cached")} {
		if err := os.Chown(p, sandboxUID, sandboxUID); err != nil {
			t.Fatal(err)
		}
	}
	spec := Spec{
		Binary:   hostileBinary,
		Binds:    []Bind{{Host: ro, Target: "/src"}, {Host: rw, Target: "/work", Writable: true}},
		Overlays: []Overlay{{Lower: lower, Target: "/cache"}},
	}
	spec.Args = []string{"read", "/src/file", "/cache/sub/cached"}
	o := run(t, sb, spec)
	for k, v := range lines(o.Stdout) {
		if v != "ok" {
			t.Errorf("read %s: %s", k, v)
		}
	}
	spec.Args = []string{"write", "/src/new", "/src/file", "/work/out", "/cache/new", "/cache/sub/new", "/cache/sub/cached", "/cache/rootonly/x"}
	o = run(t, sb, spec)
	got := lines(o.Stdout)
	want := map[string]string{"/src/new": "error", "/src/file": "error", "/work/out": "ok", "/cache/new": "ok",
		"/cache/sub/new": "ok", "/cache/sub/cached": "ok", "/cache/rootonly/x": "error"}
	for k, v := range want {
		if !strings.HasPrefix(got[k], v) {
			t.Errorf("write %s: %q, want %s", k, got[k], v)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rw, "out")); err != nil || string(b) != "pwned" {
		t.Errorf("the writable bind did not reach the host: %q %v", b, err)
	}
	for _, p := range []string{filepath.Join(lower, "new"), filepath.Join(lower, "sub", "new")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("an overlay write reached the lower layer: %s", p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(lower, "sub", "cached")); string(b) != "data" {
		t.Errorf("the lower layer was modified: %q", b)
	}
	// The next run sees the pristine lower layer.
	spec.Args = []string{"ls", "/cache", "/cache/sub"}
	o = run(t, sb, spec)
	if got := lines(o.Stdout); got["/cache"] != "rootonly sub <nil>" || got["/cache/sub"] != "cached <nil>" {
		t.Errorf("overlay not thrown away: %v", o)
	}
	if t.Failed() {
		t.Logf("%v", o)
	}
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
