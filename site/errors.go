package site

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in the content, located at a file and line.
type Error struct {
	File string // path of the file, as given to the builder (e.g. "content/05-gather.md")
	Line int    // 1-based; 0 when the problem concerns the whole file
	Msg  string
}

func (e Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// ErrorList is every problem found by a build, sorted by file and line.
// Builds collect all of them rather than stopping at the first.
type ErrorList []Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Sort orders the list by file, line and message and drops exact duplicates.
func (l ErrorList) sorted() ErrorList {
	out := slices.Clone(l)
	slices.SortStableFunc(out, func(a, b Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Msg, b.Msg))
	})
	return slices.Compact(out)
}

// errorf appends a located error to the list.
func (l *ErrorList) errorf(file string, line int, format string, args ...any) {
	*l = append(*l, Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err returns the sorted list as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l.sorted()
}

// plural writes n with noun, adding an s unless n is 1: "1 line", "3 lines".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
