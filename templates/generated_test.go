package templates

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/a-h/templ/generator"
	parser "github.com/a-h/templ/parser/v2"
)

// TestGeneratedFilesAreCurrent regenerates every .templ file of this
// package in memory, the way `go tool templ generate` run at the module root
// does (parse, generate with the version header and the file's path from the
// module root, gofmt), and compares it with the committed _templ.go file.
// It replaces a separate `templ generate` step in scripts/test.sh: that
// step built the whole templ command (its language server included) before
// any test could start, about a minute on a new machine (issue 8).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	sources, err := filepath.Glob("*.templ")
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) == 0 {
		t.Fatal("no .templ files in templates/")
	}
	for _, src := range sources {
		want, err := generate(src)
		if err != nil {
			t.Fatal(err)
		}
		target := strings.TrimSuffix(src, ".templ") + "_templ.go"
		got, err := os.ReadFile(target)
		if err != nil {
			t.Fatalf("%s: %v (run `go tool templ generate` and commit the output)", target, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date with %s: run `go tool templ generate` and commit the output\n%s",
				target, src, firstDifference(got, want))
		}
	}
	generated, err := filepath.Glob("*_templ.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range generated {
		if _, err := os.Stat(strings.TrimSuffix(g, "_templ.go") + ".templ"); err != nil {
			t.Errorf("%s has no template: %v (delete it, or restore its .templ file)", g, err)
		}
	}
}

// TestGeneratedCheckCatchesEdits shows the comparison can fail: a template
// with one more element generates different code.
func TestGeneratedCheckCatchesEdits(t *testing.T) {
	src, err := os.ReadFile("layout.templ")
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(src, []byte("</footer>"), []byte("<p>edited</p></footer>"), 1)
	if bytes.Equal(edited, src) {
		t.Fatal("layout.templ has no </footer> to edit")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "layout.templ")
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := generate(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("layout_templ.go")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		t.Fatal("an edited template generated the committed code")
	}
}

// generate returns the formatted Go code templ generates for the .templ
// file at path, named in its error messages as templates/<base name> (the
// path from the module root, as the CLI run there names it).
func generate(path string) ([]byte, error) {
	tf, err := parser.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("%s: parse: %w", path, err)
	}
	var b bytes.Buffer
	name := "templates/" + filepath.Base(path)
	if _, err := generator.Generate(tf, &b, generator.WithVersion(templ.Version()), generator.WithFileName(name)); err != nil {
		return nil, fmt.Errorf("%s: generate: %w", path, err)
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: gofmt the generated code: %w", path, err)
	}
	return out, nil
}

// firstDifference shows the first line where got and want differ.
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  committed: %q\n  generated: %q", i+1, gl, wl)
		}
	}
	return "same lines, different bytes"
}
