//go:build linux

package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBindsAndOverlays(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	host := t.TempDir() // 0700, owned by root: the sandbox's uid could not walk it
	ro := filepath.Join(host, "ro")
	rw := filepath.Join(host, "rw")
	lower := filepath.Join(host, "lower")
	for _, d := range []string{ro, rw, filepath.Join(lower, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(rw, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(ro, "file"), filepath.Join(lower, "sub", "cached")} {
		if err := os.WriteFile(f, []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A warm build cache belongs to the sandbox's uid (it was filled by
	// sandboxed builds); what belongs to root stays read-only even through
	// the overlay.
	if err := os.MkdirAll(filepath.Join(lower, "rootonly"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{lower, filepath.Join(lower, "sub"), filepath.Join(lower, "sub", "cached")} {
		if err := os.Chown(p, sandboxUID, sandboxUID); err != nil {
			t.Fatal(err)
		}
	}
	spec := Spec{
		Binary:   hostileBinary,
		Binds:    []Bind{{Host: ro, Target: "/src"}, {Host: rw, Target: "/work", Writable: true}},
		Overlays: []Overlay{{Lower: lower, Target: "/cache"}},
	}
	spec.Args = []string{"read", "/src/file", "/cache/sub/cached"}
	o := run(t, sb, spec)
	for k, v := range lines(o.Stdout) {
		if v != "ok" {
			t.Errorf("read %s: %s", k, v)
		}
	}
	spec.Args = []string{"write", "/src/new", "/src/file", "/work/out", "/cache/new", "/cache/sub/new", "/cache/sub/cached", "/cache/rootonly/x"}
	o = run(t, sb, spec)
	got := lines(o.Stdout)
	want := map[string]string{"/src/new": "error", "/src/file": "error", "/work/out": "ok", "/cache/new": "ok",
		"/cache/sub/new": "ok", "/cache/sub/cached": "ok", "/cache/rootonly/x": "error"}
	for k, v := range want {
		if !strings.HasPrefix(got[k], v) {
			t.Errorf("write %s: %q, want %s", k, got[k], v)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rw, "out")); err != nil || string(b) != "pwned" {
		t.Errorf("the writable bind did not reach the host: %q %v", b, err)
	}
	for _, p := range []string{filepath.Join(lower, "new"), filepath.Join(lower, "sub", "new")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("an overlay write reached the lower layer: %s", p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(lower, "sub", "cached")); string(b) != "data" {
		t.Errorf("the lower layer was modified: %q", b)
	}
	// The next run sees the pristine lower layer.
	spec.Args = []string{"ls", "/cache", "/cache/sub"}
	o = run(t, sb, spec)
	if got := lines(o.Stdout); got["/cache"] != "rootonly sub <nil>" || got["/cache/sub"] != "cached <nil>" {
		t.Errorf("overlay not thrown away: %v", o)
	}
	if t.Failed() {
		t.Logf("%v", o)
	}
}
