// Package site is playdoc's static site generator: it reads the Markdown
// pages of a content folder (format: docs/contracts.md §1), checks them
// (every problem reported as file:line: message), and renders the site in
// memory with goldmark, chroma and the templ layouts of package templates.
//
// A Builder is made for repeated builds: it keeps parsed pages, highlighted
// code (also on disk, across runs) and rendered pages, and redoes only what
// changed, so that `playdoc serve` can rebuild on every save. A Site is one
// build's output: files by URL path, written to a folder atomically
// (WriteDir) or served from memory (Handler).
//
// LoadSnippets extracts the content's runnable snippets (package snippet:
// the model, the output matcher and the rewriter) for `playdoc check` and
// the playground's pre-build.
package site
