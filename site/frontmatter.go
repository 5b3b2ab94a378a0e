package site

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"
)

// frontMatter holds the keys a page may set, and the file lines of those
// that later checks name.
type frontMatter struct {
	Title       string
	Order       int
	Summary     string
	Slug        string
	Lastmod     string
	lastmodLine int
}

// frontMatterKeys are the keys front matter may have.
const frontMatterKeys = "title, order, summary, slug, lastmod, aliases"

// yamlLineRE finds the line number in go-yaml's error messages.
var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// parseFrontMatter splits off and decodes the front matter: YAML between
// "---" lines, or TOML between "+++" lines as Hugo sites write it. It
// returns the body and the file line where the body starts.
func parseFrontMatter(p *Page, src []byte, errs *ErrorList) (body []byte, bodyLine int) {
	first, rest, ok := bytes.Cut(src, []byte("\n"))
	delim := string(bytes.TrimRight(first, " \r"))
	if !ok || (delim != "---" && delim != "+++") {
		errs.errorf(p.Path, 1, "missing front matter: the file must start with a '---' line (YAML, or '+++' for TOML), then title, order and summary")
		return src, 1
	}
	// Find the closing line.
	off, line := len(first)+1, 2
	fmStart := off
	for {
		l, r, found := bytes.Cut(rest, []byte("\n"))
		// YAML may also end with its end-of-document line, as Pandoc
		// and Jekyll pages write it.
		if end := string(bytes.TrimRight(l, " \r")); end == delim || (delim == "---" && end == "...") {
			body, bodyLine = r, line+1
			break
		}
		if !found {
			errs.errorf(p.Path, 1, "front matter is not closed by a '%s' line", delim)
			return nil, line + 1
		}
		off += len(l) + 1
		line++
		rest = r
	}
	var fm frontMatter
	p.Aliases = nil
	seen := map[string]bool{}
	decode := decodeYAMLFrontMatter
	if delim == "+++" {
		decode = decodeTOMLFrontMatter
	}
	if !decode(p, src[fmStart:off], &fm, seen, errs) {
		return body, bodyLine
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
		if !validSlug(fm.Slug) {
			errs.errorf(p.Path, p.slugLine, "invalid slug %q (use letters, digits, '-' and '_')", fm.Slug)
		}
		p.Slug = fm.Slug
	}
	p.lastmodFM = time.Time{}
	if fm.Lastmod != "" {
		t, err := parseLastmod(fm.Lastmod)
		if err != nil {
			errs.errorf(p.Path, fm.lastmodLine, "front matter %q: %v", "lastmod", err)
		}
		p.lastmodFM = t
	}
	return body, bodyLine
}

// decodeYAMLFrontMatter decodes YAML front matter (starting at file line
// 2) into fm, p's lines and aliases, marking each key it finds in seen. It
// returns false when the YAML is malformed.
func decodeYAMLFrontMatter(p *Page, yamlSrc []byte, fm *frontMatter, seen map[string]bool, errs *ErrorList) bool {
	var root yaml.Node
	if err := yaml.Unmarshal(yamlSrc, &root); err != nil {
		msg := cleanYAMLErr(err)
		line := yamlErrLine(err, 2)
		switch {
		case strings.Contains(msg, "mapping values are not allowed"):
			msg += ` (a value containing ": " must be quoted)`
		case strings.Contains(msg, "cannot start any token") || strings.Contains(msg, "tab character"):
			msg += yamlTokenHint(yamlSrc, line-2)
		}
		errs.errorf(p.Path, line, "malformed front matter: %s", msg)
		return false
	}
	if len(root.Content) != 1 {
		return true
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		errs.errorf(p.Path, m.Line+1, "malformed front matter: want key: value lines")
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		fileLine := v.Line + 1 // the YAML starts on file line 2
		target := fm.target(p, k.Value, fileLine)
		if k.Value != "aliases" && target == nil {
			errs.errorf(p.Path, k.Line+1, "unknown front matter key %q (allowed: %s)", k.Value, frontMatterKeys)
			continue
		}
		if seen[k.Value] {
			errs.errorf(p.Path, k.Line+1, "front matter key %q given twice", k.Value)
		}
		seen[k.Value] = true
		if k.Value == "aliases" {
			p.Aliases = parseAliases(p, v, errs)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			errs.errorf(p.Path, fileLine, "front matter %q: want a single value", k.Value)
			continue
		}
		if err := v.Decode(target); err != nil {
			errs.errorf(p.Path, fileLine, "front matter %q: %s", k.Value, cleanYAMLErr(err))
		}
	}
	return true
}

// target is where the value of front matter key goes (nil for aliases and
// unknown keys); it records the lines of the keys that later checks name.
func (fm *frontMatter) target(p *Page, key string, line int) any {
	switch key {
	case "title":
		return &fm.Title
	case "order":
		p.orderLine = line
		return &fm.Order
	case "summary":
		return &fm.Summary
	case "slug":
		p.slugLine = line
		return &fm.Slug
	case "lastmod":
		fm.lastmodLine = line
		return &fm.Lastmod
	}
	return nil
}

// tomlKeyRE matches a top-level key or a table header at the start of a
// TOML line.
var tomlKeyRE = regexp.MustCompile(`^\s*(?:(\[)|["']?([A-Za-z0-9_-]+)["']?\s*=)`)

// decodeTOMLFrontMatter decodes TOML front matter (starting at file line
// 2) as decodeYAMLFrontMatter does YAML.
func decodeTOMLFrontMatter(p *Page, tomlSrc []byte, fm *frontMatter, seen map[string]bool, errs *ErrorList) bool {
	var values map[string]any
	if err := toml.Unmarshal(tomlSrc, &values); err != nil {
		line := 1
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ = de.Position()
		}
		msg := strings.TrimPrefix(err.Error(), "toml: ")
		if strings.Contains(msg, "at start of value") {
			msg += ` (a text value must be quoted: key = "text")`
		}
		errs.errorf(p.Path, line+1, "malformed front matter: %s", msg)
		return false
	}
	// go-toml gives no positions for values: find each top-level key's
	// line; keys below a table header belong to the table.
	type key struct {
		name string
		line int
	}
	var keys []key
	for i, l := range strings.Split(string(tomlSrc), "\n") {
		m := tomlKeyRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if m[1] != "" {
			break
		}
		keys = append(keys, key{m[2], i + 2})
	}
	found := map[string]bool{}
	for _, k := range keys {
		found[k.name] = true
	}
	for name := range values { // a key the scan missed ("a.b = 1")
		if !found[name] {
			keys = append(keys, key{name, 1})
		}
	}
	for _, k := range keys {
		v, ok := values[k.name]
		if !ok {
			continue
		}
		seen[k.name] = true
		if k.name == "aliases" {
			p.Aliases = tomlAliases(p, v, k.line, errs)
			continue
		}
		switch t := fm.target(p, k.name, k.line).(type) {
		case nil:
			errs.errorf(p.Path, k.line, "unknown front matter key %q (allowed: %s)", k.name, frontMatterKeys)
		case *int:
			n, isInt := v.(int64)
			if !isInt {
				errs.errorf(p.Path, k.line, "front matter %q: want an integer, not %s", k.name, tomlType(v))
				continue
			}
			*t = int(n)
		case *string:
			switch d := v.(type) {
			case string:
				*t = d
			case time.Time: // lastmod = 2026-01-31T15:04:05Z
				*t = d.Format(time.RFC3339)
			case toml.LocalDate, toml.LocalDateTime:
				*t = fmt.Sprint(d)
			default:
				errs.errorf(p.Path, k.line, "front matter %q: want a string, not %s", k.name, tomlType(v))
			}
		}
	}
	return true
}

// tomlAliases reads aliases from TOML front matter: a path or an array of
// paths, on the key's line.
func tomlAliases(p *Page, v any, line int, errs *ErrorList) []Alias {
	items := []any{v}
	if list, ok := v.([]any); ok {
		items = list
	}
	var out []Alias
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			errs.errorf(p.Path, line, "front matter \"aliases\": want URL paths such as /old-page/")
			continue
		}
		if a, ok := checkAlias(p, s, line, errs); ok {
			out = append(out, a)
		}
	}
	return out
}

// tomlType names the TOML type of a decoded value for an error message.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date"
}

// yamlTokenHint says what to do about a character YAML cannot start a
// token with, on line i (0-based) of the YAML: a tab in the indentation,
// or a value starting with a backtick (a command quoted as code), @ or %.
func yamlTokenHint(src []byte, i int) string {
	lines := strings.Split(string(src), "\n")
	if i < 0 || i >= len(lines) {
		return ""
	}
	l := lines[i]
	if strings.Contains(l[:len(l)-len(strings.TrimLeft(l, " \t"))], "\t") {
		return " (YAML indents with spaces, not tabs)"
	}
	if _, v, ok := strings.Cut(l, ":"); ok {
		if v = strings.TrimSpace(v); v != "" && strings.ContainsRune("`@%", rune(v[0])) {
			return " (a value starting with `, @ or % must be quoted)"
		}
	}
	return ""
}

// yamlErrLine extracts the YAML line of a go-yaml error and maps it to a
// file line; the YAML text starts at file line fmLine. go-yaml leaves the
// line out of an error on the first line.
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
	return fmLine
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
		if a, ok := checkAlias(p, it.Value, line, errs); ok {
			out = append(out, a)
		}
	}
	return out
}

// checkAlias checks one alias, given on line: an absolute path without a
// scheme, query or fragment.
func checkAlias(p *Page, path string, line int, errs *ErrorList) (Alias, bool) {
	a := strings.TrimSpace(path)
	if !strings.HasPrefix(a, "/") || strings.HasPrefix(a, "//") || strings.ContainsAny(a, "?#\"<> ") {
		errs.errorf(p.Path, line, "front matter \"aliases\": %q is not a URL path such as /old-page/", a)
		return Alias{}, false
	}
	return Alias{Path: a, Line: line}, true
}
