package site

import (
	"context"
	"strings"
	"testing"
)

// TestReaderMarkdown: GitHub callouts (and other tools' kinds), footnotes (with ids of letters,
// digits and dashes) and definition lists.
func TestReaderMarkdown(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = memContent(map[string]string{"01-a.md": page("A", 1,
		"> [!NOTE]\n> Read **this**.\n\n> [!caution]\n> Hot.\n\n> [!NOTE] not alone on its line\n\n> [!DANGER]\n> Obsidian's kind.\n\n> [!info]\n> MkDocs' too.\n\n> [!SPARKLES]\n> No such kind.\n\nText.[^x]\n\nTerm\n: Its definition.\n\n[^x]: The note.\n")})
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := string(s.Files["/a/index.html"].Body)
	for _, w := range []string{
		"<div class=\"callout callout-note\" role=\"note\">\n<p class=\"callout-title\">Note</p>\n<p>Read <strong>this</strong>.</p>\n</div>",
		"<div class=\"callout callout-caution\" role=\"note\">\n<p class=\"callout-title\">Caution</p>\n<p>Hot.</p>\n</div>",
		"<blockquote>\n<p>[!NOTE] not alone on its line</p>",
		// Other tools' kinds: their word as the heading, the nearest
		// GitHub kind's look; an unknown one stays a quote, as on GitHub.
		"<div class=\"callout callout-caution\" role=\"note\">\n<p class=\"callout-title\">Danger</p>\n<p>Obsidian's kind.</p>\n</div>",
		"<div class=\"callout callout-note\" role=\"note\">\n<p class=\"callout-title\">Info</p>\n<p>MkDocs' too.</p>\n</div>",
		"<blockquote>\n<p>[!SPARKLES]\nNo such kind.</p>",
		`<sup id="fnref-1"><a href="#fn-1"`,
		`<li id="fn-1">`,
		"<dl>\n<dt>Term</dt>\n<dd>Its definition.</dd>\n</dl>",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	checkSiteHTML(t, s)
}

// TestPairTabs: tabs on either fence of a pair marks that pair only.
func TestPairTabs(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = memContent(map[string]string{"01-a.md": page("A", 1,
		"```python tabs\nx = 1\n```\n\n```go\npackage main\n```\n\n```python\ny = 2\n```\n\n```go tabs\npackage main\n```\n\n```python\nz = 3\n```\n\n```go\npackage main\n```\n")})
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := string(s.Files["/a/index.html"].Body)
	if n, m := strings.Count(got, "<div class=\"pair\" data-tabs>\n"), strings.Count(got, "<div class=\"pair\">\n"); n != 2 || m != 1 {
		t.Errorf("%d tabbed pairs and %d plain ones, want 2 and 1", n, m)
	}
	checkSiteHTML(t, s)
}
