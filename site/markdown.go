package site

import (
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// newMarkdown returns the goldmark converter of the content: GFM, heading
// ids. Raw HTML in Markdown stays escaped (the pages allow no inline script
// or style).
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
}
