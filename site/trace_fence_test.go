package site

import (
	"context"
	"strings"
	"testing"
)

// TestTraceFenceAttribute: a Go snippet's trace attribute reaches the page
// as data-trace (the playground's Trace toggle on by default) and the
// snippet as Trace; Python snippets and fences without run refuse it,
// naming file:line.
func TestTraceFenceAttribute(t *testing.T) {
	body := "Lanes.\n\n```go run name=lanes trace\npackage main\n\nfunc main() {}\n```\n\n```output\n```\n\n" +
		"```go run name=plain\npackage main\n\nfunc main() {}\n```\n\n```output\n```\n"
	cfg := fixtureConfig()
	cfg.Content = memContent(map[string]string{"01-a.md": page("A", 1, body)})
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Snippets) != 2 || !s.Snippets[0].Trace || s.Snippets[1].Trace {
		t.Fatalf("snippets %+v", s.Snippets)
	}
	html := string(s.Files["/a/index.html"].Body)
	if !strings.Contains(html, `id="snippet-lanes" data-run data-name="lanes" data-trace>`) {
		t.Errorf("no data-trace on the traced snippet:\n%s", between(html, "<main", "</main>"))
	}
	if strings.Count(html, "data-trace") != 1 {
		t.Errorf("data-trace on the other snippet too")
	}
	for src, want := range map[string]string{
		"x\n\n```python run name=p trace\nprint(1)\n```\n\n```output\n1\n```\n": `01-a.md:8: unknown code fence attribute "trace" for "python"`,
		"x\n\n```go trace\npackage main\n```\n":                                 "01-a.md:8: name=, compare=, trace and pair= need the run attribute",
	} {
		cfg.Content = memContent(map[string]string{"01-a.md": page("A", 1, src)})
		if _, err := New(cfg).Build(context.Background()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}
