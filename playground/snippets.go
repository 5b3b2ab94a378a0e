package playground

import (
	"context"
	"fmt"
	"io/fs"

	"playdoc/site"
)

// snippetCodes returns the source of every runnable snippet of the content.
func snippetCodes(content fs.FS) ([]string, error) {
	snips, err := site.LoadSnippets(content)
	if err != nil {
		return nil, fmt.Errorf("load snippets: %w", err)
	}
	codes := make([]string, len(snips))
	for i, sn := range snips {
		codes[i] = sn.Code
	}
	return codes, nil
}

// WarmContent pre-builds, in the background, every runnable snippet of
// the content in fsys (the folder holding the .md files): `serve` calls
// it after an edit so that the edited snippets' Run skips the compiler.
func (s *Server) WarmContent(ctx context.Context, fsys fs.FS) error {
	codes, err := snippetCodes(fsys)
	if err != nil {
		return err
	}
	s.Warm(ctx, codes)
	return nil
}
