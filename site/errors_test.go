package site

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestContentErrors checks that each kind of content mistake is reported
// as file:line: message, and that all of them are reported at once.
func TestContentErrors(t *testing.T) {
	ok := func(title string, order int) string { return page(title, order, "Text.\n") }
	tests := []struct {
		name  string
		pages map[string]string
		want  []string // every error, in order
	}{
		{"malformed front matter", map[string]string{
			"01-a.md": "---\ntitle: A\norder: [1\nsummary: s\n---\nText.\n",
		}, []string{"content/01-a.md:3: malformed front matter: did not find expected ',' or ']'"}},
		{"unquoted colon in front matter", map[string]string{
			"01-a.md": "---\ntitle: A\norder: 1\nsummary: one: two\n---\n",
		}, []string{`content/01-a.md:4: malformed front matter: mapping values are not allowed in this context (a value containing ": " must be quoted)`}},
		{"no front matter", map[string]string{
			"01-a.md": "# Title\n",
		}, []string{"content/01-a.md:1: missing front matter: the file must start with a '---' line, then title, order and summary"}},
		{"unclosed flow sequence further down", map[string]string{
			"01-a.md": "---\ntitle: A\nsummary: s\nx: y\norder: [1\n---\n",
		}, []string{"content/01-a.md:5: malformed front matter: did not find expected ',' or ']'"}},
		{"unclosed front matter", map[string]string{
			"01-a.md": "---\ntitle: A\n",
		}, []string{"content/01-a.md:1: front matter is not closed by a '---' line"}},
		{"wrong type and unknown key", map[string]string{
			"01-a.md": "---\ntitle: A\norder: first\nsummary: s\ntags: x\n---\n",
		}, []string{
			"content/01-a.md:3: front matter \"order\": cannot unmarshal !!str `first` into int",
			`content/01-a.md:5: unknown front matter key "tags" (allowed: title, order, summary, slug)`,
		}},
		{"missing title", map[string]string{
			"01-a.md": "---\norder: 1\nsummary: s\n---\nText.\n",
		}, []string{"content/01-a.md:1: missing title in front matter"}},
		{"empty title", map[string]string{
			"01-a.md": "---\ntitle: \"  \"\norder: 1\nsummary: s\n---\nText.\n",
		}, []string{"content/01-a.md:1: missing title in front matter (it is empty)"}},
		{"duplicate order", map[string]string{
			"01-a.md": ok("A", 1),
			"02-b.md": ok("B", 1),
		}, []string{"content/02-b.md:3: duplicate order 1 (also used by content/01-a.md)"}},
		{"duplicate slug", map[string]string{
			"01-a.md": ok("A", 1),
			"02-b.md": "---\ntitle: B\norder: 2\nsummary: s\nslug: a\n---\n",
		}, []string{`content/02-b.md:5: duplicate slug "a" (also used by content/01-a.md)`}},
		{"unknown fence attribute", map[string]string{
			"01-a.md": page("A", 1, "\n```go run name=x timeout=3s\npackage main\n```\n```output\n```\n\n```python exec\nx\n```\n"),
		}, []string{
			`content/01-a.md:7: unknown code fence attribute "timeout=3s" for "go" (allowed: run, name=ID, compare=KEY)`,
			`content/01-a.md:13: unknown code fence attribute "exec" for "python" (allowed: none)`,
		}},
		{"bad output attributes", map[string]string{
			"01-a.md": page("A", 1, "```go run name=x\npackage main\n```\n```output duration=soon tolerance=1s\n```\n"),
		}, []string{
			`content/01-a.md:9: invalid duration "soon" (want a Go duration such as 2s or 500ms)`,
			"content/01-a.md:9: tolerance= without duration=",
		}},
		{"runnable snippet without output", map[string]string{
			"01-a.md": page("A", 1, "Text.\n\n```go run name=first\npackage main\n```\n\nMore text.\n\n```output\nx\n```\n"),
		}, []string{
			"content/01-a.md:8: runnable snippet \"first\" has no ```output block after it",
			"content/01-a.md:14: output block without a ```go run block directly before it",
		}},
		{"runnable snippet without name, duplicate name", map[string]string{
			"01-a.md": page("A", 1, "```go run\npackage main\n```\n```output\n```\n```go run name=x\n```\n```output\n```\n```go run name=x\n```\n```output\n```\n"),
		}, []string{
			"content/01-a.md:6: runnable snippet needs a name (```go run name=ID)",
			`content/01-a.md:15: duplicate snippet name "x" (first used on line 11)`,
		}},
		{"broken links", map[string]string{
			"01-a.md": page("A", 1, "## Here\n\nSee [b](02-b.md), [gone](07-gone.md),\n[bad anchor](02-b.md#nowhere) and [local](#there).\n"),
			"02-b.md": page("B", 2, "## Somewhere\n\n[ok](01-a.md#here) [snippet](#snippet-s)\n\n```go run name=s\n```\n```output\n```\n"),
		}, []string{
			`content/01-a.md:8: broken link "07-gone.md": no page 07-gone.md`,
			`content/01-a.md:9: broken link "#there": 01-a.md has no heading or snippet with id "there"`,
			`content/01-a.md:9: broken link "02-b.md#nowhere": 02-b.md has no heading or snippet with id "nowhere"`,
		}},
		{"errors in several files, sorted", map[string]string{
			"02-b.md": "---\ntitle: B\norder: 2\n---\n[x](09-x.md)\n",
			"01-a.md": "---\norder: 1\nsummary: s\n---\n",
		}, []string{
			"content/01-a.md:1: missing title in front matter",
			"content/02-b.md:1: missing summary in front matter",
			`content/02-b.md:5: broken link "09-x.md": no page 09-x.md`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fixtureConfig()
			cfg.Content = memContent(tt.pages)
			_, err := New(cfg).Build(context.Background())
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			got := strings.Split(list.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestNoContent(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = memContent(nil)
	if _, err := New(cfg).Build(context.Background()); !errors.Is(err, errNoContent) {
		t.Errorf("err = %v, want %v", err, errNoContent)
	}
}
