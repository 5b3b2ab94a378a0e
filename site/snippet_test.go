package site

import (
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"playdoc/snippet"
)

const snippetPage = "---\n" +
	"title: Gather\n" +
	"order: 5\n" +
	"summary: Three tasks.\n" +
	"---\n" +
	"\n" +
	"# Gather\n" +
	"\n" +
	"```go run name=seq compare=c\n" + // line 9
	"package main\n" +
	"```\n" +
	"\n" +
	"```output duration=6s tolerance=1s\n" + // line 13
	"start\n" +
	"~ task 1\n" +
	"~ task 2\n" +
	"stderr: warn {...}\n" +
	"done in {...}s\n" +
	"```\n" +
	"\n" +
	"```go run name=conc compare=c\n" + // line 21
	"package main\n" +
	"```\n" +
	"```output\n" +
	"```\n"

func TestLoadSnippets(t *testing.T) {
	fsys := fstest.MapFS{"05-gather.md": {Data: []byte(snippetPage)}}
	got, err := LoadSnippets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d snippets, want 2", len(got))
	}
	s := got[0]
	if s.File != "05-gather.md" || s.Line != 9 || s.Name != "seq" || s.Compare != "c" || s.Code != "package main\n" || s.Page != "/gather/" {
		t.Errorf("snippet 0 = %+v", s)
	}
	e := s.Expected
	if e.Line != 13 || e.Duration != 6*time.Second || e.Tolerance != time.Second || len(e.Lines) != 5 {
		t.Fatalf("expected = %+v", e)
	}
	want := []snippet.ExpectedLine{
		{Text: "start", Line: 14},
		{Text: "task 1", Group: "~", Line: 15},
		{Text: "task 2", Group: "~", Line: 16},
		{Text: "warn {...}", Stderr: true, Line: 17},
		{Text: "done in {...}s", Line: 18},
	}
	for i, w := range want {
		if e.Lines[i] != w {
			t.Errorf("line %d = %+v, want %+v", i, e.Lines[i], w)
		}
	}
	if got[1].Name != "conc" || got[1].Expected.Line != 24 || len(got[1].Expected.Lines) != 0 || got[1].Expected.Duration != 0 {
		t.Errorf("snippet 1 = %+v", got[1])
	}
}

func TestLoadSnippetsErrors(t *testing.T) {
	fsys := fstest.MapFS{"01-a.md": {Data: []byte("---\ntitle: A\norder: 1\nsummary: s\n---\n```go run name=x\npackage main\n```\n")}}
	_, err := LoadSnippets(fsys)
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Error() != `01-a.md:6: runnable snippet "x" has no `+"```"+`output block after it` {
		t.Fatalf("err = %v", err)
	}
}

// TestFormatExpectedRoundTrip: an output block written by
// snippet.FormatExpected (or rewritten in place by RewriteExpected) parses
// back to the same expectation.
func TestFormatExpectedRoundTrip(t *testing.T) {
	fsys := fstest.MapFS{"05-gather.md": {Data: []byte(snippetPage)}}
	sn, err := LoadSnippets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	got := snippet.FormatExpected(sn[0].Expected)
	want := "```output duration=6s tolerance=1s\nstart\n~ task 1\n~ task 2\nstderr: warn {...}\ndone in {...}s\n```\n"
	if got != want {
		t.Errorf("FormatExpected =\n%s\nwant\n%s", got, want)
	}
	// Rewrite the second snippet's block with new output and parse again.
	upd := sn[1].Expected.Updated([]snippet.OutputLine{{Text: "hello"}, {Text: "bad", Stderr: true}}, 1234*time.Millisecond)
	upd.Duration = 1200 * time.Millisecond
	src, err := snippet.RewriteExpected([]byte(snippetPage), sn[1].Expected.Line, upd)
	if err != nil {
		t.Fatal(err)
	}
	sn2, err := LoadSnippets(fstest.MapFS{"05-gather.md": {Data: src}})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	e := sn2[1].Expected
	if len(e.Lines) != 2 || e.Lines[0].Text != "hello" || !e.Lines[1].Stderr || e.Duration != 1200*time.Millisecond {
		t.Errorf("rewritten = %+v\n%s", e, src)
	}
	if _, err := snippet.RewriteExpected([]byte(snippetPage), 9, upd); err == nil {
		t.Error("RewriteExpected on a go fence: no error")
	}
}
