package playground

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"playdoc/playground/api"
)

// TestRealHostileSuiteThroughTheAPI sends hostile programs through
// POST /api/run, as an attacker would, and checks that each ends with a
// clear event (an exit with its reason, or a compile error), that none
// reports an escape (each prints ESCAPED when its attack worked), that
// the server stays healthy and runs a normal program after each, and
// that nothing is left behind: no process of the sandbox's uid under
// this test, no run cgroup, no new mount, no workspace.
func TestRealHostileSuiteThroughTheAPI(t *testing.T) {
	s, ts := newRealServer(t, func(c *Config) { c.RunTimeout = 2 * time.Second })

	// A listener on the host's loopback: the sandbox must not reach it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	hostPort := ln.Addr().String()
	mountsBefore := countMounts(t)

	const anyExit = "any" // a clear exit of any reason
	cases := []struct {
		name, imports, body string
		want                string // exit reasons (a|b), anyExit, or api.KindCompileError
		stdout              string // a substring the output must hold
	}{
		{"fork bomb", `"syscall"`, `for { syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0) }`, anyExit, ""},
		{"exec bomb", `"os/exec"`, `for { _ = exec.Command("/prog").Start() }`, anyExit, ""},
		// Allocating 4 GiB: TestRealMemoryBombsEndInOOM, where the time
		// limit cannot come first on a loaded machine.
		{"fill /tmp", `"fmt"; "os"; "bytes"`, `f, err := os.Create("/tmp/fill"); if err != nil { fmt.Println("create:", err); return }
	chunk := bytes.Repeat([]byte("x"), 1<<20); n := 0
	for ; n < 1024; n++ { if _, err := f.Write(chunk); err != nil { fmt.Println("write error after", n, "MiB:", err); break } }
	if n >= 1024 { fmt.Println("ESCAPED: wrote 1 GiB") }`, anyExit, ""},
		{"huge sparse file", `"fmt"; "os"`, `f, err := os.Create("/tmp/huge"); if err != nil { fmt.Println(err); return }
	if err := f.Truncate(1 << 40); err == nil { fi, _ := f.Stat(); fmt.Println("ESCAPED: size", fi.Size()) } else { fmt.Println("truncate:", err) }`, anyExit, ""},
		{"print 100 MiB", `"os"`, `os.Stdout.Write(make([]byte, 100<<20)); println("ESCAPED")`, string(api.ReasonOutputLimit), ""},
		{"print 3 MiB in one call", `"fmt"`, `fmt.Print(strings.Repeat("x", 3<<20)); println("ESCAPED")`, string(api.ReasonOutputLimit), ""},
		{"print 100 MiB to stderr in one call", `"os"`, `os.Stderr.Write(make([]byte, 100<<20)); println("ESCAPED")`, string(api.ReasonOutputLimit), ""},
		// A flood of small writes meets the output limit, or on a loaded
		// machine (a starved program) the time limit first: both contain
		// it, and the 1 MiB check below holds either way.
		{"print 100 MiB in small writes", `"fmt"`, `for i := 0; i < 100<<10; i++ { fmt.Println(strings.Repeat("y", 1023)) }; println("ESCAPED")`, string(api.ReasonOutputLimit) + "|" + string(api.ReasonTimeout), ""},
		{"busy loop", ``, `for i := 0; ; i++ { _ = i }`, string(api.ReasonTimeout), ""},
		{"sleep forever", `"time"`, `time.Sleep(time.Hour)`, string(api.ReasonTimeout), ""},
		{"100k goroutines", `"fmt"; "time"`, `for i := 0; i < 100000; i++ { go time.Sleep(time.Hour) }; fmt.Println("spawned")`, anyExit, ""},
		{"read host files", `"fmt"; "os"`, `if b, err := os.ReadFile("/etc/passwd"); err == nil && strings.Contains(string(b), "root:") { fmt.Printf("ESCAPED: the host's /etc/passwd %q\n", b) }
	for _, p := range []string{"/etc/shadow", "/root", "/home", ` + strconv.Quote(realDataDir()) + `, ` + strconv.Quote(filepath.Join(realDataDir(), "gocache")) + `, ` + strconv.Quote(os.Args[0]) + `} {
		if b, err := os.ReadFile(p); err == nil { fmt.Println("ESCAPED: read", p, len(b)) } else { fmt.Println("blocked:", err) }
		if es, err := os.ReadDir(p); err == nil { fmt.Println("ESCAPED: listed", p, len(es)) }
	}
	if b, _ := os.ReadFile("/proc/1/environ"); len(b) > 0 { fmt.Printf("ESCAPED: environ %q\n", b) }
	if b, _ := os.ReadFile("/proc/1/cmdline"); strings.Contains(string(b), "playground") { fmt.Printf("ESCAPED: server cmdline %q\n", b) }
	fmt.Println("env", len(os.Environ()))`, "", "env 0"},
		{"host loopback listener", `"fmt"; "net"; "time"`, `c, err := net.DialTimeout("tcp", ` + strconv.Quote(hostPort) + `, time.Second); if err == nil { c.Close(); fmt.Println("ESCAPED: connected") } else { fmt.Println("blocked:", err) }`, "", "blocked:"},
		{"outside address and DNS", `"fmt"; "net"; "time"`, `if c, err := net.DialTimeout("tcp", "8.8.8.8:53", time.Second); err == nil { c.Close(); fmt.Println("ESCAPED: 8.8.8.8") } else { fmt.Println("blocked:", err) }
	if c, err := net.DialTimeout("udp", "8.8.8.8:53", time.Second); err == nil { if _, err := c.Write([]byte("x")); err == nil { fmt.Println("sent udp (no route expected)") }; c.Close() }
	if a, err := net.LookupHost("example.com"); err == nil { fmt.Println("ESCAPED: resolved", a) } else { fmt.Println("blocked:", err) }`, "", "blocked:"},
		{"raw and packet sockets", `"fmt"; "syscall"`, `for _, s := range [][3]int{{syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_ICMP}, {syscall.AF_PACKET, syscall.SOCK_RAW, 0x0300}, {syscall.AF_NETLINK, syscall.SOCK_RAW, 9}} {
		if fd, err := syscall.Socket(s[0], s[1], s[2]); err == nil { syscall.Close(fd); fmt.Println("ESCAPED: socket", s) } else { fmt.Println("blocked:", err) }
	}`, "", "blocked:"},
		{"ptrace mount setuid", `"fmt"; "syscall"`, `if err := syscall.PtraceAttach(1); err == nil { fmt.Println("ESCAPED: ptrace") } else { fmt.Println("blocked:", err) }
	if err := syscall.Mount("none", "/tmp", "tmpfs", 0, ""); err == nil { fmt.Println("ESCAPED: mount") } else { fmt.Println("blocked:", err) }
	if err := syscall.Setuid(0); err == nil && syscall.Getuid() == 0 { fmt.Println("ESCAPED: setuid") } else { fmt.Println("blocked:", err) }
	if err := syscall.Chroot("/tmp"); err == nil { fmt.Println("ESCAPED: chroot") }`, "", "blocked:"},
		{"kill -1", `"fmt"; "syscall"`, `fmt.Println("kill:", syscall.Kill(-1, syscall.SIGKILL), syscall.Kill(0, syscall.SIGKILL))`, anyExit, ""},
		{"write /prog", `"fmt"; "os"`, `if err := os.WriteFile("/prog", []byte("x"), 0o755); err == nil { fmt.Println("ESCAPED: wrote /prog") } else { fmt.Println("blocked:", err) }
	if err := os.WriteFile("/evil", []byte("x"), 0o644); err == nil { fmt.Println("ESCAPED: wrote /") }`, "", "blocked:"},
		{"exhaust fds", `"fmt"; "os"`, `n := 0; for ; n < 100000; n++ { if _, err := os.Open("/dev/null"); err != nil { fmt.Println("stopped at", n, err); break } }; if n > 1024 { fmt.Println("ESCAPED:", n, "fds") }`, "", "too many open files"},
		{"blocked system calls", `"fmt"; "syscall"`, `for _, nr := range []uintptr{321 /* bpf */, 298 /* perf_event_open */, 323 /* userfaultfd */, 425 /* io_uring_setup */, 250 /* keyctl */, 246 /* kexec_load */, 175 /* init_module */, 155 /* pivot_root */, 169 /* reboot */} {
		if _, _, e := syscall.Syscall6(nr, 0, 0, 0, 0, 0, 0); e == 0 { fmt.Println("ESCAPED: syscall", nr) } else { fmt.Println("blocked:", nr, e) }
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_UNSHARE, syscall.CLONE_NEWUSER|syscall.CLONE_NEWNS, 0, 0); e == 0 { fmt.Println("ESCAPED: unshare") }`, "", "blocked:"},
		{"unsafe write to a wild address", `"unsafe"`, `*(*int)(unsafe.Pointer(uintptr(0xdeadbeef))) = 1; println("ESCAPED")`, anyExit, ""},
		{"go:linkname into the runtime", `_ "unsafe"`, `println(nanotime() > 0)`, "linkname", ""},
		{"go:embed a host file", `_ "embed"`, `println(len(passwd))`, string(api.KindCompileError), ""},
		{"cgo", `"C"`, ``, string(api.KindCompileError), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "package main\n\nimport (" + strings.ReplaceAll(c.imports, ";", "\n") + "\n\t\"strings\"\n)\n\nvar _ = strings.Contains\n\n"
			switch c.name {
			case "go:linkname into the runtime":
				src += "//go:linkname nanotime runtime.nanotime\nfunc nanotime() int64\n\n"
			case "go:embed a host file":
				src += "//go:embed ../../../../../../etc/passwd\nvar passwd string\n\n"
			}
			src = uniq(src + "func main() {\n\t" + c.body + "\n}\n")
			start := time.Now()
			evs := runCode(t, ts.URL, src)
			if len(evs) == 0 {
				t.Fatal("no events")
			}
			last := evs[len(evs)-1].Event
			out := output(evs, api.KindStdout) + output(evs, api.KindStderr)
			switch c.want {
			case string(api.KindCompileError):
				if last.Kind != api.KindCompileError || last.Message == "" {
					t.Errorf("want a compile error, got %s: %+v", kinds(evs), last)
				}
			case "linkname":
				// Either the linker refuses it or it is harmless.
				if last.Kind != api.KindCompileError && last.Kind != api.KindExit {
					t.Errorf("got %s: %+v", kinds(evs), last)
				}
			default:
				if last.Kind != api.KindExit {
					t.Fatalf("want an exit, got %s: %+v", kinds(evs), last)
				}
				if c.want != anyExit && !slices.Contains(strings.Split(c.want, "|"), string(last.Reason)) {
					t.Errorf("exit %+v, want reason %q", last, c.want)
				}
				if last.Reason != api.ReasonNone && last.Message == "" {
					t.Errorf("exit %+v has no message for the user", last)
				}
			}
			if strings.Contains(out, "ESCAPED") {
				t.Errorf("escape:\n%s", out)
			}
			if len(out) > 1<<20 {
				t.Errorf("%d bytes of output passed the 1 MiB cap", len(out))
			}
			if c.stdout != "" && !strings.Contains(out, c.stdout) {
				t.Errorf("output lacks %q:\n%s", c.stdout, out)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v with a 2 s limit", d)
			}
			t.Logf("%s: %q", kinds(evs[len(evs)-1:]), firstLines(out, 3))
			var h healthResponse
			if resp := getJSON(t, ts.URL+"/healthz", &h); resp.StatusCode != 200 || !h.OK {
				t.Fatalf("healthz after it: %d %+v", resp.StatusCode, h)
			}
			if evs := runCode(t, ts.URL, "package main\n\nfunc main() { println(\"next\") }\n"); output(evs, api.KindStderr) != "next\n" {
				t.Fatalf("the next normal run: %s", kinds(evs))
			}
		})
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the host's loopback listener accepted %d connections from sandboxes", n)
	}
	// Nothing left behind.
	// The server keeps a few sandbox inits pre-started (idle, named
	// playdoc-sandbox-init) and, as uid 65534 too, the spawner of each
	// sandbox; anything else must be gone, and those too once the server
	// has shut down.
	programs := func() []string {
		var out []string
		for _, p := range sandboxProcs(t) {
			if f := strings.Fields(p); len(f) > 1 && f[1] == "playdoc-sandbox-spawner" {
				continue
			}
			if !strings.HasSuffix(strings.TrimSpace(p), " playdoc-sandbox-init") {
				out = append(out, p)
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(programs()) != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if left := programs(); len(left) != 0 {
		t.Errorf("processes of the sandbox left: %v", left)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(sandboxProcs(t)) != 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if left := sandboxProcs(t); len(left) != 0 {
			t.Errorf("processes of the sandbox left after Shutdown: %v", left)
		}
	}()
	if n := s.builder.Workspaces(); n != 0 {
		t.Errorf("%d workspaces left", n)
	}
	if ents, _ := os.ReadDir(s.builder.workRoot); len(ents) != 0 {
		t.Errorf("%d entries left in the work dir", len(ents))
	}
	// A finished run's cgroup is removed just after its exit event. The
	// pool's keeper may be refilling meanwhile (after the burst, for
	// seconds): a cgroup it has just made holds no init for a moment, so
	// each cgroup seen is followed on its own until it is gone or holds an
	// idle init; a leaked one stays as it is.
	left := runCgroups(t)
	for deadline := time.Now().Add(5 * time.Second); len(left) != 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		left = slices.DeleteFunc(left, func(dir string) bool {
			_, err := os.Stat(dir)
			return err != nil || holdsIdleInit(dir)
		})
	}
	if len(left) != 0 {
		t.Errorf("run cgroups left: %v", left)
	}
	if n := countMounts(t); n != mountsBefore {
		t.Errorf("%d mounts now, %d before", n, mountsBefore)
	}
}

func firstLines(s string, n int) string {
	ls := strings.SplitN(s, "\n", n+1)
	if len(ls) > n {
		ls = ls[:n]
	}
	for i, l := range ls {
		if len(l) > 200 {
			ls[i] = l[:200] + "…"
		}
	}
	return strings.Join(ls, " | ")
}

// sandboxProcs lists the processes of uid 65534 descended from this test.
func sandboxProcs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		uid, _ := procField(pid, "Uid:")
		if f := strings.Fields(uid); len(f) == 0 || f[0] != "65534" {
			continue
		}
		for p, i := pid, 0; p > 1 && i < 64; i++ {
			if p == self {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				out = append(out, e.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
				break
			}
			pp, _ := procField(p, "PPid:")
			p, _ = strconv.Atoi(strings.TrimSpace(pp))
		}
	}
	return out
}

func procField(pid int, field string) (string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// runCgroups lists the run cgroups that exist under this process's
// sandbox parents (<mount>/playdoc/<pid>-*/), but those that hold a
// pre-started init waiting for its run (one process, still the init) and
// nothing else.
func runCgroups(t *testing.T) []string {
	t.Helper()
	parents, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/*/playdoc/%d-*", os.Getpid()))
	more, _ := filepath.Glob(fmt.Sprintf("/sys/fs/cgroup/playdoc/%d-*", os.Getpid()))
	var left []string
	for _, p := range append(parents, more...) {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			dir := filepath.Join(p, e.Name())
			if e.IsDir() && !holdsIdleInit(dir) {
				left = append(left, dir)
			}
		}
	}
	return left
}

// holdsIdleInit reports whether the cgroup dir holds one process, a
// sandbox init that has not exec'd a program.
func holdsIdleInit(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return false
	}
	pids := strings.Fields(string(b))
	if len(pids) != 1 {
		return false
	}
	cmd, err := os.ReadFile("/proc/" + pids[0] + "/cmdline")
	return err == nil && string(cmd) == "playdoc-sandbox-init\x00"
}

func countMounts(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}
