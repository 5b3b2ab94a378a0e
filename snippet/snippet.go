// Package snippet is the model of a runnable snippet of the content: its
// source, its expected output (lines, any-order groups, {...} wildcards,
// a duration with a tolerance), the matcher that compares a run with it,
// and the rewriter behind `playdoc check --update`. Format:
// docs/contracts.md §1.
//
// It is a leaf: package site extracts snippets from Markdown, and
// `playdoc check`, the dev server and the tests consume them, without
// this package knowing Markdown or HTTP.
package snippet

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Snippet is a runnable Go program of the content (a ```go run fence) with
// its expected output (the ```output fence after it).
type Snippet struct {
	File     string // content file, relative to the content root (e.g. "05-gather.md")
	Line     int    // line of the ```go run fence
	Page     string // URL path of the page (e.g. "/gather/")
	Name     string // name=ID, unique per page
	Lang     string // "go" or "python": the fence's language
	Compare  string // compare=KEY, "" if none
	Trace    bool   // trace: the page's Trace toggle is on by default (Go only)
	Race     bool   // race: run with the race detector (Go only)
	Pair     string // pair=KEY: one Python and one Go snippet of a page, run together by "Run both"; "" if none
	Code     string
	Expected Expected
}

// IsGo reports whether the snippet is a Go program (the fence's language
// is go; an empty Lang, from callers that predate Python snippets, is Go).
func (s Snippet) IsGo() bool { return s.Lang == "" || s.Lang == "go" }

// ID is the snippet's HTML id on its page.
func (s Snippet) ID() string { return "snippet-" + s.Name }

// Expected is a snippet's expected output: lines and, optionally, how long
// the run should take.
type Expected struct {
	Lines     []ExpectedLine
	Duration  time.Duration // 0: not checked
	Tolerance time.Duration // allowed deviation from Duration
	Line      int           // line of the ```output fence
	// CheckRaces (race=N on the output fence) says the race detector must
	// report data races at exactly Races distinct lines of the snippet
	// (the lines the page marks); the reports are then not output lines.
	CheckRaces bool
	Races      int
}

// ExpectedLine is one expected output line.
type ExpectedLine struct {
	Text   string // may contain the {...} wildcard
	Stderr bool
	// Group is "" for a line that must come in order; consecutive lines
	// with the same non-empty Group ("~" plus the label) may come in any
	// order among themselves.
	Group string
	Line  int // line in the content file
}

// OutputLine is one line a program printed, without its newline.
type OutputLine struct {
	Text   string
	Stderr bool
}

// MismatchKind says what a Mismatch is about.
type MismatchKind int

const (
	// LineMismatch: an output line is missing, different or extra.
	LineMismatch MismatchKind = iota
	// DurationMismatch: the run's wall time is outside the tolerance.
	DurationMismatch
)

// Mismatch is one difference between expected and actual output.
type Mismatch struct {
	Kind    MismatchKind
	Line    int // line of the expected line (or of the output fence)
	Message string
}

func (m Mismatch) String() string { return fmt.Sprintf("line %d: %s", m.Line, m.Message) }

// Wildcard matches any text inside an expected line.
const Wildcard = "{...}"

// DefaultTolerance is how far a run may deviate from its expected duration
// when the output block does not say.
const DefaultTolerance = 500 * time.Millisecond

// ParseExpectedLine reads one line of an output block, without its
// newline: "~label text", "stderr: text", or plain text. line is its line
// in the content file.
func ParseExpectedLine(s string, line int) ExpectedLine {
	el := ExpectedLine{Line: line}
	if strings.HasPrefix(s, "~") {
		label, text, _ := strings.Cut(s[1:], " ")
		el.Group = "~" + label
		s = text
	}
	if rest, ok := strings.CutPrefix(s, "stderr:"); ok {
		el.Stderr = true
		s = strings.TrimPrefix(rest, " ")
	}
	el.Text = s
	return el
}

// formatExpectedLine is the inverse of ParseExpectedLine.
func formatExpectedLine(el ExpectedLine) string {
	var b strings.Builder
	if el.Group != "" {
		b.WriteString(el.Group)
		b.WriteByte(' ')
	}
	if el.Stderr {
		b.WriteString("stderr: ")
	}
	b.WriteString(el.Text)
	return b.String()
}

// DisplayText is the expected output as shown on the page: markers stripped.
func (e Expected) DisplayText() string {
	var b strings.Builder
	for _, l := range e.Lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// matchLine reports whether got matches the pattern, where Wildcard matches
// any run of characters.
func matchLine(pattern, got string) bool {
	parts := strings.Split(pattern, Wildcard)
	if len(parts) == 1 {
		return pattern == got
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(got, first) {
		return false
	}
	got = got[len(first):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(got, p)
		if i < 0 {
			return false
		}
		got = got[i+len(p):]
	}
	return strings.HasSuffix(got, last)
}

// segment is a run of expected lines matched as a unit: one ordered line,
// or a group whose lines may come in any order.
type segment []ExpectedLine

// segments splits the expected lines of one stream into segments.
func segments(lines []ExpectedLine) []segment {
	var out []segment
	for i := 0; i < len(lines); {
		j := i + 1
		if lines[i].Group != "" {
			for j < len(lines) && lines[j].Group == lines[i].Group {
				j++
			}
		}
		out = append(out, segment(lines[i:j]))
		i = j
	}
	return out
}

// maxExtraReported caps how many unexpected extra lines a Match reports.
const maxExtraReported = 5

// Match compares a run's output and wall time with the expectation.
// Stdout and stderr are compared separately, since their relative order is
// not deterministic; within a group, lines may come in any order. An empty
// result means the run matched.
func (e Expected) Match(got []OutputLine, wall time.Duration) []Mismatch {
	var ms []Mismatch
	for _, stderr := range []bool{false, true} {
		var exp []ExpectedLine
		for _, l := range e.Lines {
			if l.Stderr == stderr {
				exp = append(exp, l)
			}
		}
		var out []string
		for _, g := range got {
			if g.Stderr == stderr {
				out = append(out, g.Text)
			}
		}
		ms = append(ms, matchStream(exp, out, stderr, e.Line)...)
	}
	if e.Duration > 0 {
		tol := e.Tolerance
		if tol == 0 {
			tol = DefaultTolerance
		}
		if d := wall - e.Duration; d > tol || -d > tol {
			ms = append(ms, Mismatch{Kind: DurationMismatch, Line: e.Line, Message: fmt.Sprintf("run took %v, want %v ± %v", wall.Round(time.Millisecond), e.Duration, tol)})
		}
	}
	return ms
}

func matchStream(exp []ExpectedLine, got []string, stderr bool, fenceLine int) []Mismatch {
	stream := "stdout"
	if stderr {
		stream = "stderr"
	}
	var ms []Mismatch
	pos := 0
	for _, seg := range segments(exp) {
		end := min(pos+len(seg), len(got))
		window := got[pos:end]
		pos = end
		if len(seg) == 1 && seg[0].Group == "" {
			if len(window) == 0 {
				ms = append(ms, Mismatch{Kind: LineMismatch, Line: seg[0].Line, Message: fmt.Sprintf("missing %s line %q", stream, seg[0].Text)})
			} else if !matchLine(seg[0].Text, window[0]) {
				ms = append(ms, Mismatch{Kind: LineMismatch, Line: seg[0].Line, Message: fmt.Sprintf("%s: want %q, got %q", stream, seg[0].Text, window[0])})
			}
			continue
		}
		ms = append(ms, matchGroup(seg, window, stream)...)
	}
	for i, g := range got[pos:] {
		if i == maxExtraReported {
			ms = append(ms, Mismatch{Kind: LineMismatch, Line: fenceLine, Message: fmt.Sprintf("... and %d more unexpected %s lines", len(got)-pos-i, stream)})
			break
		}
		ms = append(ms, Mismatch{Kind: LineMismatch, Line: fenceLine, Message: fmt.Sprintf("unexpected extra %s line %q", stream, g)})
	}
	return ms
}

// matchGroup matches an any-order group against the same number of output
// lines. Literal lines are matched before wildcard ones so that a wildcard
// does not take a line a literal needs.
func matchGroup(seg segment, window []string, stream string) []Mismatch {
	used := make([]bool, len(window))
	matched := make([]bool, len(seg))
	for _, wild := range []bool{false, true} {
		for i, el := range seg {
			if matched[i] || strings.Contains(el.Text, Wildcard) != wild {
				continue
			}
			for j, g := range window {
				if !used[j] && matchLine(el.Text, g) {
					used[j], matched[i] = true, true
					break
				}
			}
		}
	}
	var left []string
	for j, g := range window {
		if !used[j] {
			left = append(left, fmt.Sprintf("%q", g))
		}
	}
	var ms []Mismatch
	for i, el := range seg {
		if matched[i] {
			continue
		}
		msg := fmt.Sprintf("missing %s line %q (any order within its group)", stream, el.Text)
		if len(left) > 0 {
			msg += "; unmatched lines in the group: " + strings.Join(left, ", ")
		}
		ms = append(ms, Mismatch{Kind: LineMismatch, Line: el.Line, Message: msg})
	}
	return ms
}

// Updated returns the expectation rewritten to describe an actual run, for
// `playdoc check --update`: the lines are kept when they matched and
// replaced by the literal output otherwise; the duration is kept when within
// tolerance and replaced by the measured one (rounded to 100ms) otherwise.
func (e Expected) Updated(got []OutputLine, wall time.Duration) Expected {
	out := e
	ms := e.Match(got, wall)
	lineMismatch, durMismatch := false, false
	for _, m := range ms {
		switch m.Kind {
		case DurationMismatch:
			durMismatch = true
		case LineMismatch:
			lineMismatch = true
		}
	}
	if lineMismatch {
		out.Lines = make([]ExpectedLine, len(got))
		for i, g := range got {
			out.Lines[i] = ExpectedLine{Text: g.Text, Stderr: g.Stderr}
		}
	}
	if durMismatch {
		out.Duration = wall.Round(100 * time.Millisecond)
	}
	return out
}

// FormatExpected writes an output block back as Markdown, fences included:
// the inverse of parsing it.
func FormatExpected(e Expected) string {
	var b strings.Builder
	b.WriteString("```output")
	if e.Duration > 0 {
		fmt.Fprintf(&b, " duration=%v", e.Duration)
		if e.Tolerance != 0 && e.Tolerance != DefaultTolerance {
			fmt.Fprintf(&b, " tolerance=%v", e.Tolerance)
		}
	}
	if e.CheckRaces {
		fmt.Fprintf(&b, " race=%d", e.Races)
	}
	b.WriteByte('\n')
	for _, l := range e.Lines {
		b.WriteString(formatExpectedLine(l))
		b.WriteByte('\n')
	}
	b.WriteString("```\n")
	return b.String()
}

// RewriteExpected replaces the output block whose opening fence is on line
// fenceLine (1-based) of a content file's source with FormatExpected(e).
func RewriteExpected(src []byte, fenceLine int, e Expected) ([]byte, error) {
	lines := bytes.SplitAfter(src, []byte("\n"))
	i := fenceLine - 1
	if i < 0 || i >= len(lines) {
		return nil, fmt.Errorf("line %d: out of range (file has %d lines)", fenceLine, len(lines))
	}
	open := strings.TrimSpace(strings.TrimPrefix(string(lines[i]), utf8BOM))
	ticks := len(open) - len(strings.TrimLeft(open, "`"))
	if ticks < 3 || !strings.HasPrefix(strings.TrimSpace(open[ticks:]), "output") {
		return nil, fmt.Errorf("line %d: not an ```output fence: %q", fenceLine, open)
	}
	end := -1
	for j := i + 1; j < len(lines); j++ {
		l := strings.TrimSpace(string(lines[j]))
		if len(l) >= ticks && strings.Trim(l, "`") == "" {
			end = j
			break
		}
	}
	if end < 0 {
		return nil, fmt.Errorf("line %d: output fence is not closed", fenceLine)
	}
	// The author's file keeps its conventions: the block is written with
	// the line endings of its opening fence, a byte order mark before it
	// stays, and a file that ended without a newline still does.
	block := FormatExpected(e)
	if bytes.HasSuffix(lines[i], []byte("\r\n")) {
		block = strings.ReplaceAll(block, "\n", "\r\n")
	}
	if !bytes.HasSuffix(lines[end], []byte("\n")) {
		block = strings.TrimSuffix(strings.TrimSuffix(block, "\n"), "\r")
	}
	var out bytes.Buffer
	for _, l := range lines[:i] {
		out.Write(l)
	}
	if i == 0 && strings.HasPrefix(string(lines[0]), utf8BOM) {
		out.WriteString(utf8BOM)
	}
	out.WriteString(block)
	for _, l := range lines[end+1:] {
		out.Write(l)
	}
	return out.Bytes(), nil
}

// utf8BOM is the byte order mark some editors write at the start of a
// UTF-8 file.
const utf8BOM = "\ufeff"
