//go:build linux

package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGoBuildInside runs the Go toolchain in the sandbox the way the
// playground's builder does: GOROOT read-only, the workspace writable, the
// warm build cache copy-on-write, ProfileBuild.
func TestGoBuildInside(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	cache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The host's cache is the warm lower layer when the sandbox's user may
	// read it. A private one (made under umask 077, or by mktemp -d, mode
	// 0700) it may not: the build then starts from an empty cache of its
	// own, as a new playground's first build does, and takes longer.
	lower := strings.TrimSpace(string(cache))
	limit := 2 * time.Minute
	if fi, err := os.Stat(lower); err != nil || fi.Mode().Perm()&0o005 != 0o005 {
		t.Logf("GOCACHE %s is not readable by the sandbox's user (%v): building on an empty cache", lower, modeOrErr(fi, err))
		lower = t.TempDir()
		if err := os.Chown(lower, sandboxUID, sandboxUID); err != nil {
			t.Fatal(err)
		}
		limit = 10 * time.Minute
	}
	work := t.TempDir()
	src := "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"built inside\") }\n"
	if err := os.WriteFile(filepath.Join(work, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte("module prog\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(work, sandboxUID, sandboxUID); err != nil {
		t.Fatal(err)
	}
	// GOROOT sits at its host path: the warm cache's index of the standard
	// library does not match a GOROOT seen elsewhere ("fmt is not in std").
	gr := strings.TrimSpace(string(goroot))
	spec := Spec{
		Path: gr + "/bin/go",
		Args: []string{"build", "-trimpath", "-o", "/work/prog", "."},
		Env: []string{"PATH=" + gr + "/bin", "HOME=/tmp", "GOCACHE=/cache", "GOPATH=/tmp/gopath",
			"GOPROXY=off", "GOTOOLCHAIN=local", "GOENV=off", "CGO_ENABLED=0", "GOTELEMETRY=off", "GOFLAGS=-mod=mod"},
		Dir:            "/work",
		Binds:          []Bind{{Host: gr, Target: gr}, {Host: work, Target: "/work", Writable: true}},
		Overlays:       []Overlay{{Lower: lower, Target: "/cache"}},
		SeccompProfile: ProfileBuild,
		Limits:         Limits{WallTime: limit, CPUTime: limit, Memory: 1 << 30, Pids: 256, FileSize: 256 << 20, TmpSize: 512 << 20},
	}
	o := run(t, sb, spec)
	if o.ExitCode != 0 {
		t.Fatalf("go build inside: %v", o)
	}
	t.Logf("go build inside: wall %v cpu %v peak %d MiB", o.Wall, o.CPU, o.PeakMemory>>20)
	o = run(t, sb, Spec{Binary: filepath.Join(work, "prog")})
	if o.Stdout != "built inside\n" {
		t.Fatalf("the program built inside: %v", o)
	}
}

// modeOrErr is a folder's permission bits, or why they are unknown.
func modeOrErr(fi os.FileInfo, err error) string {
	if err != nil {
		return err.Error()
	}
	return fi.Mode().Perm().String()
}
