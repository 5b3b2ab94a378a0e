//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"
)

// crashHelperEnv names the hostile binary when the test binary runs as the
// server that TestCrashedServerLeavesNothing kills.
const crashHelperEnv = "PLAYDOC_SANDBOX_CRASH_HOSTILE"

// crashReport is what the crash helper prints before it is killed.
type crashReport struct {
	Parents map[string]string // the helper sandbox's parent cgroups
	RunPid  int               // PID 1 of its running program
	Err     string
}

// crashHelper builds a sandbox, starts a sleeper in it, reports, and waits
// to be killed.
func crashHelper(hostile string) int {
	var rep crashReport
	sb, err := New(context.Background(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		var p *Process
		p, err = sb.Start(context.Background(), Spec{Binary: hostile, Args: []string{"sleep"}, Limits: Limits{WallTime: time.Hour}})
		if err == nil {
			rep.RunPid = p.Pid
			if sb.cg != nil {
				rep.Parents = sb.cg.parents
			}
			// The sleeper runs once it has said so.
			_, err = bufio.NewReader(stdoutReader(p.Output)).ReadString('\n')
		}
	}
	if err != nil {
		rep.Err = err.Error()
	}
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil || rep.Err != "" {
		return 1
	}
	select {}
}

// TestCrashedServerLeavesNothing: a server killed with runs in flight
// takes them with it (the inits die with their parent), and the next
// server removes its cgroups.
func TestCrashedServerLeavesNothing(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+hostileBinary)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var rep crashReport
	if err := json.NewDecoder(out).Decode(&rep); err != nil || rep.Err != "" {
		t.Fatalf("crash helper: %v %s", err, rep.Err)
	}
	t.Logf("helper %d: run %d, cgroups %v", cmd.Process.Pid, rep.RunPid, rep.Parents)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !waitGone(rep.RunPid, 10*time.Second) {
		t.Errorf("the crashed server's run %d still runs", rep.RunPid)
	}
	sb := newSandbox(t)
	for _, dir := range rep.Parents {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("the crashed server's cgroup %s is still there after New", dir)
		}
	}
	if sb.cg != nil && len(rep.Parents) == 0 {
		t.Errorf("the helper had no cgroups, we have %v", sb.cg.parents)
	}
	expectHello(t, sb)
}
