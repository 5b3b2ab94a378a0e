//go:build linux

package sandbox

import (
	"context"
	"fmt"
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
