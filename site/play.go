package site

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"playdoc/templates"
)

// PlayPath is the standalone playground page.
const PlayPath = "/play/"

// helloCode is the playground page's code before an example is picked.
const helloCode = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"Hello, playground\")\n}\n"

// playPage is what a built site keeps to render playground pages later
// (/p/ID, answered by the server, not written by the build).
type playPage struct {
	view   templates.Play
	titles map[string]string // page URL → title, for the link back
	base   string            // BaseURL
}

// renderPlay renders /play/: the playground with a menu of every runnable
// snippet of the site. A content page at /play/ wins (the author chose the
// URL); the shared snippets' pages still work.
func (b *Builder) renderPlay(ctx context.Context, site *Site, nav *navigation, a assetSet) error {
	pp := &playPage{titles: map[string]string{}, base: b.cfg.BaseURL}
	for _, p := range site.Pages {
		pp.titles[p.URL] = p.Title
	}
	pp.view = templates.Play{
		Head:      b.head(a, "Playground · "+b.cfg.SiteTitle, "Edit and run Go, and share a link to it.", PlayPath, "website"),
		SiteTitle: b.cfg.SiteTitle,
		Nav:       nav.component(nil),
		Heading:   "Playground",
		Intro:     "Edit the code, run it, and share a link to it. Your edits are kept in this browser until you press Reset.",
		Code:      helloCode,
	}
	site.play = pp
	if _, taken := site.Files[PlayPath+"index.html"]; taken {
		return nil
	}
	view := pp.view
	for _, sn := range site.Snippets {
		view.Examples = append(view.Examples, templates.Example{
			Label: pp.titles[sn.Page] + ": " + sn.Name,
			From:  sn.Page + "#" + sn.ID(),
		})
	}
	var buf bytes.Buffer
	if err := templates.PlayView(view).Render(ctx, &buf); err != nil {
		return fmt.Errorf("render %s: %w", PlayPath, err)
	}
	site.add(PlayPath+"index.html", buf.Bytes(), "")
	return nil
}

// Shared is a shared snippet, as WriteShared shows it.
type Shared struct {
	ID     string
	Code   []byte
	Origin string // the site path it was shared from ("/gather/#snippet-gather"), or ""
}

// WriteShared writes the page of a shared snippet (/p/ID) in the site's
// look: the playground page with its code and a link back to the page it
// was shared from. sh nil writes the page of an unknown id (the caller
// answers 404 with it).
func (s *Site) WriteShared(ctx context.Context, w io.Writer, sh *Shared) error {
	if s.play == nil {
		return fmt.Errorf("shared snippet page: the site has no playground page")
	}
	v := s.play.view
	v.Intro = ""
	if sh == nil {
		v.Head.Title = "Snippet not found · " + v.SiteTitle
		v.Head.Canonical = ""
		v.Heading = "Snippet not found"
		v.Missing = true
	} else {
		v.Head.Title = "Shared code " + sh.ID + " · " + v.SiteTitle
		v.Head.Description = "Go code shared from the playground; run it, edit it, share it again."
		v.Head.Canonical = s.play.base + "/p/" + sh.ID
		v.Heading = "Shared code"
		v.Code = string(sh.Code)
		v.ShareID = sh.ID
		v.FromPath = sh.Origin
		page, _, _ := strings.Cut(sh.Origin, "#")
		if title, ok := s.play.titles[page]; ok {
			v.From = &templates.NavLink{URL: sh.Origin, Title: title}
		}
	}
	if err := templates.PlayView(v).Render(ctx, w); err != nil {
		return fmt.Errorf("shared snippet page: %w", err)
	}
	return nil
}
