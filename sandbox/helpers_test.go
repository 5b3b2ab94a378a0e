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
	"strings"
	"testing"
	"time"
)

// hostileBinary is the path of testdata/hostile, built once by TestMain, and
// host what the kernel offers, probed once by TestMain. They are the only
// package-level variables of the tests and never change after TestMain set
// them.
var (
	hostileBinary string
	host          hostFeatures
)

func TestMain(m *testing.M) {
	Main()
	if bin := os.Getenv(nonRootHelperEnv); bin != "" {
		os.Exit(nonRootHelper(bin))
	}
	if bin := os.Getenv(crashHelperEnv); bin != "" {
		os.Exit(crashHelper(bin))
	}
	dir, err := os.MkdirTemp("", "sandbox-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		// Readable by the sandbox's uid: the non-root test runs there.
		if err := os.Chmod(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		hostileBinary = filepath.Join(dir, "hostile")
		if err := buildHostile(hostileBinary); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		host = probeHost(hostileBinary)
		fmt.Fprintf(os.Stderr, "sandbox tests: host features: %v\n", host)
		// go test shows a passing package's output only with -v: the
		// suite's script names a file for this line and prints it.
		if report := os.Getenv(hostReportEnv); report != "" {
			line := fmt.Sprintf("sandbox tests: host features: %v\n", host)
			if err := os.WriteFile(report, []byte(line), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// hostReportEnv names a file the sandbox tests write their host features
// line into (scripts/test.sh prints it at the end of the suite).
const hostReportEnv = "PLAYDOC_HOST_FEATURES_REPORT"

// prebuiltHostileEnv names a prebuilt testdata/hostile binary, for hosts
// without the go command (scripts/cgroup-v2-vm.sh's VM).
const prebuiltHostileEnv = "PLAYDOC_SANDBOX_HOSTILE"

// buildHostile writes testdata/hostile to dst: a copy of the prebuilt one
// if $PLAYDOC_SANDBOX_HOSTILE names one (copied, so that it sits in the
// test's own folder like a built one), else built with go.
func buildHostile(dst string) error {
	if src := os.Getenv(prebuiltHostileEnv); src != "" {
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("prebuilt hostile ($%s): %w", prebuiltHostileEnv, err)
		}
		return os.WriteFile(dst, b, 0o755)
	}
	build := exec.Command("go", "build", "-trimpath", "-o", dst, "./testdata/hostile")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build hostile: %v\n%s", err, out)
	}
	return nil
}

// newSandbox returns a sandbox that is closed when the test ends.
func newSandbox(t testing.TB) *Sandbox {
	t.Helper()
	return newSandboxWarm(t, 0)
}

// newSandboxWarm is newSandbox with Options.Warm set (-1: no pre-started
// inits).
func newSandboxWarm(t testing.TB, warm int) *Sandbox {
	t.Helper()
	sb, err := New(context.Background(), Options{Warm: warm, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return sb
}

// outcome is a finished run.
type outcome struct {
	Result
	Stdout, Stderr string
	Chunks         []Chunk // in write order
}

func (o outcome) String() string {
	return fmt.Sprintf("exit=%d signal=%q reason=%q wall=%v cpu=%v peak=%dKiB\nstdout:\n%s\nstderr:\n%s",
		o.ExitCode, o.Signal, o.Reason, o.Wall, o.CPU, o.PeakMemory>>10, clip(o.Stdout), clip(o.Stderr))
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "…"
	}
	return s
}

// hostile runs the hostile program in mode with args and waits for it.
func hostile(t testing.TB, sb *Sandbox, limits Limits, mode string, args ...string) outcome {
	t.Helper()
	return run(t, sb, Spec{Binary: hostileBinary, Args: append([]string{mode}, args...), Limits: limits})
}

func run(t testing.TB, sb *Sandbox, spec Spec) outcome {
	t.Helper()
	o, err := runSpec(sb, spec)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// runSpec runs spec, collecting its output, and waits for it.
func runSpec(sb *Sandbox, spec Spec) (outcome, error) {
	p, err := sb.Start(context.Background(), spec)
	if err != nil {
		return outcome{}, fmt.Errorf("Start: %w", err)
	}
	var o outcome
	done := make(chan error, 1)
	go func() {
		var err error
		o.Chunks, err = readOutput(p.Output)
		done <- err
	}()
	o.Result, err = p.Wait()
	if err != nil {
		return o, fmt.Errorf("Wait: %w", err)
	}
	if err := <-done; err != nil {
		return o, fmt.Errorf("output: %w", err)
	}
	var out, errb strings.Builder
	for _, c := range o.Chunks {
		if c.Stream == Stdout {
			out.Write(c.Data)
		} else {
			errb.Write(c.Data)
		}
	}
	o.Stdout, o.Stderr = out.String(), errb.String()
	return o, nil
}

// readOutput reads o to its end.
func readOutput(o *Output) ([]Chunk, error) {
	var cs []Chunk
	for {
		c, err := o.Next()
		if err == io.EOF {
			return cs, nil
		}
		if err != nil {
			return cs, err
		}
		cs = append(cs, c)
	}
}

// discard reads o to its end and drops it.
func discard(o *Output) {
	for {
		if _, err := o.Next(); err != nil {
			return
		}
	}
}

// readUntil reads o until its stdout holds at least n bytes.
func readUntil(o *Output, n int) ([]byte, error) {
	var b []byte
	for len(b) < n {
		c, err := o.Next()
		if err != nil {
			return b, err
		}
		if c.Stream == Stdout {
			b = append(b, c.Data...)
		}
	}
	return b, nil
}

// lines maps "key: value" output lines to their values.
func lines(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			m[k] = v
		}
	}
	return m
}

// expectHello asserts that a normal program runs right after an attack.
func expectHello(t *testing.T, sb *Sandbox) {
	t.Helper()
	o := hostile(t, sb, Limits{}, "hello")
	if o.ExitCode != 0 || o.Reason != ReasonNone || o.Stdout != "hello from the sandbox\n" || o.Stderr != "to stderr\n" {
		t.Fatalf("normal run after the attack failed: %v", o)
	}
}

// waitGone waits until the process with the given pid is gone or dead: a
// zombie counts as gone, since who reaps an orphan (the host's PID 1, here
// perhaps a container's) is not the sandbox's doing.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// pid (comm) state ...: comm may hold spaces and parentheses.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X') {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// stdoutReader reads o's stdout as a stream (stderr is dropped) until o
// ends.
func stdoutReader(o *Output) io.Reader {
	r, w := io.Pipe()
	go func() {
		for {
			c, err := o.Next()
			if err != nil {
				w.Close()
				return
			}
			if c.Stream == Stdout {
				if _, err := w.Write(c.Data); err != nil {
					discard(o)
					return
				}
			}
		}
	}()
	return r
}
