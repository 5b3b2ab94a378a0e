package site

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"
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
	want := []ExpectedLine{
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

func lines(spec ...string) []OutputLine {
	var out []OutputLine
	for _, s := range spec {
		if rest, ok := strings.CutPrefix(s, "E:"); ok {
			out = append(out, OutputLine{Text: rest, Stderr: true})
		} else {
			out = append(out, OutputLine{Text: s})
		}
	}
	return out
}

func TestMatch(t *testing.T) {
	exp := Expected{Line: 10, Duration: 2 * time.Second, Tolerance: 500 * time.Millisecond, Lines: []ExpectedLine{
		{Text: "start", Line: 11},
		{Text: "task {...} done", Group: "~", Line: 12},
		{Text: "task 2 done", Group: "~", Line: 13},
		{Text: "task 3 done", Group: "~", Line: 14},
		{Text: "oops", Stderr: true, Line: 15},
		{Text: "elapsed: {...}", Line: 16},
	}}
	tests := []struct {
		name  string
		got   []OutputLine
		wall  time.Duration
		wantN int
		want  string // substring of the first mismatch
		line  int
	}{
		{"exact", lines("start", "task 1 done", "task 2 done", "task 3 done", "E:oops", "elapsed: 2.0s"), 2 * time.Second, 0, "", 0},
		{"any order, stderr anywhere", lines("E:oops", "start", "task 3 done", "task 2 done", "task 1 done", "elapsed: 2s"), 2300 * time.Millisecond, 0, "", 0},
		{"wildcard does not steal a literal", lines("start", "task 2 done", "task 1 done", "task 3 done", "E:oops", "elapsed: x"), 2 * time.Second, 0, "", 0},
		{"wrong ordered line", lines("begin", "task 1 done", "task 2 done", "task 3 done", "E:oops", "elapsed: 2s"), 2 * time.Second, 1, `want "start", got "begin"`, 11},
		{"group line missing", lines("start", "task 1 done", "task 3 done", "task 9 done", "E:oops", "elapsed: 2s"), 2 * time.Second, 1, `missing stdout line "task 2 done"`, 13},
		{"too slow", lines("start", "task 1 done", "task 2 done", "task 3 done", "E:oops", "elapsed: 6s"), 6 * time.Second, 1, "run took 6s, want 2s ± 500ms", 10},
		{"extra line", lines("start", "task 1 done", "task 2 done", "task 3 done", "E:oops", "elapsed: 2s", "more"), 2 * time.Second, 1, `unexpected extra stdout line "more"`, 10},
		{"missing stderr", lines("start", "task 1 done", "task 2 done", "task 3 done", "elapsed: 2s"), 2 * time.Second, 1, `missing stderr line "oops"`, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := exp.Match(tt.got, tt.wall)
			if len(ms) != tt.wantN {
				t.Fatalf("got %d mismatches %v, want %d", len(ms), ms, tt.wantN)
			}
			if tt.wantN > 0 && (!strings.Contains(ms[0].Message, tt.want) || ms[0].Line != tt.line) {
				t.Errorf("mismatch = %v, want line %d %q", ms[0], tt.line, tt.want)
			}
		})
	}
}

func TestMatchLine(t *testing.T) {
	for _, tt := range []struct {
		pat, got string
		ok       bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"{...}", "", true},
		{"a{...}c", "abbbc", true},
		{"a{...}c", "ac", true},
		{"a{...}c", "abcd", false},
		{"{...}b{...}", "xxbyy", true},
		{"a{...}b{...}c", "aXbYc", true},
		{"a{...}b{...}c", "aXcYb", false},
	} {
		if got := matchLine(tt.pat, tt.got); got != tt.ok {
			t.Errorf("matchLine(%q, %q) = %v", tt.pat, tt.got, got)
		}
	}
}

func TestFormatExpectedRoundTrip(t *testing.T) {
	fsys := fstest.MapFS{"05-gather.md": {Data: []byte(snippetPage)}}
	sn, err := LoadSnippets(fsys)
	if err != nil {
		t.Fatal(err)
	}
	got := FormatExpected(sn[0].Expected)
	want := "```output duration=6s tolerance=1s\nstart\n~ task 1\n~ task 2\nstderr: warn {...}\ndone in {...}s\n```\n"
	if got != want {
		t.Errorf("FormatExpected =\n%s\nwant\n%s", got, want)
	}
	// Rewrite the second snippet's block with new output and parse again.
	upd := sn[1].Expected.Updated(lines("hello", "E:bad"), 1234*time.Millisecond)
	upd.Duration = 1200 * time.Millisecond
	src, err := RewriteExpected([]byte(snippetPage), sn[1].Expected.Line, upd)
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
	if _, err := RewriteExpected([]byte(snippetPage), 9, upd); err == nil {
		t.Error("RewriteExpected on a go fence: no error")
	}
}

func TestUpdatedKeepsMatchingExpectation(t *testing.T) {
	exp := Expected{Duration: 2 * time.Second, Tolerance: defaultTolerance, Lines: []ExpectedLine{{Text: "a {...}", Group: "~"}, {Text: "b", Group: "~"}}}
	u := exp.Updated(lines("b", "a 1"), 2100*time.Millisecond)
	if len(u.Lines) != 2 || u.Lines[0].Text != "a {...}" || u.Duration != 2*time.Second {
		t.Errorf("Updated = %+v", u)
	}
	u = exp.Updated(lines("c"), 4*time.Second)
	if len(u.Lines) != 1 || u.Lines[0].Text != "c" || u.Duration != 4*time.Second {
		t.Errorf("Updated = %+v", u)
	}
}
