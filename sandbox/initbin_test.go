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
	// The pre-started inits run the small program.
	var found bool
	for _, p := range sandboxChildren(t) {
		if exe, err := os.Readlink("/proc/" + p + "/exe"); err == nil && strings.Contains(exe, "playdoc-sandbox-init") {
			found = true
		}
	}
	if !found {
		t.Errorf("no pre-started init runs the init binary: %v", sandboxChildren(t))
	}
}
