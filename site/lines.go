package site

import (
	"strconv"
	"strings"
)

// codeLines is the number of lines of code: its final newline ends the
// last line rather than starting another.
func codeLines(code string) int {
	if code == "" {
		return 0
	}
	return strings.Count(strings.TrimSuffix(code, "\n"), "\n") + 1
}

// lineRangesAttr writes hl back as the ranges of its marked lines
// ("2,4-6"), for the editor's data-hl.
func lineRangesAttr(hl []bool) string {
	var parts []string
	for i := 0; i < len(hl); i++ {
		if !hl[i] {
			continue
		}
		j := i
		for j+1 < len(hl) && hl[j+1] {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(i+1))
		} else {
			parts = append(parts, strconv.Itoa(i+1)+"-"+strconv.Itoa(j+1))
		}
		i = j
	}
	return strings.Join(parts, ",")
}

// decorateLines wraps each line of highlighted code in its own element:
// <mark class="code-line code-hl"> for a line of hl (a screen reader may say
// "highlighted"), else <span class="code-line">, each starting, with linenos,
// with an empty <span class="lnum" data-n="N" aria-hidden="true">: its
// number is CSS generated content, so it is neither copied nor read.
// (Not chroma's class names line, hl and ln: its stylesheet styles them.)
// The highlighter writes flat spans, a token's newline inside its span;
// that closing tag moves before the newline so that each line is whole.
func decorateLines(html string, hl []bool, linenos bool) string {
	html = strings.ReplaceAll(html, "\n</span>", "</span>\n")
	lines := strings.SplitAfter(html, "\n")
	if len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var b strings.Builder
	b.Grow(len(html) + len(lines)*64)
	for i, l := range lines {
		tag, cls := "span", "code-line"
		if i < len(hl) && hl[i] {
			tag, cls = "mark", "code-line code-hl"
		}
		b.WriteString("<" + tag + ` class="` + cls + `">`)
		if linenos {
			b.WriteString(`<span class="lnum" data-n="` + strconv.Itoa(i+1) + `" aria-hidden="true"></span>`)
		}
		b.WriteString(l)
		b.WriteString("</" + tag + ">")
	}
	return b.String()
}
