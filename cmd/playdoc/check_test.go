package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"playdoc/sandbox"

	"playdoc/internal/testenv"
)

// TestMain lets the sandbox re-execute the test binary as its init (the
// check test runs snippets in the real sandbox).
func TestMain(m *testing.M) {
	sandbox.Main()
	os.Exit(m.Run())
}

const checkPage = "---\ntitle: Check\norder: 1\nsummary: A page for the check test.\n---\n\n# Check\n\n" +
	"```go run name=good\npackage main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"a\")\n\tfmt.Println(\"b\")\n}\n```\n\n" +
	"```output\n~ b\n~ a\n```\n\n" +
	"```go run name=stale\npackage main\n\nimport (\n\t\"fmt\"\n\t\"time\"\n)\n\nfunc main() {\n\ttime.Sleep(300 * time.Millisecond)\n\tfmt.Println(\"new\")\n}\n```\n\n" +
	"```output duration=2s\nold\n```\n\n" +
	// Pieces of a line 60 ms apart, a \r progress update and a stderr line
	// make the lines a terminal shows (docs/contracts.md, "Lines").
	"```go run name=terminal\npackage main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"time\"\n)\n\nfunc main() {\n" +
	"\tfmt.Print(\"Loading\")\n\tfor i := 0; i < 3; i++ {\n\t\ttime.Sleep(60 * time.Millisecond)\n\t\tfmt.Print(\".\")\n\t}\n" +
	"\tfmt.Print(\" done\\n\")\n\tfmt.Print(\"progress 10%\\rprogress 100%\\n\")\n\tfmt.Fprintln(os.Stderr, \"warn\")\n}\n```\n\n" +
	"```output\nLoading... done\nprogress 100%\nstderr: warn\n```\n"

// TestCheckReportsAndUpdates runs `playdoc check` on a page with one
// matching and one stale snippet in the real sandbox: it reports the stale
// one as file:line and fails; -update rewrites its output block; then the
// check passes.
func TestCheckReportsAndUpdates(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "01-check.md")
	if err := os.WriteFile(page, []byte(checkPage), 0o644); err != nil {
		t.Fatal(err)
	}
	data := testenv.PlaygroundDataDir() // shared with the other test packages
	var lastStderr string
	check := func(args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		var out, errs bytes.Buffer
		code := run(ctx, append([]string{"check", "-content", dir, "-data", data}, args...), &out, &errs)
		if code != 0 {
			t.Logf("check %v stderr:\n%s", args, errs.String())
		}
		lastStderr = errs.String()
		return out.String(), code
	}
	began := time.Now()
	out, code := check("-retries", "2", "-retry-pause", "500ms")
	if code == 0 {
		t.Fatalf("check passed on a stale snippet:\n%s", out)
	}
	// The retries wait 500 ms and then 1 s first (a machine's pause ends).
	if d := time.Since(began); d < 1500*time.Millisecond {
		t.Errorf("check with two retries after 500 ms and 1 s took %v", d)
	}
	// A mismatch is run again (timing noise), a stale snippet every time.
	if n := strings.Count(lastStderr, "running it again"); n != 2 {
		t.Errorf("stale snippet run again %d times, want 2 (-retries 2):\n%s", n, lastStderr)
	}
	for _, want := range []string{
		page + ":40: snippet stale: stdout: want \"old\", got \"new\"",
		page + ":39: snippet stale: run took ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "snippet good") || strings.Contains(out, "snippet terminal") {
		t.Errorf("the matching snippet (order-free group) was reported:\n%s", out)
	}

	if out, code := check("-update", "-run", "stale", "-retries", "3"); code != 0 || !strings.Contains(out, "updated the output of 1 snippet") {
		t.Fatalf("check -update: %d\n%s", code, out)
	}
	src, _ := os.ReadFile(page)
	if !regexp.MustCompile("```output duration=[3-9]00ms\nnew\n```").Match(src) || !strings.Contains(string(src), "~ b\n~ a\n") {
		t.Errorf("page after -update:\n%s", src)
	}
	if out, code := check(); code != 0 || !strings.Contains(out, "ok: 3 snippets") {
		t.Errorf("check after -update: %d\n%s", code, out)
	}
}

// TestCheckTraceNeedsLanes: a snippet whose fence has trace runs traced,
// as its page runs it, and check fails when its run has no lanes (here a
// test program, which is never traced), naming the fence's line.
func TestCheckTraceNeedsLanes(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "01-trace.md")
	src := "---\ntitle: Trace\norder: 1\nsummary: A page for the trace check.\n---\n\n# Trace\n\n" +
		"```go run name=traced trace\npackage main\n\nimport (\n\t\"fmt\"\n\t\"sync\"\n)\n\nfunc main() {\n\tvar wg sync.WaitGroup\n\twg.Go(func() { fmt.Println(\"a\") })\n\twg.Wait()\n}\n```\n\n" +
		"```output\na\n```\n\n" +
		"```go run name=untraceable trace\npackage main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n```\n\n" +
		"```output\n=== RUN   TestX\n--- PASS: TestX ({...}s)\nPASS\n```\n"
	if err := os.WriteFile(page, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var out, errs bytes.Buffer
	code := run(ctx, []string{"check", "-content", dir, "-data", testenv.PlaygroundDataDir(), "-retries", "0"}, &out, &errs)
	want := page + ":28: snippet untraceable: trace: the run has no goroutine lanes: a test program is not traced"
	if code == 0 || !strings.Contains(out.String(), want) {
		t.Errorf("check: %d, want a failure with %q:\n%s\nstderr:\n%s", code, want, out.String(), errs.String())
	}
	if strings.Contains(out.String(), "snippet traced") {
		t.Errorf("the traced program with lanes was reported:\n%s", out.String())
	}
}
