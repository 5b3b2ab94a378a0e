package site

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// frontMatter holds the YAML keys a page may set.
type frontMatter struct {
	Title   string
	Order   int
	Summary string
	Slug    string
	Lastmod string
}

// yamlLineRE finds the line number in go-yaml's error messages.
var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// parseFrontMatter splits off and decodes the front matter. It returns the
// body and the file line where the body starts.
func parseFrontMatter(p *Page, src []byte, errs *ErrorList) (body []byte, bodyLine int) {
	first, rest, ok := bytes.Cut(src, []byte("\n"))
	if !ok || string(bytes.TrimRight(first, " \r")) != "---" {
		errs.errorf(p.Path, 1, "missing front matter: the file must start with a '---' line, then title, order and summary")
		return src, 1
	}
	// Find the closing '---' line.
	off, line := len(first)+1, 2
	fmStart := off
	for {
		l, r, found := bytes.Cut(rest, []byte("\n"))
		if string(bytes.TrimRight(l, " \r")) == "---" {
			body, bodyLine = r, line+1
			break
		}
		if !found {
			errs.errorf(p.Path, 1, "front matter is not closed by a '---' line")
			return nil, line + 1
		}
		off += len(l) + 1
		line++
		rest = r
	}
	yamlSrc := src[fmStart:off]

	var root yaml.Node
	if err := yaml.Unmarshal(yamlSrc, &root); err != nil {
		msg := cleanYAMLErr(err)
		if strings.Contains(msg, "mapping values are not allowed") {
			msg += ` (a value containing ": " must be quoted)`
		}
		errs.errorf(p.Path, yamlErrLine(err, 2), "malformed front matter: %s", msg)
		return body, bodyLine
	}
	var fm frontMatter
	p.Aliases = nil
	lastmodLine := 0
	seen := map[string]bool{}
	if len(root.Content) == 1 {
		m := root.Content[0]
		if m.Kind != yaml.MappingNode {
			errs.errorf(p.Path, m.Line+1, "malformed front matter: want key: value lines")
			return body, bodyLine
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			fileLine := v.Line + 1 // the YAML starts on file line 2
			var target any
			switch k.Value {
			case "title":
				target = &fm.Title
			case "order":
				target = &fm.Order
				p.orderLine = fileLine
			case "summary":
				target = &fm.Summary
			case "slug":
				target = &fm.Slug
				p.slugLine = fileLine
			case "lastmod":
				target = &fm.Lastmod
				lastmodLine = fileLine
			case "aliases":
				if seen[k.Value] {
					errs.errorf(p.Path, k.Line+1, "front matter key %q given twice", k.Value)
				}
				seen[k.Value] = true
				p.Aliases = parseAliases(p, v, errs)
				continue
			default:
				errs.errorf(p.Path, k.Line+1, "unknown front matter key %q (allowed: title, order, summary, slug, lastmod, aliases)", k.Value)
				continue
			}
			if seen[k.Value] {
				errs.errorf(p.Path, k.Line+1, "front matter key %q given twice", k.Value)
			}
			seen[k.Value] = true
			if v.Kind != yaml.ScalarNode {
				errs.errorf(p.Path, fileLine, "front matter %q: want a single value", k.Value)
				continue
			}
			if err := v.Decode(target); err != nil {
				errs.errorf(p.Path, fileLine, "front matter %q: %s", k.Value, cleanYAMLErr(err))
			}
		}
	}
	for _, key := range []string{"title", "order", "summary"} {
		if !seen[key] {
			errs.errorf(p.Path, 1, "missing %s in front matter", key)
		}
	}
	if seen["title"] && strings.TrimSpace(fm.Title) == "" {
		errs.errorf(p.Path, 1, "missing title in front matter (it is empty)")
	}
	p.Title = strings.TrimSpace(fm.Title)
	p.Summary = strings.TrimSpace(fm.Summary)
	p.Order = fm.Order
	if fm.Slug != "" {
		if !validName(fm.Slug) {
			errs.errorf(p.Path, p.slugLine, "invalid slug %q (use letters, digits, '-' and '_')", fm.Slug)
		}
		p.Slug = fm.Slug
	}
	p.lastmodFM = time.Time{}
	if fm.Lastmod != "" {
		t, err := parseLastmod(fm.Lastmod)
		if err != nil {
			errs.errorf(p.Path, lastmodLine, "front matter %q: %v", "lastmod", err)
		}
		p.lastmodFM = t
	}
	return body, bodyLine
}

// yamlErrLine extracts the YAML line of a go-yaml error and maps it to a
// file line; the YAML text starts at file line fmLine.
func yamlErrLine(err error, fmLine int) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			// go-yaml reports parser errors ("did not find expected ...")
			// at the 0-based line where the construct began.
			if strings.Contains(err.Error(), "did not find expected") {
				n++
			}
			return n + fmLine - 1
		}
	}
	return 1
}

// cleanYAMLErr drops go-yaml's prefixes and its own line numbers, which
// refer to the YAML text rather than to the file.
func cleanYAMLErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n  ")
	s = strings.TrimPrefix(s, "yaml: ")
	s = yamlLineRE.ReplaceAllString(s, "")
	s = strings.TrimPrefix(strings.TrimSpace(s), ": ")
	return strings.Join(strings.Fields(s), " ")
}

// parseAliases reads front matter's aliases: the old URL paths of a page
// that moved ("/gather/"), a list or a single path. Each must be an
// absolute path without a scheme, query or fragment.
func parseAliases(p *Page, v *yaml.Node, errs *ErrorList) []Alias {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []Alias
	for _, it := range items {
		line := it.Line + 1 // the YAML starts on file line 2
		if it.Kind != yaml.ScalarNode {
			errs.errorf(p.Path, line, "front matter \"aliases\": want URL paths such as /old-page/")
			continue
		}
		a := strings.TrimSpace(it.Value)
		if !strings.HasPrefix(a, "/") || strings.HasPrefix(a, "//") || strings.ContainsAny(a, "?#\"<> ") {
			errs.errorf(p.Path, line, "front matter \"aliases\": %q is not a URL path such as /old-page/", a)
			continue
		}
		out = append(out, Alias{Path: a, Line: line})
	}
	return out
}
