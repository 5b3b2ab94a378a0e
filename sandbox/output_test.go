//go:build linux

package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOutputOrderAcrossStreams interleaves 1000 writes to stderr and
// stdout, in several runs at once on a machine that is busy anyway, and
// wants every run's chunks in exactly the order written, with write times
// that never go back.
func TestOutputOrderAcrossStreams(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	const runs, n = 4, 500 // 1000 writes per run
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for r := 0; r < runs; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A minute: on an emulated VM (scripts/cgroup-v2-vm.sh) the
			// concurrent runs took more than the default 10 s.
			o, err := runSpec(sb, Spec{Binary: hostileBinary, Args: []string{"interleave", fmt.Sprint(n)},
				Limits: Limits{WallTime: time.Minute, CPUTime: time.Minute}})
			if err != nil {
				errs <- err
				return
			}
			errs <- checkInterleaved(o, n)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func checkInterleaved(o outcome, n int) error {
	if o.ExitCode != 0 || len(o.Chunks) != 2*n {
		return fmt.Errorf("%d chunks, want %d: %v", len(o.Chunks), 2*n, o)
	}
	for i, c := range o.Chunks {
		want, stream := fmt.Sprintf("error %d\n", i/2), Stderr
		if i%2 == 1 {
			want, stream = fmt.Sprintf("output %d\n", i/2), Stdout
		}
		if string(c.Data) != want || c.Stream != stream {
			return fmt.Errorf("chunk %d is %s %q, want %s %q", i, c.Stream, c.Data, stream, want)
		}
		if i > 0 && c.At.Before(o.Chunks[i-1].At) {
			return fmt.Errorf("chunk %d written at %v, before chunk %d at %v", i, c.At, i-1, o.Chunks[i-1].At)
		}
	}
	return nil
}

// TestOutputTimesAreWriteTimes reads nothing until the program has ended:
// the chunks' times must still be when they were written, 300 ms apart,
// and within the run.
func TestOutputTimesAreWriteTimes(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	p, err := sb.Start(context.Background(), Spec{Binary: hostileBinary,
		Args: []string{"writes", "first", "2:second", "sleep:300ms", "third"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Wait()
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Wait: %+v %v", res, err)
	}
	end := time.Now()
	time.Sleep(200 * time.Millisecond) // a late reader
	cs, err := readOutput(p.Output)
	if err != nil || len(cs) != 3 {
		t.Fatalf("chunks %v: %v", cs, err)
	}
	if cs[0].Stream != Stdout || cs[1].Stream != Stderr || cs[2].Stream != Stdout ||
		string(cs[0].Data)+string(cs[1].Data)+string(cs[2].Data) != "firstsecondthird" {
		t.Fatalf("chunks %v", cs)
	}
	if gap := cs[2].At.Sub(cs[1].At); gap < 300*time.Millisecond {
		t.Errorf("a 300 ms sleep between writes shows as %v", gap)
	}
	for i, c := range cs {
		if c.At.Before(p.Started) || c.At.After(end) {
			t.Errorf("chunk %d written at %v, outside the run %v–%v", i, c.At, p.Started, end)
		}
	}
}

// TestOutputKeepsBytes: the sandbox hands on the bytes of each write as
// they were, a multi-byte character cut between writes included.
func TestOutputKeepsBytes(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := run(t, sb, Spec{Binary: hostileBinary, Args: []string{"writes", `"caf\xc3"`, "sleep:120ms", `"\xa9 ok\n"`, `"\xff\xfe\n"`}})
	if len(o.Chunks) != 3 || string(o.Chunks[0].Data) != "caf\xc3" || string(o.Chunks[1].Data) != "\xa9 ok\n" ||
		string(o.Chunks[2].Data) != "\xff\xfe\n" {
		t.Errorf("chunks %q", o.Chunks)
	}
}

// TestOutputBigWrite: a 1 MiB write arrives whole, as one chunk.
func TestOutputBigWrite(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	o := run(t, sb, Spec{Binary: hostileBinary, Args: []string{"bigwrite", fmt.Sprint(1 << 20)}})
	want := 1<<20 + 1
	if !strings.Contains(o.Stderr, fmt.Sprintf("wrote %d of %d: <nil>", want, want)) || len(o.Stdout) != want {
		t.Fatalf("1 MiB write: %v", o)
	}
	if len(o.Chunks) != 2 || len(o.Chunks[0].Data) != want {
		t.Errorf("%d chunks, the first of %d bytes", len(o.Chunks), len(o.Chunks[0].Data))
	}
}

// TestOutputWriteLargerThanMaxWrite: a write of exactly MaxWrite bytes
// arrives whole; one byte more, to stdout or stderr, is killed by the
// seccomp filter (ReasonWriteTooLarge) instead of failing with EMSGSIZE,
// which a program that ignores Write's error would never show. The same
// socket under another descriptor gets the kernel's EMSGSIZE (for a write
// over its own, larger bound), and the
// build profile is not subject to the rule.
func TestOutputWriteLargerThanMaxWrite(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	if !sb.seccomp {
		t.Skip("no seccomp on this kernel: nothing kills a large write (TestHostFeatures says whether that is expected)")
	}
	max := sb.MaxWrite()
	if max < 64<<10 {
		t.Fatalf("MaxWrite %d, want at least 64 KiB", max)
	}
	// bigwrite adds a newline: n+1 bytes in one call.
	o := run(t, sb, Spec{Binary: hostileBinary, Args: []string{"bigwrite", fmt.Sprint(max - 1)}})
	if o.Reason != ReasonNone || len(o.Stdout) != max {
		t.Errorf("a write of MaxWrite (%d) bytes: reason %q, %d bytes arrived\n%s", max, o.Reason, len(o.Stdout), clip(o.Stderr))
	}
	for _, mode := range []string{"bigwrite", "bigwrite-stderr"} {
		o = run(t, sb, Spec{Binary: hostileBinary, Args: []string{mode, fmt.Sprint(max)}})
		if o.Reason != ReasonWriteTooLarge || o.Signal != "bad system call" {
			t.Errorf("%s of MaxWrite+1 bytes: reason %q signal %q, want %q\n%s", mode, o.Reason, o.Signal, ReasonWriteTooLarge, o)
		}
		if strings.Contains(o.Stderr, "wrote") {
			t.Errorf("%s: the program went on after the write: %s", mode, clip(o.Stderr))
		}
	}
	// The send buffer is twice MaxWrite: 4 times it fails whatever the kernel.
	o = run(t, sb, Spec{Binary: hostileBinary, Args: []string{"bigwrite-dup", fmt.Sprint(4 * max)}})
	if o.Reason != ReasonNone || !strings.Contains(o.Stderr, "message too long") {
		t.Errorf("through a dup of stdout: reason %q, stderr %q; want EMSGSIZE", o.Reason, clip(o.Stderr))
	}
	o = run(t, sb, Spec{Binary: hostileBinary, Args: []string{"bigwrite", fmt.Sprint(max)}, SeccompProfile: ProfileBuild})
	if o.Reason == ReasonWriteTooLarge {
		t.Errorf("the build profile kills large writes too: %v", o)
	}
}

// TestWritesOfAnySizeUnderTheLimitPass: writes to stdout and stderr whose
// byte counts are the numbers of refused system calls (mount 165, bpf 321,
// ptrace 101, unshare 272) go through: an argument check of the filter
// once left the count where the call's number was read, so those writes
// failed with EPERM (Python's logging and Go's net writes showed it).
func TestWritesOfAnySizeUnderTheLimitPass(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	var args []string
	want := 0
	for _, n := range []int{101, 165, 272, 321} {
		args = append(args, strconv.Quote(strings.Repeat("o", n)), "2:"+strconv.Quote(strings.Repeat("e", n)))
		want += n
	}
	o := run(t, sb, Spec{Binary: hostileBinary, Args: append([]string{"writes"}, args...)})
	if len(o.Stdout) != want || len(o.Stderr) != want || o.ExitCode != 0 {
		t.Errorf("stdout %d bytes, stderr %d bytes, want %d each: %v", len(o.Stdout), len(o.Stderr), want, o)
	}
}

// TestOutputSocketReachesNothingElse: the program's stdout is a datagram
// socket, which could be aimed at another address; an abstract socket of
// the host must stay out of reach.
func TestOutputSocketReachesNothingElse(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "playdoc-test-" + hex.EncodeToString(b)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: "@" + name}); err != nil {
		t.Fatal(err)
	}
	o := hostile(t, sb, Limits{}, "stdoutescape", name)
	got := lines(o.Stdout)
	if !strings.HasPrefix(got["sendto"], "error:") || !strings.HasPrefix(got["connect"], "error:") ||
		!strings.Contains(o.Stderr, "still on stderr") {
		t.Errorf("stdout socket aimed elsewhere: %v", o)
	}
	buf := make([]byte, 64)
	if n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT); err == nil {
		t.Errorf("the host's abstract socket received %q from the sandbox", buf[:n])
	}
}

// A killed server's output folder (its pid gone) is removed by the next
// server; a live process's folder, other names and files stay.
func TestRemoveStaleOutDirs(t *testing.T) {
	tmp := t.TempDir()
	const dead = 1 << 22 // pids are below pid_max, at most 2^22
	mk := func(name string, dir bool) string {
		p := filepath.Join(tmp, name)
		var err error
		if dir {
			err = os.Mkdir(p, 0o700)
		} else {
			err = os.WriteFile(p, nil, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := mk(fmt.Sprintf("%s%d-123", outDirPrefix, dead), true)
	live := mk(fmt.Sprintf("%s%d-456", outDirPrefix, os.Getpid()), true)
	old := mk(outDirPrefix+"789", true)
	file := mk(fmt.Sprintf("%s%d-1", outDirPrefix, dead), false)
	other := mk("unrelated", true)
	removeStaleOutDirs(tmp)
	if _, err := os.Stat(gone); err == nil {
		t.Errorf("%s (pid %d gone) kept", filepath.Base(gone), dead)
	}
	for _, p := range []string{live, old, file, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
}
