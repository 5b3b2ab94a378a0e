package site

import (
	"bytes"
	"context"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"playdoc/snippet"
)

// contentDir and staticDir are the repository's tutorial and assets.
const (
	contentDir = "../content"
	staticDir  = "../templates/static"
)

// TestContentBuilds builds the real tutorial: every content mistake fails
// the test with its file:line.
func TestContentBuilds(t *testing.T) {
	s, err := New(Config{Content: os.DirFS(contentDir), ContentName: "content", Static: os.DirFS(staticDir)}).Build(context.Background())
	if err != nil {
		t.Fatalf("content does not build:\n%v", err)
	}
	if len(s.Pages) < 12 {
		t.Errorf("%d pages, want at least 12", len(s.Pages))
	}
	for _, p := range s.Pages {
		if len(p.Snippets) == 0 {
			t.Logf("%s has no runnable snippet", p.Path)
		}
	}
}

// contentSnippets parses every content page on its own, so that the Go
// checks below run even while a cross-page problem (a link) remains.
func contentSnippets(t *testing.T) []snippet.Snippet {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(contentDir, "*.md"))
	inSections, err2 := filepath.Glob(filepath.Join(contentDir, "*", "*.md"))
	files = append(files, inSections...)
	if err == nil {
		err = err2
	}
	if err != nil || len(files) == 0 {
		t.Fatalf("no content in %s (%v)", contentDir, err)
	}
	md := newMarkdown()
	var out []snippet.Snippet
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(contentDir, f)
		rel = filepath.ToSlash(rel)
		p, _ := parsePage(rel, "content/"+rel, src, md)
		for _, s := range p.Snippets {
			if s.IsGo() { // Python snippets are checked by running them
				out = append(out, *s)
			}
		}
	}
	return out
}

// TestContentSnippetsGofmt checks that every runnable Go snippet is
// formatted as gofmt would.
func TestContentSnippetsGofmt(t *testing.T) {
	for _, s := range contentSnippets(t) {
		got, err := format.Source([]byte(s.Code))
		if err != nil {
			t.Errorf("content/%s:%d: snippet %q does not parse: %v", s.File, s.Line, s.Name, err)
			continue
		}
		if !bytes.Equal(got, []byte(s.Code)) {
			t.Errorf("content/%s:%d: snippet %q is not gofmt-clean:\n%s", s.File, s.Line, s.Name, firstDiff(s.Code, string(got)))
		}
	}
}

// TestContentSnippetsVet puts every runnable snippet in a package of a
// temporary module (with the repository's requirements, so the same build
// list, offline) and runs go vet on them all: the type checker and every
// analyzer. Errors are mapped back to the content file and line. It does not
// link them too: `playdoc check` (scripts/test.sh) builds and runs every
// snippet in the sandbox, and linking ~90 programs here cost 35 s of CPU on
// a new machine (issue 8).
func TestContentSnippetsVet(t *testing.T) {
	snippets := contentSnippets(t)
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module snippets\n\ngo %s\n\nrequire (\n", mf.Go.Version)
	// Every requirement of the main module, so that the build list is the
	// main module's own (what `go mod download` fetched, the versions the
	// playground's AllowedModules pin): requiring only x/sync and sqlite
	// let MVS pick sqlite's older x/sys, which no install step downloads.
	for _, r := range mf.Require {
		fmt.Fprintf(&b, "\t%s %s\n", r.Mod.Path, r.Mod.Version)
	}
	b.WriteString(")\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, s := range snippets {
		pkg := filepath.Join(dir, "s"+strconv.Itoa(i))
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		// A snippet with Test functions and no main is a test file, as the
		// playground runs it; it gets an empty main so go build has a program.
		name := "main.go"
		if isTestSnippet(s.Code) {
			name = "main_test.go"
			if err := os.WriteFile(filepath.Join(pkg, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(pkg, name), []byte(s.Code), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// s12/main.go:7:2: msg → content/05-gather.md:LINE: snippet "x": msg
	locRE := regexp.MustCompile(`(?m)(?:\./)?s(\d+)/main(?:_test)?\.go:(\d+)(?::\d+)?: (.*)$`)
	explain := func(out []byte) string {
		var lines []string
		for _, m := range locRE.FindAllStringSubmatch(string(out), -1) {
			i, _ := strconv.Atoi(m[1])
			l, _ := strconv.Atoi(m[2])
			s := snippets[i]
			lines = append(lines, fmt.Sprintf("content/%s:%d: snippet %q: %s", s.File, s.Line+l, s.Name, m[3]))
		}
		if len(lines) == 0 {
			return string(out)
		}
		return strings.Join(lines, "\n")
	}
	run := func(args ...string) {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		// The caller's -trimpath stays (scripts/test.sh sets it for every
		// build): it changes every package's archive, and without it vet
		// would compile the standard library and modules again.
		flags := "-mod=mod"
		if slices.Contains(strings.Fields(os.Getenv("GOFLAGS")), "-trimpath") {
			flags += " -trimpath"
		}
		cmd.Env = append(os.Environ(), "GOFLAGS="+flags, "GOPROXY=off", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, explain(out))
		}
	}
	run("vet", "./...")
}

// isTestSnippet reports whether code is a test program: Test functions and
// no func main, which the playground runs with go test.
func isTestSnippet(code string) bool {
	return !regexp.MustCompile(`(?m)^func main\(\)`).MatchString(code) &&
		regexp.MustCompile(`(?m)^func Test\w*\(t \*testing\.T\)`).MatchString(code)
}
