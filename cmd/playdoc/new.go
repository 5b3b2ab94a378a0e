package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// newSite is the site `playdoc new` writes: a configuration, two pages and
// one runnable program with its output. "gitignore" becomes ".gitignore"
// (go:embed leaves out dot files).
//
//go:embed newsite
var newSite embed.FS

func runNew(_ context.Context, e *env, args []string) error {
	fset := newFlagSet(e, "new")
	title := fset.String("title", "", "the site's title (default: from the folder's name)")
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: playdoc new [--title T] DIR")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fset.NArg() != 1 {
		fset.Usage()
		return errUsage
	}
	dir := fset.Arg(0)
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: playdoc new writes a site only into a new or empty folder", dir)
	}
	if *title == "" {
		*title = titleFromDir(dir)
	}
	root, err := fs.Sub(newSite, "newsite")
	if err != nil {
		return fmt.Errorf("embedded site: %w", err)
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if p == "gitignore" {
			target = filepath.Join(dir, ".gitignore")
		}
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		if p == "playdoc.toml" {
			data = []byte(strings.ReplaceAll(string(data), "{{TITLE}}", tomlEscape(*title)))
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	fmt.Fprintf(e.stdout, `Wrote a new site into %[1]s: playdoc.toml, content/01-welcome.md, content/02-first-program.md.

Next steps:
  cd %[1]s
  playdoc serve          # the site with live reload and a playground on http://127.0.0.1:8080
  playdoc check          # run every snippet in the sandbox and compare with its output
  playdoc build          # the static site into public/

Add pages as content/NN-slug.md, sections as folders with an _index.md;
playdoc.toml holds the title, the base URL and the other settings.

No playdoc command on your PATH yet? Install it once from playdoc's source
folder with: go install ./cmd/playdoc   (it lands in $(go env GOPATH)/bin)
`, dir)
	return nil
}

// titleFromDir makes a title of a folder name: "my-docs" → "My docs".
func titleFromDir(dir string) string {
	base := filepath.Base(filepath.Clean(dir))
	t := strings.Join(strings.FieldsFunc(base, func(r rune) bool { return r == '-' || r == '_' || unicode.IsSpace(r) }), " ")
	if t == "" || t == "." || t == "/" {
		return "Documentation"
	}
	r := []rune(t)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// tomlEscape escapes s for a basic TOML string.
func tomlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
