package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"playdoc/site"
	"playdoc/snippet"
)

// TestNew writes a new site, builds it with `playdoc build` from its
// folder as a user would, runs its program and compares the output with
// the recorded one, and serves it with `playdoc serve`.
func TestNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my-docs")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"new", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("new: exit %d: %s", code, stderr.String())
	}
	for _, w := range []string{"cd " + dir, "playdoc serve", "playdoc check", "playdoc build"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("next steps lack %q:\n%s", w, stdout.String())
		}
	}
	if code := run(context.Background(), []string{"new", dir}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "is not empty") {
		t.Errorf("new into a non-empty folder: exit %d, %s", code, stderr.String())
	}

	t.Chdir(dir)
	// Built twice: the second build replaces the first (the new site has
	// no base URL, so no sitemap.xml).
	for i := range 2 {
		stderr.Reset()
		if code := run(context.Background(), []string{"build"}, io.Discard, &stderr); code != 0 {
			t.Fatalf("build %d of the new site: exit %d: %s", i+1, code, stderr.String())
		}
	}
	index, err := os.ReadFile(filepath.Join("public", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), "<h1>My docs</h1>") || !strings.Contains(string(index), `href="/first-program/"`) {
		t.Errorf("index of the new site:\n%s", index)
	}
	page, err := os.ReadFile(filepath.Join("public", "first-program", "index.html"))
	if err != nil || !strings.Contains(string(page), `data-name="hello"`) {
		t.Errorf("the runnable program is not on its page (%v)", err)
	}

	// The recorded output is what the program prints.
	snips, err := site.LoadSnippets(os.DirFS("content"))
	if err != nil || len(snips) != 1 {
		t.Fatalf("snippets %v, %v", snips, err)
	}
	prog := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(prog, []byte(snips[0].Code), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command("go", "run", prog)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run: %v", err)
	}
	var got []snippet.OutputLine
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		got = append(got, snippet.OutputLine{Text: l})
	}
	exp := snips[0].Expected
	exp.Duration = 0 // go run's compile time is in the wall time here
	if ms := exp.Match(got, time.Since(start)); len(ms) > 0 {
		t.Errorf("output differs from the recorded one: %v", ms)
	}

	// playdoc serve runs it at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--no-playground"}, w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no URL: %v", err)
	}
	go io.Copy(io.Discard, r)
	base := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "playdoc serve: ")), "/")
	if body := getOK(t, base+"/welcome/", 30*time.Second); !strings.Contains(body, "My docs") {
		t.Errorf("served /welcome/ lacks the site's title")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exit %d", code)
	}
}
