package sandbox

import (
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

// nonRootHelper runs as uid 65534: it builds a sandbox without any
// privilege and runs hostile programs in it.
func nonRootHelper(hostile string) int {
	var rep nonRootReport
	sb, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		rep.Refused = err.Error()
	} else {
		rep.Layers = sb.Layers()
		var errs []error
		o, err := runSpec(sb, Spec{Binary: hostile, Args: []string{"whoami"}})
		rep.Whoami = o.Stdout
		errs = append(errs, err)
		o, err = runSpec(sb, Spec{Binary: hostile, Args: []string{"read", "/etc/passwd", hostile, "/proc/1/environ"}})
		rep.Read = o.Stdout
		errs = append(errs, err)
		rep.Memory, err = runSpec(sb, Spec{Binary: hostile, Args: []string{"memory"}, Limits: Limits{Memory: 64 << 20}})
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

func TestWithoutRoot(t *testing.T) {
	t.Parallel()
	// The test binary, where uid 65534 may execute it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(hostileBinary)
	bin := filepath.Join(dir, "sandbox.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = []string{nonRootHelperEnv + "=" + hostileBinary}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: sandboxUID, Gid: sandboxUID, Groups: []uint32{}}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	var rep nonRootReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if rep.Err != "" {
		t.Fatalf("helper: %s", rep.Err)
	}
	if rep.Refused != "" {
		// Allowed: refusing is safe. But this kernel allows user
		// namespaces, so here we expect the reduced sandbox.
		t.Fatalf("refused without root: %s", rep.Refused)
	}
	active := map[string]bool{}
	for _, l := range rep.Layers {
		active[l.Name] = l.Active
	}
	if active["cgroups"] || !active["user namespace"] || !active["mount namespace"] || !active["seccomp"] || !active["landlock"] {
		t.Errorf("layers without root: %+v", rep.Layers)
	}
	who := lines(rep.Whoami)
	for k, v := range map[string]string{"pid": "1 ppid: 0", "CapEff": "0000000000000000", "CapBnd": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2", "uid": "65534 euid: 65534 gid: 65534"} {
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
