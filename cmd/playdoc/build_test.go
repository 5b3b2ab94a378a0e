package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSite writes files (path → text) under dir.
func writeSite(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBuildReadsConfig builds a site whose playdoc.toml sets the title,
// language, footer and edit links; then a playdoc.toml with an unknown key
// fails the build at its file:line.
func TestBuildReadsConfig(t *testing.T) {
	dir := t.TempDir()
	writeSite(t, dir, map[string]string{
		"site/playdoc.toml": "title = \"Config test\"\nlanguage = \"de\"\nfooter = \"Fußzeile\"\nbase_url = \"https://ex.org\"\n" +
			"[repository]\nurl = \"https://git.ex.org/r\"\nedit = \"{url}/edit/{path}\"\n",
		"site/content/guide/01-a.md": "---\ntitle: A\norder: 1\nsummary: s\n---\n\nText.\n",
	})
	out := filepath.Join(dir, "public")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"build", "--content", filepath.Join(dir, "site", "content"),
		"--out", out, "--cache", filepath.Join(dir, "cache")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("build exit %d: %s", code, stderr.String())
	}
	page, err := os.ReadFile(filepath.Join(out, "guide", "a", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`<html lang="de">`, `<title>A · Config test</title>`, `<p>Fußzeile</p>`,
		`<a href="https://git.ex.org/r/edit/guide/01-a.md">Edit this page</a>`, `<link rel="canonical" href="https://ex.org/guide/a/">`} {
		if !strings.Contains(string(page), w) {
			t.Errorf("page lacks %s", w)
		}
	}

	writeSite(t, dir, map[string]string{"site/playdoc.toml": "title = \"x\"\n\nbase_urll = \"https://ex.org\"\n"})
	stderr.Reset()
	code = run(context.Background(), []string{"build", "--content", filepath.Join(dir, "site", "content"),
		"--out", out, "--cache", filepath.Join(dir, "cache")}, &stdout, &stderr)
	want := filepath.Join(dir, "site", "playdoc.toml") + `:3: unknown key "base_urll"`
	if code == 0 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want an error containing %q", code, stderr.String(), want)
	}
}
