package devserver

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestDirFSKeepsFilesUntilInvalidated(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, data string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(d *dirFS, name string) string {
		t.Helper()
		b, err := fs.ReadFile(d, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write("a.md", "one")
	write("sub/deep/b.md", "two")
	d := newDirFS(dir)
	if read(d, "a.md") != "one" || read(d, "sub/deep/b.md") != "two" {
		t.Fatal("first read wrong")
	}
	if m, _ := fs.Glob(d, "*.md"); len(m) != 1 {
		t.Fatalf("glob %q", m)
	}

	// Changed on disk but not reported: the cached copy is served.
	write("a.md", "changed")
	write("c.md", "new")
	if read(d, "a.md") != "one" {
		t.Error("a.md re-read without an event")
	}
	// Reported: re-read, and the folder listing too.
	d.invalidate(filepath.Join(dir, "a.md"))
	d.invalidate(filepath.Join(dir, "c.md"))
	if read(d, "a.md") != "changed" {
		t.Error("a.md not re-read after its event")
	}
	if m, _ := fs.Glob(d, "*.md"); len(m) != 2 {
		t.Errorf("glob after a create: %q", m)
	}
	// A folder's event forgets everything below it.
	write("sub/deep/b.md", "three")
	d.invalidate(filepath.Join(dir, "sub"))
	if read(d, "sub/deep/b.md") != "three" {
		t.Error("file below an invalidated folder not re-read")
	}
	// Paths outside are ignored; what the caller modifies is its own.
	d.invalidate(filepath.Join(filepath.Dir(dir), "elsewhere"))
	b, _ := fs.ReadFile(d, "a.md")
	b[0] = 'X'
	if read(d, "a.md") != "changed" {
		t.Error("the caller's copy aliases the cache")
	}
	write("a.md", "again")
	d.flush()
	if read(d, "a.md") != "again" {
		t.Error("flush kept a.md")
	}
}
