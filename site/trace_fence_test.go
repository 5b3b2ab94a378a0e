package site

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestTraceFenceAttribute: a Go snippet's trace attribute reaches the page
// as data-trace (the playground's Trace toggle on by default) and the
// snippet as Trace; Python snippets and fences without run refuse it,
// naming file:line.
func TestTraceFenceAttribute(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = archive(t, "trace-fence", "lanes")
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
	// Each case's error names its fence's line; msg follows "01-a.md:LINE: ".
	for _, c := range []struct{ dir, fence, msg string }{
		{"python-trace", "```python run name=p trace", `unknown code fence attribute "trace" for "python"`},
		{"go-trace-without-run", "```go trace", "name=, compare=, trace and pair= need the run attribute"},
	} {
		content := archive(t, "trace-fence", c.dir)
		cfg.Content = content
		want := fmt.Sprintf("01-a.md:%d: %s", lineOf(t, content, "01-a.md", c.fence), c.msg)
		if _, err := New(cfg).Build(context.Background()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", c.dir, err, want)
		}
	}
}
