package sandbox

import (
	"bytes"
	"io"
	"log/slog"
	"os/exec"
	"testing"
)

// BenchmarkStartHello is one complete sandboxed run of a Go hello world:
// namespaces, root, cgroups, seccomp, Landlock, exec, output, Wait and
// cleanup. Compare with BenchmarkBareExec for the sandbox's overhead.
func BenchmarkStartHello(b *testing.B) {
	sb := newSandbox(b)
	b.ReportAllocs()
	for b.Loop() {
		o := hostile(b, sb, Limits{}, "hello")
		if o.ExitCode != 0 || o.Stdout != "hello from the sandbox\n" {
			b.Fatalf("run: %v", o)
		}
	}
}

// BenchmarkStartHelloCold is the same without pre-started inits: every run
// pays for the init's namespaces and Go runtime start-up.
func BenchmarkStartHelloCold(b *testing.B) {
	sb, err := New(Options{Warm: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
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
