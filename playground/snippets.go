package playground

import (
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
