package site

import (
	"strings"
)

// Themes: the stylesheets write their dark (and light) rules inside
// @media (prefers-color-scheme: …) blocks. For the reader's theme switch
// (html[data-theme=light|dark], set before the first paint by theme.js),
// themeable rewrites each such block twice: inside the media query, for
// pages that follow the system, each rule applies unless the reader chose
// the other theme; outside it, each rule applies when the reader chose
// this theme.
func themeable(css string) string {
	var out strings.Builder
	out.Grow(len(css) * 2)
	const open = "@media (prefers-color-scheme: "
	for {
		i := strings.Index(css, open)
		if i < 0 {
			out.WriteString(css)
			break
		}
		out.WriteString(css[:i])
		rest := css[i+len(open):]
		scheme, after, ok := strings.Cut(rest, ")")
		brace := strings.IndexByte(after, '{')
		if !ok || (scheme != "dark" && scheme != "light") || brace < 0 || strings.TrimSpace(after[:brace]) != "" {
			out.WriteString(open)
			css = rest
			continue
		}
		body := after[brace+1:]
		end := matchingBrace(body)
		if end < 0 {
			out.WriteString(css[i:])
			break
		}
		inner := body[:end]
		other := map[string]string{"dark": "light", "light": "dark"}[scheme]
		out.WriteString(open + scheme + ") {\n")
		out.WriteString(prefixRules(inner, `:root:not([data-theme="`+other+`"])`))
		out.WriteString("}\n")
		out.WriteString(prefixRules(inner, `:root[data-theme="`+scheme+`"]`))
		css = body[end+1:]
	}
	out.WriteString("\n:root[data-theme=\"light\"] { color-scheme: light; }\n:root[data-theme=\"dark\"] { color-scheme: dark; }\n")
	return out.String()
}

// matchingBrace is the index of the '}' that closes a block whose '{' came
// just before s, or -1.
func matchingBrace(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/':
			if i+1 < len(s) && s[i+1] == '*' {
				j := strings.Index(s[i+2:], "*/")
				if j < 0 {
					return -1
				}
				i += j + 3
			}
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// prefixRules puts prefix before every selector of the flat rules in css
// (":root" and "html" selectors are replaced by it). Comments go.
func prefixRules(css, prefix string) string {
	var b strings.Builder
	for {
		// Drop comments before the next rule.
		css = strings.TrimLeft(css, " \t\r\n")
		for strings.HasPrefix(css, "/*") {
			j := strings.Index(css, "*/")
			if j < 0 {
				return b.String()
			}
			css = strings.TrimLeft(css[j+2:], " \t\r\n")
		}
		open := strings.IndexByte(css, '{')
		if open < 0 {
			return b.String()
		}
		end := matchingBrace(css[open+1:])
		if end < 0 {
			return b.String()
		}
		sel, decls := css[:open], css[open+1:open+1+end]
		css = css[open+1+end+1:]
		var sels []string
		for s := range strings.SplitSeq(sel, ",") {
			s = strings.TrimSpace(s)
			switch {
			case s == ":root" || s == "html":
				s = prefix
			case strings.HasPrefix(s, ":root"):
				s = prefix + s[len(":root"):]
			default:
				s = prefix + " " + s
			}
			sels = append(sels, s)
		}
		b.WriteString(strings.Join(sels, ", "))
		b.WriteString(" {")
		b.WriteString(decls)
		b.WriteString("}\n")
	}
}
