//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
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
