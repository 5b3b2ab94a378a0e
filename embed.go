// Package playdoc holds the files that the playdoc binary carries inside it,
// so that `playdoc serve` works with no files and no configuration: the
// tutorial's content and the site's static assets.
package playdoc

import "embed"

// Content is the tutorial shipped with playdoc (the content/ folder).
//
//go:embed all:content
var Content embed.FS

// Config is the tutorial's site configuration (playdoc.toml).
//
//go:embed playdoc.toml
var Config []byte

// Static holds the site's CSS and JavaScript (templates/static/).
//
//go:embed templates/static
var Static embed.FS
