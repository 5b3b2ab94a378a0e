package snippet

import (
	"strings"
	"testing"
	"time"
)

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

func TestUpdatedKeepsMatchingExpectation(t *testing.T) {
	exp := Expected{Duration: 2 * time.Second, Tolerance: DefaultTolerance, Lines: []ExpectedLine{{Text: "a {...}", Group: "~"}, {Text: "b", Group: "~"}}}
	u := exp.Updated(lines("b", "a 1"), 2100*time.Millisecond)
	if len(u.Lines) != 2 || u.Lines[0].Text != "a {...}" || u.Duration != 2*time.Second {
		t.Errorf("Updated = %+v", u)
	}
	u = exp.Updated(lines("c"), 4*time.Second)
	if len(u.Lines) != 1 || u.Lines[0].Text != "c" || u.Duration != 4*time.Second {
		t.Errorf("Updated = %+v", u)
	}
}

func TestMismatchKind(t *testing.T) {
	exp := Expected{Line: 3, Duration: time.Second, Tolerance: 100 * time.Millisecond, Lines: []ExpectedLine{{Text: "a", Line: 4}}}
	ms := exp.Match(lines("b"), 2*time.Second)
	if len(ms) != 2 || ms[0].Kind != LineMismatch || ms[1].Kind != DurationMismatch {
		t.Fatalf("mismatches %+v, want one line then one duration mismatch", ms)
	}
	// A line mismatch alone: Updated rewrites the lines and keeps the
	// duration.
	exp = Expected{Duration: time.Second, Tolerance: DefaultTolerance, Lines: []ExpectedLine{{Text: "run took"}}}
	u := exp.Updated(lines("run took 9s"), time.Second)
	if len(u.Lines) != 1 || u.Lines[0].Text != "run took 9s" || u.Duration != time.Second {
		t.Errorf("Updated = %+v", u)
	}
}

// TestFormatExpected writes an output block with every kind of line, and
// a duration whose tolerance is left out when it is the default.
func TestFormatExpected(t *testing.T) {
	e := Expected{Duration: 6 * time.Second, Tolerance: time.Second, Lines: []ExpectedLine{
		{Text: "start"}, {Text: "task 1", Group: "~"}, {Text: "task 2", Group: "~"},
		{Text: "warn {...}", Stderr: true}, {Text: "x", Group: "~b", Stderr: true},
	}}
	want := "```output duration=6s tolerance=1s\nstart\n~ task 1\n~ task 2\nstderr: warn {...}\n~b stderr: x\n```\n"
	if got := FormatExpected(e); got != want {
		t.Errorf("FormatExpected =\n%s\nwant\n%s", got, want)
	}
	for i, l := range e.Lines {
		if back := ParseExpectedLine(formatExpectedLine(l), 0); back != l {
			t.Errorf("line %d: %+v formats and parses back as %+v", i, l, back)
		}
	}
	e.Tolerance = DefaultTolerance
	if got := FormatExpected(e); !strings.HasPrefix(got, "```output duration=6s\n") {
		t.Errorf("default tolerance written: %q", got)
	}
	if got := FormatExpected(Expected{}); got != "```output\n```\n" {
		t.Errorf("empty expectation = %q", got)
	}
	// race=N stays on the fence.
	if got := FormatExpected(Expected{CheckRaces: true, Races: 1, Lines: []ExpectedLine{{Text: "{...}"}}}); got != "```output race=1\n{...}\n```\n" {
		t.Errorf("race: %q", got)
	}
}

func TestRewriteExpected(t *testing.T) {
	src := "# T\n\n```go run name=a\npackage main\n```\n\n````output\nold\n```\nstill old\n````\nafter\n"
	got, err := RewriteExpected([]byte(src), 7, Expected{Lines: []ExpectedLine{{Text: "new"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "# T\n\n```go run name=a\npackage main\n```\n\n```output\nnew\n```\nafter\n"
	if string(got) != want {
		t.Errorf("rewritten =\n%s\nwant\n%s", got, want)
	}
	for _, tt := range []struct {
		line int
		want string
	}{
		{3, "not an ```output fence"},
		{0, "out of range"},
		{99, "out of range"},
	} {
		if _, err := RewriteExpected([]byte(src), tt.line, Expected{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("line %d: err = %v, want %q", tt.line, err, tt.want)
		}
	}
	if _, err := RewriteExpected([]byte("```output\nx\n"), 1, Expected{}); err == nil || !strings.Contains(err.Error(), "not closed") {
		t.Errorf("unclosed fence: err = %v", err)
	}
}

// TestRewriteExpectedKeepsFileConventions checks that rewriting an output
// block keeps what the author's editor wrote: CRLF line endings (all of
// them, not only around the block), a byte order mark, a missing final
// newline, and LF in an LF file.
func TestRewriteExpectedKeepsFileConventions(t *testing.T) {
	exp := Expected{Lines: []ExpectedLine{{Text: "one"}, {Text: "two"}}}
	for _, tt := range []struct {
		name string
		src  string
		line int
		want string
	}{
		{"LF", "a\n```output\nold\n```\nb\n", 2, "a\n```output\none\ntwo\n```\nb\n"},
		{"CRLF", "\ufeff---\r\nt: x\r\n---\r\n```output\r\nold\r\n```\r\nb\r\n", 4,
			"\ufeff---\r\nt: x\r\n---\r\n```output\r\none\r\ntwo\r\n```\r\nb\r\n"},
		{"CRLF, last line without newline", "a\r\n```output\r\nold\r\n```", 2, "a\r\n```output\r\none\r\ntwo\r\n```"},
		{"LF, last line without newline", "a\n```output\n```", 2, "a\n```output\none\ntwo\n```"},
		{"BOM right before the fence", "\ufeff```output\nold\n```\n", 1, "\ufeff```output\none\ntwo\n```\n"},
	} {
		got, err := RewriteExpected([]byte(tt.src), tt.line, exp)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%s: rewritten = %q, want %q", tt.name, got, tt.want)
		}
		if strings.Contains(tt.src, "\r\n") && strings.Count(string(got), "\n") != strings.Count(string(got), "\r\n") {
			t.Errorf("%s: mixed line endings in %q", tt.name, got)
		}
	}
}
