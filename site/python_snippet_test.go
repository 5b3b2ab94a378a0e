package site

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestPythonRunSnippets builds a page whose Python side is runnable: the
// snippet is Python with its own expected output, the page marks it
// data-lang="python" for the page's Run, and the pair with the Go program
// after it still forms. Attributes that need run are refused on Python as
// on Go, with file:line.
func TestPythonRunSnippets(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = archive(t, "python-snippets", "compare")
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Snippets) != 2 || s.Snippets[0].Lang != "python" || s.Snippets[0].IsGo() || !s.Snippets[1].IsGo() {
		t.Fatalf("snippets %+v", s.Snippets)
	}
	if got := s.Snippets[0].Expected.Lines; len(got) != 1 || got[0].Text != "hi" {
		t.Errorf("python expected output %+v", got)
	}
	html := string(s.Files["/a/index.html"].Body)
	if !strings.Contains(html, `id="snippet-py-gather" data-run data-name="py-gather" data-lang="python"`) {
		t.Errorf("the python snippet is not marked runnable python:\n%s", between(html, "<main", "</main>"))
	}
	if strings.Contains(html, `id="snippet-go-gather" data-run data-name="go-gather" data-lang`) {
		t.Error("the go snippet carries data-lang")
	}
	if !strings.Contains(html, `<div class="pair">`) {
		t.Error("the python/go pair did not form")
	}

	// pair=: both snippets carry data-pair, for the page's Run both.
	cfg.Content = archive(t, "python-snippets", "pair")
	s, err = New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	html = string(s.Files["/a/index.html"].Body)
	for _, want := range []string{`id="snippet-py-gather" data-run data-name="py-gather" data-lang="python" data-pair="g"`, `id="snippet-go-gather" data-run data-name="go-gather" data-pair="g"`} {
		if !strings.Contains(html, want) {
			t.Errorf("no %s in:\n%s", want, between(html, "<main", "</main>"))
		}
	}

	noRun := archive(t, "python-snippets", "name-without-run")
	cfg.Content = noRun
	_, err = New(cfg).Build(context.Background())
	want := fmt.Sprintf("01-a.md:%d: name=, compare=, trace and pair= need the run attribute (```python run name=ID)", lineOf(t, noRun, "01-a.md", "```python name=x"))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("python name= without run: %v", err)
	}
}
