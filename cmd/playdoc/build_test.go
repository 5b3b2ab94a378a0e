package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"testing/fstest"
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

// TestBuildMemoryLimit: the soft memory limit of a build grows with the
// Markdown it reads (other files do not count), and a build restores the
// limit and the GOGC it found when it ends.
func TestBuildMemoryLimit(t *testing.T) {
	small := fstest.MapFS{"a.md": {Data: make([]byte, 1000)}, "img.png": {Data: make([]byte, 1<<20)}}
	large := fstest.MapFS{"a.md": {Data: make([]byte, 1000)}, "s/b.md": {Data: make([]byte, 1<<20)}}
	ls, err := buildMemoryLimit(small)
	if err != nil {
		t.Fatal(err)
	}
	ll, err := buildMemoryLimit(large)
	if err != nil {
		t.Fatal(err)
	}
	if ls != memLimitBase+memLimitPerContent*1000 {
		t.Errorf("limit for 1000 bytes of Markdown and an image = %d, want %d", ls, memLimitBase+memLimitPerContent*1000)
	}
	if ll-ls != memLimitPerContent<<20 {
		t.Errorf("1 MB more Markdown raised the limit by %d bytes, want %d", ll-ls, memLimitPerContent<<20)
	}

	t.Setenv("GOMEMLIMIT", "") // as when it is not set
	t.Setenv("GOGC", "")
	const before, gcBefore = 1 << 40, 123
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(before))
	defer debug.SetGCPercent(debug.SetGCPercent(gcBefore))
	dir := t.TempDir()
	writeSite(t, dir, map[string]string{"content/01-a.md": "---\ntitle: A\norder: 1\nsummary: s\n---\n\nText.\n"})
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"build", "--content", filepath.Join(dir, "content"),
		"--out", filepath.Join(dir, "public"), "--cache", filepath.Join(dir, "cache")}, &stdout, &stderr); code != 0 {
		t.Fatalf("build: exit %d: %s", code, stderr.String())
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("after the build the memory limit is %d, want %d as before", got, before)
	}
	if got := debug.SetGCPercent(gcBefore); got != gcBefore {
		t.Errorf("after the build GOGC is %d, want %d as before", got, gcBefore)
	}
}

// TestBuildNamesAMissingFolder: a --content or --static folder that does
// not exist (a typo) is named in the error, for build and serve alike;
// build said "read content: stat .: no such file or directory".
func TestBuildNamesAMissingFolder(t *testing.T) {
	dir := t.TempDir()
	writeSite(t, dir, map[string]string{"content/01-a.md": "---\ntitle: A\norder: 1\nsummary: s\n---\n", "file.txt": "x"})
	missing := filepath.Join(dir, "contnet")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "--content", missing}, "--content " + missing + ": no such folder"},
		{[]string{"build", "--content", filepath.Join(dir, "file.txt")}, "--content " + filepath.Join(dir, "file.txt") + ": not a folder"},
		{[]string{"build", "--content", filepath.Join(dir, "content"), "--static", missing}, "--static " + missing + ": no such folder"},
		{[]string{"serve", "--content", missing, "--addr", "127.0.0.1:0"}, "--content " + missing + ": no such folder"},
	} {
		var stdout, stderr bytes.Buffer
		args := append(c.args, "--cache", filepath.Join(dir, "cache"))
		if c.args[0] == "build" {
			args = append(args, "--out", filepath.Join(dir, "public"))
		}
		code := run(context.Background(), args, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestEmbeddedContentIsAnnounced: run from inside a site's content folder
// (or anywhere without ./content), build, serve and check fall back to the
// embedded tutorial; they say so, and where the site's playdoc.toml is.
// build wrote the asyncio tutorial over the user's own folder without a word.
func TestEmbeddedContentIsAnnounced(t *testing.T) {
	dir := t.TempDir()
	writeSite(t, dir, map[string]string{
		"site/playdoc.toml":    "title = \"Mine\"\n",
		"site/content/01-a.md": "---\ntitle: A\norder: 1\nsummary: s\n---\n",
	})
	t.Chdir(filepath.Join(dir, "site", "content"))
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"build", "--out", filepath.Join(dir, "public"), "--cache", filepath.Join(dir, "cache")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("build exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"no content folder here: using the embedded tutorial",
		"this folder looks like a site's content: run playdoc in " + filepath.Join(dir, "site")} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
}
