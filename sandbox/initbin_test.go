//go:build linux

package sandbox

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInitBinary builds the init as a program of its own, runs programs
// through it, and checks that it is the small binary (not this test binary
// re-executed), that no descriptor of it reaches the program, and that a
// second build is a cache hit.
func TestInitBinary(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := BuildInit(ctx, InitBuild{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Stat("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("init binary %s: %d KiB (this test binary: %d KiB)", filepath.Base(bin), st.Size()>>10, self.Size()>>10)
	if st.Size() >= self.Size() {
		t.Errorf("the init (%d bytes) is not smaller than the test binary (%d bytes)", st.Size(), self.Size())
	}
	again, err := BuildInit(ctx, InitBuild{Dir: dir})
	if err != nil || again != bin {
		t.Fatalf("second build: %q %v, want the cached %q", again, err, bin)
	}

	sb, err := New(context.Background(), Options{InitBinary: bin, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("New with the init binary: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	expectHello(t, sb)
	o := hostile(t, sb, Limits{}, "fds")
	for _, l := range strings.Split(strings.TrimSpace(o.Stdout), "\n") {
		if strings.Contains(l, "memfd") || strings.Contains(l, "init") {
			t.Errorf("a descriptor of the init reaches the program: %s", l)
		}
	}
	// The pre-started inits run the small program. The pool refills once
	// no run has begun for startsQuiet.
	var found bool
	for deadline := time.Now().Add(5 * time.Second); !found && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, p := range initChildren(t, sb) {
			if exe, err := os.Readlink("/proc/" + p + "/exe"); err == nil && strings.Contains(exe, "playdoc-sandbox-init") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no pre-started init runs the init binary: %v", initChildren(t, sb))
	}
}

// TestRemoveOldInits: init programs, build folders and partial outputs
// unused for longer than initKeep go; the one in use, recent ones (another
// server may be about to load its own) and other files stay.
func TestRemoveOldInits(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-2 * initKeep)
	files := map[string]time.Time{
		"init-aaaa":     old, // in use: kept however old
		"init-bbbb":     old,
		"init-cccc.tmp": old,
		"init-dddd":     now.Add(-initKeep / 2),
		"other":         old,
	}
	for n, mt := range files {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("x"), 0o555); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	build := filepath.Join(dir, "build-123")
	if err := os.MkdirAll(filepath.Join(build, "sandbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(build, old, old); err != nil {
		t.Fatal(err)
	}
	removeOldInits(dir, filepath.Join(dir, "init-aaaa"), now)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if got, want := strings.Join(left, " "), "init-aaaa init-dddd other"; got != want {
		t.Errorf("left %q, want %q", got, want)
	}
}
