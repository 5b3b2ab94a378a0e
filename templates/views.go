// Package templates holds the HTML layout of the generated site as templ
// components. The site package fills the view types below; the components
// only lay them out.
package templates

import (
	"time"

	"github.com/a-h/templ"
)

// Head is what goes into a page's <head>.
type Head struct {
	Title       string // the <title>
	Description string // meta description and og:description
	Canonical   string // absolute URL; "" for pages without one (404)
	OGType      string // "website" or "article"
	SiteName    string
	CSS, JS     string // fingerprinted asset URLs
	// ThemeJS, if set, is a small script run before the first paint (it
	// applies the reader's chosen theme).
	ThemeJS string
	// LiveReload adds the live-reload script and data-livereload; only
	// `playdoc serve` sets it, never a build.
	LiveReload bool
	Lang       string // <html lang>
	// Footer is the text of the page's footer (it is part of every page,
	// so it rides along with the head's data).
	Footer string
	// Playground is the playground backend's origin, for the page
	// playground's requests; "" for the page's own origin.
	Playground string
	// Refresh, on a redirect page, is the URL it sends the reader to.
	Refresh string
	// NavData is the URL of the site's navigation file (every section's
	// pages, as JSON), which the script reads to unfold other sections.
	NavData string
}

// ReloadScript is where `playdoc serve` serves the live-reload script.
const ReloadScript = "/_playdoc/reload.js"

// NavLink is a link to a page (sidebar, previous/next, index).
type NavLink struct {
	URL     string
	Title   string
	Summary string
	Current bool
}

// NavGroup is a section in the sidebar.
type NavGroup struct {
	Title string
	URL   string // the section's own page
}

// TOCEntry is a heading in the on-page table of contents.
type TOCEntry struct {
	ID    string
	Text  string
	Level int // 2 or 3
}

// Page is a content page.
type Page struct {
	Head      Head
	SiteTitle string
	Nav       templ.Component // the sidebar's <li> items
	Heading   string          // the <h1>
	Crumbs    []NavLink       // the home page, then the section, if any
	TOC       []TOCEntry
	Body      templ.Component // rendered Markdown (trusted HTML)
	Prev      *NavLink
	Next      *NavLink
	Children  []NavLink // a section's page: its pages, listed after the text
	EditURL   string    // "Edit this page" link; "" for none
	LastMod   time.Time // "Last updated" date; zero for none
}

// Index is the home page: every page with its summary.
type Index struct {
	Head      Head
	SiteTitle string
	Intro     string
	Sidebar   templ.Component // the sidebar's <li> items
	Entries   []IndexEntry
}

// IndexEntry is a page at the root of the site, or a section with its pages.
type IndexEntry struct {
	Link  NavLink
	Pages []NavLink // a section's pages; nil for a page
}

// SearchPage is the site's index of pages, where search leads without
// JavaScript.
type SearchPage struct {
	Head      Head
	SiteTitle string
	Nav       templ.Component // the sidebar's <li> items
	Pages     []NavLink       // by title
}

// NotFound is the 404 page.
type NotFound struct {
	Head      Head
	SiteTitle string
	Nav       templ.Component // the sidebar's <li> items
}

// Play is the playground page: /play/ (an example in the editor and a menu
// of the site's runnable snippets) and /p/ID (a shared snippet).
type Play struct {
	Head      Head
	SiteTitle string
	Nav       templ.Component // the sidebar's <li> items
	Heading   string
	Intro     string
	Code      string // the code in the editor
	// Missing: /p/ID of an unknown id; the page says so, without editor.
	Missing bool
	ShareID string   // /p/ID: the id, for the links to the source
	From    *NavLink // the page the code was shared from, if any
	// FromPath is where a new share of this code says it comes from
	// (data-from): the original page, so a re-shared edit links back too.
	FromPath string
	Examples []Example // /play/ only
}

// Example is one entry of the playground's examples menu. Its code is not
// in the menu: the script reads it from the snippet's page when it is
// picked (every snippet's code in the menu was a 2.4 MB page on the
// 1000-page corpus).
type Example struct {
	Label string // "Page title: snippet name"
	From  string // the snippet's place: its page URL and #snippet-name
}
