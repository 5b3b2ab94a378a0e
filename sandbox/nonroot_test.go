//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nonRootHelperEnv names the hostile binary when the test binary runs as
// the unprivileged helper of TestWithoutRoot.
const nonRootHelperEnv = "PLAYDOC_SANDBOX_NONROOT_HOSTILE"

// nonRootReport is what the helper tells TestWithoutRoot.
type nonRootReport struct {
	Refused string
	Layers  []Layer
	Whoami  string
	Read    string
	Memory  outcome
	Err     string
}

// noUserNamespacesEnv makes the helper forbid new user namespaces (in the
// user namespace it was started in) before it tries New.
const noUserNamespacesEnv = "PLAYDOC_SANDBOX_NO_USERNS"

// nonRootHelper runs as uid 65534: it builds a sandbox without any
// privilege and runs hostile programs in it.
func nonRootHelper(hostile string) int {
	var rep nonRootReport
	if os.Getenv(noUserNamespacesEnv) != "" {
		if err := os.WriteFile("/proc/sys/user/max_user_namespaces", []byte("0"), 0); err != nil {
			rep.Err = err.Error()
			_ = json.NewEncoder(os.Stdout).Encode(rep)
			return 1
		}
	}
	sb, err := New(context.Background(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		rep.Refused = err.Error()
	} else {
		rep.Layers = sb.Layers()
		var errs []error
		o, err := runSpec(sb, Spec{Binary: hostile, Args: []string{"whoami"}})
		rep.Whoami = o.Stdout
		errs = append(errs, err)
		o, err = runSpec(sb, Spec{Binary: hostile, Args: []string{"read", "/etc/shadow", hostile, "/proc/1/environ"}})
		rep.Read = o.Stdout
		errs = append(errs, err)
		rep.Memory, err = runSpec(sb, Spec{Binary: hostile, Args: []string{"memory"}, Limits: Limits{Memory: 64 << 20, WallTime: time.Minute, CPUTime: time.Minute}})
		errs = append(errs, err)
		if err := errors.Join(errs...); err != nil {
			rep.Err = err.Error()
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 1
	}
	return 0
}

// helperBinary copies the test binary where uid 65534 may execute it.
func helperBinary(t *testing.T) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(filepath.Dir(hostileBinary), "sandbox.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	// Both tests may copy it; write a private copy and rename it in place.
	tmp, err := os.CreateTemp(filepath.Dir(bin), "helper-")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	return tmp.Name()
}

func runHelper(t *testing.T, attr *syscall.SysProcAttr, env ...string) nonRootReport {
	bin := helperBinary(t)
	var out []byte
	var err error
	// A parallel test's fork may still hold the copy's write descriptor
	// (until its child execs): exec then fails with ETXTBSY for a moment.
	for try := 0; ; try++ {
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append([]string{nonRootHelperEnv + "=" + hostileBinary}, env...)
		cmd.Dir = "/"
		cmd.SysProcAttr = attr
		out, err = cmd.Output()
		if !errors.Is(err, syscall.ETXTBSY) || try == 20 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var rep nonRootReport
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		t.Fatalf("helper: %v, output %q: %v", err, out, jerr)
	}
	if err != nil || rep.Err != "" {
		t.Fatalf("helper: %v %s", err, rep.Err)
	}
	return rep
}

// TestRefusesWithoutNamespaces: where no user namespace can be created, New
// fails rather than run anything unsandboxed.
func TestRefusesWithoutNamespaces(t *testing.T) {
	t.Parallel()
	// Root of a user namespace of its own (uid 65534 on the host), which
	// sets its max_user_namespaces to 0.
	// sandboxUID is mapped too (to the host's next lower id), so that the
	// spawner can run as it: what fails is the inits' user namespace.
	rep := runHelper(t, &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: sandboxUID, Size: 1}, {ContainerID: sandboxUID, HostID: sandboxUID - 1, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: sandboxUID, Size: 1}, {ContainerID: sandboxUID, HostID: sandboxUID - 1, Size: 1}},
		// Become that namespace's root, so its sysctls are ours to set.
		GidMappingsEnableSetgroups: true,
		Credential:                 &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{}},
	}, noUserNamespacesEnv+"=1")
	if rep.Refused == "" || !strings.Contains(rep.Refused, "refusing to run programs unsandboxed") {
		t.Fatalf("New without user namespaces: %+v", rep)
	}
	if rep.Whoami != "" || rep.Read != "" {
		t.Fatalf("something ran: %+v", rep)
	}
	t.Logf("refused: %s", rep.Refused)
}

func TestWithoutRoot(t *testing.T) {
	t.Parallel()
	rep := runHelper(t, &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: sandboxUID, Gid: sandboxUID, Groups: []uint32{}}})
	if rep.Refused != "" {
		// Allowed: refusing is safe, and it is all a host without user
		// namespaces allows. Where the kernel has them, we expect the
		// reduced sandbox.
		if !host.UserNS {
			t.Logf("host without user namespaces (%v): refusing is the containment: %s", host, rep.Refused)
			return
		}
		t.Fatalf("refused without root: %s", rep.Refused)
	}
	active := map[string]bool{}
	for _, l := range rep.Layers {
		active[l.Name] = l.Active
	}
	t.Logf("host features: %v", host)
	// The strongest the host allows: seccomp and Landlock where the kernel
	// has them.
	if active["cgroups"] || !active["user namespace"] || !active["mount namespace"] ||
		active["seccomp"] != host.Seccomp || active["landlock"] != (host.Landlock > 0) {
		t.Errorf("layers without root: %+v", rep.Layers)
	}
	seccompMode := "2"
	if !host.Seccomp {
		seccompMode = "0"
	}
	who := lines(rep.Whoami)
	for k, v := range map[string]string{"pid": "1 ppid: 0", "CapEff": "0000000000000000", "CapBnd": "0000000000000000", "NoNewPrivs": "1", "Seccomp": seccompMode, "uid": "65534 euid: 65534 gid: 65534"} {
		if who[k] != v {
			t.Errorf("without root, %s = %q, want %q", k, who[k], v)
		}
	}
	for k, v := range lines(rep.Read) {
		if k != "/proc/1/environ" && !strings.HasPrefix(v, "error:") {
			t.Errorf("without root, read %s: %s", k, v)
		}
	}
	// Without cgroups RLIMIT_DATA is the memory cap.
	if rep.Memory.Reason != ReasonOOM || strings.Contains(rep.Memory.Stdout, "not contained") {
		t.Errorf("memory bomb without root: %v", rep.Memory)
	}
	if t.Failed() {
		t.Logf("report: %+v", rep)
	}
}
