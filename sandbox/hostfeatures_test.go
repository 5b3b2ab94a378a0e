//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	llsyscall "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// hostFeatures is what this host's kernel offers, probed outside the
// sandbox once per test binary. Kernel-dependent tests read it to assert the
// strongest containment the host allows and log which features they found:
// a missing feature changes what "contained" means (a 32-bit call that never
// reaches the kernel is contained, too), never whether a test runs.
type hostFeatures struct {
	// IA32 reports whether the 32-bit entry point (int $0x80 on amd64)
	// reaches the kernel: false on kernels built without
	// CONFIG_IA32_EMULATION or booted with ia32_emulation=0, where such a
	// call ends the process with SIGSEGV before any system call is made.
	IA32 bool
	// IA32Outside is what the probe saw outside the sandbox, for the log.
	IA32Outside string
	// Landlock is the kernel's Landlock ABI version, 0 without Landlock.
	Landlock int
	// Cgroup is the mounted cgroup hierarchy: "v2" (unified), "v1" or "none".
	Cgroup string
	// Controllers are the cgroup controllers the hierarchy offers, sorted:
	// v2's /sys/fs/cgroup/cgroup.controllers, or v1's enabled lines of
	// /proc/cgroups (cgroups(7)).
	Controllers []string
	// Seccomp reports whether the kernel has seccomp filters.
	Seccomp bool
	// SeccompActions are the filter return actions the kernel implements,
	// as /proc/sys/kernel/seccomp/actions_avail lists them (seccomp(2)),
	// e.g. kill_process errno trace user_notif log allow.
	SeccompActions []string
	// UserNS reports whether user namespaces can be created (max_user_namespaces > 0).
	UserNS bool
	// OpenTree reports whether open_tree(2) exists (Linux 5.2).
	OpenTree bool
}

func (h hostFeatures) String() string {
	return fmt.Sprintf("ia32=%v (%s) landlockABI=%d cgroup=%s controllers=%s seccomp=%v actions=%s userns=%v open_tree=%v",
		h.IA32, h.IA32Outside, h.Landlock, h.Cgroup, strings.Join(h.Controllers, ","),
		h.Seccomp, strings.Join(h.SeccompActions, ","), h.UserNS, h.OpenTree)
}

// probeHost probes the features with the hostile binary run directly,
// outside any sandbox.
func probeHost(hostile string) hostFeatures {
	var h hostFeatures
	h.IA32, h.IA32Outside = probeIA32(hostile)
	if v, err := llsyscall.LandlockGetABIVersion(); err == nil {
		h.Landlock = v
	}
	switch {
	case fileExists("/sys/fs/cgroup/cgroup.controllers"):
		h.Cgroup = "v2"
	case fileExists("/sys/fs/cgroup/memory") || fileExists("/sys/fs/cgroup/pids"):
		h.Cgroup = "v1"
	default:
		h.Cgroup = "none"
	}
	h.Controllers = cgroupControllers(h.Cgroup)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		h.Seccomp = strings.Contains(string(b), "\nSeccomp:")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_avail"); err == nil {
		h.SeccompActions = strings.Fields(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil {
		h.UserNS = strings.TrimSpace(string(b)) != "0"
	}
	// An invalid path: ENOSYS means no such call; anything else means it exists.
	_, err := unix.OpenTree(unix.AT_FDCWD, "", 0)
	h.OpenTree = !errors.Is(err, unix.ENOSYS)
	return h
}

// probeIA32 runs the hostile program's compat32 mode outside the sandbox: on
// a kernel with the 32-bit entry, getpid succeeds there; without it the
// process dies by a signal before printing anything.
func probeIA32(hostile string) (bool, string) {
	if runtime.GOARCH != "amd64" {
		return false, "not amd64"
	}
	cmd := exec.Command(hostile, "compat32")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		sig := ""
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			sig = ws.Signal().String()
		}
		if faulted(ee.ExitCode(), sig, stderr.String()) {
			return false, "int $0x80 faults (SIGSEGV) outside the sandbox"
		}
		return false, fmt.Sprintf("probe failed: %v: %s", err, clip(stderr.String()))
	}
	if err != nil {
		return false, fmt.Sprintf("probe failed: %v", err)
	}
	if lines(string(out))["i386 getpid"] == "ok" {
		return true, "i386 getpid works outside the sandbox"
	}
	return false, fmt.Sprintf("unexpected probe output %q", out)
}

// faulted reports whether a process ended by SIGSEGV: killed by the signal,
// or a Go program whose runtime caught it ("fatal error: fault", exit 2).
func faulted(exitCode int, signal, stderr string) bool {
	if signal == "segmentation fault" || signal == "SIGSEGV" {
		return true
	}
	return exitCode == 2 && strings.Contains(stderr, "signal SIGSEGV")
}

// cgroupControllers lists the controllers of the hierarchy version found
// (v2: the root's cgroup.controllers; v1: /proc/cgroups' enabled ones).
func cgroupControllers(version string) []string {
	var names []string
	switch version {
	case "v2":
		b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
		if err != nil {
			return nil
		}
		names = strings.Fields(string(b))
	case "v1":
		// Lines: subsys_name hierarchy num_cgroups enabled.
		b, err := os.ReadFile("/proc/cgroups")
		if err != nil {
			return nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 4 && !strings.HasPrefix(f[0], "#") && f[3] == "1" && f[1] != "0" {
				names = append(names, f[0])
			}
		}
	}
	slices.Sort(names)
	return names
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// wantCgroupEnv names the cgroup version ("v1", "v2") the sandbox must
// use on this host, where the test's runner knows which it offers.
const wantCgroupEnv = "PLAYDOC_SANDBOX_WANT_CGROUP"

// TestHostFeaturesProbe checks the probe against the sandbox's own view of
// the host and logs what it found, so a CI log tells which containment the
// kernel-dependent tests asserted.
func TestHostFeaturesProbe(t *testing.T) {
	t.Logf("host features: %v", host)
	sb := newSandbox(t)
	if got := sb.landlockABI; got != host.Landlock {
		t.Errorf("sandbox sees Landlock ABI %d, probe %d", got, host.Landlock)
	}
	if !host.UserNS {
		t.Errorf("user namespaces unavailable, yet New succeeded")
	}
	if sb.seccomp != host.Seccomp {
		t.Errorf("sandbox seccomp=%v, probe %v", sb.seccomp, host.Seccomp)
	}
	if host.Seccomp && !slices.Contains(host.SeccompActions, "errno") {
		t.Errorf("seccomp without the errno action (%v): the allow-list's ENOSYS cannot be returned", host.SeccompActions)
	}
	// Each active cgroup layer ("cgroup memory", "cgroup pids", "cgroup
	// cpu") stands on a controller the probe found.
	for _, l := range sb.Layers() {
		c, ok := strings.CutPrefix(l.Name, "cgroup ")
		if ok && l.Active && !slices.Contains(host.Controllers, c) {
			t.Errorf("sandbox layer %q is active, but the host lists no %s controller (%v)", l.Name, c, host.Controllers)
		}
	}
	v := sb.cgroupVersion()
	if v != "none" && v != host.Cgroup {
		t.Errorf("sandbox uses cgroup %s, host mounts %s", v, host.Cgroup)
	}
	// A host known to offer cgroups to this user (scripts/cgroup-v2-vm.sh)
	// says so; falling back to rlimits there is a failure.
	if want := os.Getenv(wantCgroupEnv); want != "" && v != want {
		t.Errorf("sandbox uses cgroup %s, $%s wants %s: %v", v, wantCgroupEnv, want, sb.Layers())
	}
}
