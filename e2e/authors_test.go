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
// write them) and runs html-validate over them: rendering the authors' HTML
// must not make the pages invalid. One html-validate run checks every site
// (each run starts Node and loads the validator: ~1.5 s of CPU), and its
// findings are reported under the site whose page they are in.
func TestAuthorsHTMLValidates(t *testing.T) {
	modules := auditModules(t)
	archives, err := filepath.Glob(filepath.Join(repoRoot(), "site", "testdata", "authors", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	var built []string
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
			dir := filepath.Join(root, base)
			src, out := filepath.Join(dir, "content"), filepath.Join(dir, "public")
			if err := os.CopyFS(src, content); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(playdocBin(t), "build", "--content", src, "--out", out, "--cache", filepath.Join(t.TempDir(), "cache"))
			cmd.Dir = repoRoot()
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("playdoc build: %v\n%s", err, b)
			}
			built = append(built, base)
		})
	}
	if len(built) < 4 {
		t.Fatalf("only %d archives build; want the -ok ones and encodings", len(built))
	}
	msg, err := runHTMLValidate(modules, "htmlvalidate.cjs", root)
	if err == nil {
		return
	}
	// The stylish formatter names each file before its findings.
	reported := false
	for _, base := range built {
		prefix := filepath.Join(root, base) + string(filepath.Separator)
		var lines []string
		in := false
		for _, line := range strings.Split(msg, "\n") {
			if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, root) {
				in = strings.HasPrefix(trimmed, prefix)
			}
			if in {
				lines = append(lines, line)
			}
		}
		if len(lines) > 0 {
			t.Errorf("%s: html-validate:\n%s", base, strings.Join(lines, "\n"))
			reported = true
		}
	}
	if !reported {
		t.Errorf("html-validate: %v\n%s", err, msg)
	}
}
