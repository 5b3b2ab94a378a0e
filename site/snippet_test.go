package site

import (
	"errors"
	"fmt"
	"testing"
	"testing/fstest"
	"time"

	"playdoc/snippet"
)

// gatherPage is the page of two snippets (testdata/cases/snippets.txtar,
// gather/05-gather.md) and its file system.
func gatherPage(t *testing.T) (fstest.MapFS, []byte) {
	t.Helper()
	fsys := archive(t, "snippets", "gather")
	return fsys, fsys["05-gather.md"].Data
}

func TestLoadSnippets(t *testing.T) {
	fsys, _ := gatherPage(t)
	line := func(text string) int { return lineOf(t, fsys, "05-gather.md", text) }
	got, err := LoadSnippets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d snippets, want 2", len(got))
	}
	s := got[0]
	if s.File != "05-gather.md" || s.Line != line("```go run name=seq compare=c") || s.Name != "seq" || s.Compare != "c" || s.Code != "package main\n" || s.Page != "/gather/" {
		t.Errorf("snippet 0 = %+v", s)
	}
	e := s.Expected
	if e.Line != line("```output duration=6s tolerance=1s") || e.Duration != 6*time.Second || e.Tolerance != time.Second || len(e.Lines) != 5 {
		t.Fatalf("expected = %+v", e)
	}
	want := []snippet.ExpectedLine{
		{Text: "start", Line: line("start")},
		{Text: "task 1", Group: "~", Line: line("~ task 1")},
		{Text: "task 2", Group: "~", Line: line("~ task 2")},
		{Text: "warn {...}", Stderr: true, Line: line("stderr: warn {...}")},
		{Text: "done in {...}s", Line: line("done in {...}s")},
	}
	for i, w := range want {
		if e.Lines[i] != w {
			t.Errorf("line %d = %+v, want %+v", i, e.Lines[i], w)
		}
	}
	if got[1].Name != "conc" || got[1].Expected.Line != line("```output") || len(got[1].Expected.Lines) != 0 || got[1].Expected.Duration != 0 {
		t.Errorf("snippet 1 = %+v", got[1])
	}
}

func TestLoadSnippetsErrors(t *testing.T) {
	fsys := archive(t, "snippets", "no-output")
	_, err := LoadSnippets(fsys)
	want := fmt.Sprintf("01-a.md:%d: runnable snippet \"x\" has no ```output block after it", lineOf(t, fsys, "01-a.md", "```go run name=x"))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Error() != want {
		t.Fatalf("err = %v", err)
	}
}

// TestFormatExpectedRoundTrip: an output block written by
// snippet.FormatExpected (or rewritten in place by RewriteExpected) parses
// back to the same expectation.
func TestFormatExpectedRoundTrip(t *testing.T) {
	fsys, data := gatherPage(t)
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
	src, err := snippet.RewriteExpected(data, sn[1].Expected.Line, upd)
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
	if _, err := snippet.RewriteExpected(data, lineOf(t, fsys, "05-gather.md", "```go run name=seq compare=c"), upd); err == nil {
		t.Error("RewriteExpected on a go fence: no error")
	}
}
