package site

import (
	"context"
	"errors"
	"io/fs"

	"playdoc/snippet"
)

// LoadSnippets returns every runnable snippet of the content in fsys, in
// page order then document order. Content errors are returned as an
// ErrorList (all of them), with file names relative to fsys.
func LoadSnippets(fsys fs.FS) ([]snippet.Snippet, error) {
	ld, err := New(Config{Content: fsys}).load(context.Background(), false, nil)
	if err != nil {
		return nil, err
	}
	var out []snippet.Snippet
	for _, p := range ld.pages {
		for _, s := range p.Snippets {
			out = append(out, *s)
		}
	}
	return out, nil
}

// errNoContent reports a content folder with no pages.
var errNoContent = errors.New("no Markdown pages (*.md) found")
