package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"playdoc/internal/txtarfs"
)

// TestAuthorsHTMLValidates builds, with `playdoc build`, each site of
// site/testdata/authors that is meant to build (raw HTML, every kind of
// link, images and files, BOM and CRLF pages, written the way authors
// write them) and runs html-validate over it: rendering the authors' HTML
// must not make the pages invalid.
func TestAuthorsHTMLValidates(t *testing.T) {
	modules := auditModules(t)
	archives, err := filepath.Glob(filepath.Join(repoRoot(), "site", "testdata", "authors", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	built := 0
	for _, name := range archives {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		content, want, err := txtarfs.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, fails := want["want/errors"]; fails {
			continue
		}
		base := strings.TrimSuffix(filepath.Base(name), ".txtar")
		t.Run(base, func(t *testing.T) {
			dir := t.TempDir()
			src, out := filepath.Join(dir, "content"), filepath.Join(dir, "public")
			if err := os.CopyFS(src, content); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(playdocBin(t), "build", "--content", src, "--out", out, "--cache", filepath.Join(dir, "cache"))
			cmd.Dir = repoRoot()
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("playdoc build: %v\n%s", err, b)
			}
			if msg, err := runHTMLValidate(modules, "htmlvalidate.cjs", out); err != nil {
				t.Errorf("html-validate: %v\n%s", err, msg)
			}
		})
		built++
	}
	if built < 4 {
		t.Fatalf("only %d archives build; want the -ok ones and encodings", built)
	}
}
