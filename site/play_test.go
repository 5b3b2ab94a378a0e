package site

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestPlayPages: /play/ offers every runnable snippet in its menu, and a
// shared snippet's page shows its code (escaped) in the playground figure,
// links back to the page it came from, and says so when the id is unknown.
func TestPlayPages(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = memContent(map[string]string{
		"01-a.md": page("Page A", 1, "```go run name=hello\npackage main\n\nfunc main() { println(\"a\") }\n```\n\n```output\nstderr: a\n```\n"),
		"02-b.md": page("Page B", 2, "Text.\n"),
	})
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	play, ok := s.Files[PlayPath+"index.html"]
	if !ok {
		t.Fatal("no /play/ page")
	}
	body := string(play.Body)
	for _, want := range []string{`<select id="play-example">`, `data-from="/a/#snippet-hello"`, `>Page A: hello</option>`,
		`id="snippet-play" data-run data-name="play"`, "Hello, playground"} {
		if !strings.Contains(body, want) {
			t.Errorf("/play/ lacks %q", want)
		}
	}
	// The menu names the examples; their code is read from their pages.
	if strings.Contains(body, "println(") {
		t.Error("/play/ carries an example's code; the menu should only say where it is")
	}

	var buf bytes.Buffer
	code := "package main\n\nfunc main() { println(\"<b>x</b>\") }\n"
	if err := s.WriteShared(context.Background(), &buf, &Shared{ID: "abcdefghijk", Code: []byte(code), Origin: "/a/#snippet-hello"}); err != nil {
		t.Fatal(err)
	}
	body = buf.String()
	for _, want := range []string{`<title>Shared code abcdefghijk`, `Shared from <a href="/a/#snippet-hello">Page A</a>`,
		`data-from="/a/#snippet-hello"`, `&lt;b&gt;x&lt;/b&gt;`, `href="/p/abcdefghijk.go"`, `<link rel="stylesheet" href="/assets/app.`} {
		if !strings.Contains(body, want) {
			t.Errorf("shared page lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>x</b>") || strings.Contains(body, "play-example") || strings.Contains(body, "<style") {
		t.Error("shared page: unescaped code, an examples menu or an inline style")
	}

	// An origin that is no page of the site: no link back.
	buf.Reset()
	if err := s.WriteShared(context.Background(), &buf, &Shared{ID: "abcdefghijk", Code: []byte(code), Origin: "/play/#snippet-play"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Shared from") {
		t.Error("a link back to a page that does not exist")
	}

	buf.Reset()
	if err := s.WriteShared(context.Background(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	if body := buf.String(); !strings.Contains(body, "<h1>Snippet not found</h1>") || strings.Contains(body, "data-run") {
		t.Errorf("unknown id page: %s", body)
	}
}
