// Package config reads a site's configuration file, playdoc.toml: what a
// site says about itself (title, description, addresses, footer) and how
// its navigation is ordered. Every key is documented in docs/contracts.md;
// an unknown key, a value of the wrong type or a malformed value is an
// error naming file:line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// FileName is the configuration file's name in a site's folder.
const FileName = "playdoc.toml"

// Site is the content of playdoc.toml.
type Site struct {
	// Title names the site: the header, the home page's <h1>, every
	// <title> ("Page · Title") and og:site_name. Required.
	Title string `toml:"title"`
	// Description is the home page's introduction and meta description.
	Description string `toml:"description"`
	// BaseURL is the absolute URL the site is published at
	// ("https://docs.example.org"), for canonical links, Open Graph and
	// the sitemap. "" leaves them out.
	BaseURL string `toml:"base_url"`
	// Language is the pages' BCP 47 language tag (<html lang>); "en" if
	// empty.
	Language string `toml:"language"`
	// Footer is the text of every page's footer.
	Footer string `toml:"footer"`
	// PlaygroundURL is where the page playground sends programs: "" for
	// the site's own origin (/api/), else the absolute URL of a `playdoc
	// playground` backend (the CSP's connect-src must then allow it).
	PlaygroundURL string `toml:"playground_url"`
	// Repository links each page to its source.
	Repository Repository `toml:"repository"`
	// Nav overrides the order of the navigation.
	Nav Nav `toml:"nav"`
	// Redirects maps old URL paths to new ones ("/gather/" =
	// "/asyncio/gather/"): the build writes a page at each old path that
	// sends the reader on.
	Redirects map[string]string `toml:"redirects"`
	// Search tunes the search index.
	Search Search `toml:"search"`

	// File is the path the configuration was read from (for errors).
	File string `toml:"-"`
	// lines are the file lines of top-level keys and tables, for errors
	// found after decoding.
	lines map[string]int
}

// Repository is where the site's sources live.
type Repository struct {
	// URL of the repository's web page ("https://github.com/org/repo").
	URL string `toml:"url"`
	// Edit is the pattern of a page's "Edit this page" link: {path} is
	// the page's file relative to the content folder
	// ("asyncio/05-gather.md"), {url} the repository URL. "" shows no link.
	Edit string `toml:"edit"`
	// ContentDir is the content folder's path inside the repository, for
	// {content} in Edit ("content" if empty).
	ContentDir string `toml:"content_dir"`
}

// Nav overrides the order of the navigation's top level.
type Nav struct {
	// Order lists top-level section and page slugs ("asyncio",
	// "using-playdoc"): those come first, in this order; the others follow
	// by their own order.
	Order []string `toml:"order"`
}

// Search tunes the search index.
type Search struct {
	// Synonyms maps a word to others that a search for it also finds
	// ("gather" = ["errgroup", "WaitGroup"]), in both directions.
	Synonyms map[string][]string `toml:"synonyms"`
}

// Error is a mistake in the configuration file, at a line (0: the file
// as a whole).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// Load reads and checks the configuration file at path. A missing file is
// an error wrapping fs.ErrNotExist, unless a YAML configuration sits where
// it was looked for: then the error says that playdoc reads TOML (a
// playdoc.yaml would otherwise be silently ignored). A path ending in
// .yaml or .yml is such an error too.
func Load(path string) (*Site, error) {
	if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
		return nil, &Error{File: path, Msg: notTOML}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		base := strings.TrimSuffix(path, filepath.Ext(path))
		for _, ext := range []string{".yaml", ".yml"} {
			if _, serr := os.Stat(base + ext); serr == nil {
				return nil, &Error{File: base + ext, Msg: notTOML}
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// notTOML explains a YAML configuration file.
const notTOML = "playdoc reads its configuration from " + FileName + " (TOML), not YAML: write the same keys there (docs/contracts.md lists them)"

// Parse decodes and checks a configuration; name is how errors name the
// file. Errors are *Error values (several joined by errors.Join).
func Parse(name string, data []byte) (*Site, error) {
	s := &Site{File: name}
	// An editor's "UTF-8 with BOM" mark is not part of the TOML.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			var errs []error
			for _, e := range strict.Errors {
				row, _ := e.Position()
				errs = append(errs, &Error{File: name, Line: row,
					Msg: fmt.Sprintf("unknown key %q (see docs/contracts.md for the keys of %s)", strings.Join(e.Key(), "."), FileName)})
			}
			return nil, errors.Join(errs...)
		case errors.As(err, &de):
			row, _ := de.Position()
			return nil, &Error{File: name, Line: row, Msg: de.Error()}
		default:
			return nil, &Error{File: name, Msg: err.Error()}
		}
	}
	s.lines = keyLines(data)
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// keyLineRE matches a key or table header at the start of a TOML line.
var keyLineRE = regexp.MustCompile(`^\s*(?:\[\s*([A-Za-z0-9_.-]+)\s*\]|"?([A-Za-z0-9_./-]+)"?\s*=)`)

// keyLines finds the line of each top-level key and table ("title",
// "repository", "repository.edit", "redirects./gather/"), so that checks
// after decoding can name it.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	table := ""
	for i, l := range strings.Split(string(data), "\n") {
		m := keyLineRE.FindStringSubmatch(l)
		switch {
		case m == nil:
		case m[1] != "":
			table = m[1]
			lines[table] = i + 1
		default:
			k := m[2]
			if table != "" {
				k = table + "." + k
			}
			if _, ok := lines[k]; !ok {
				lines[k] = i + 1
			}
		}
	}
	return lines
}

// Line is the file line of a key ("base_url", "repository.edit"), or 0.
func (s *Site) Line(key string) int { return s.lines[key] }

// langRE is a loose BCP 47 tag: "en", "pt-BR", "zh-Hant".
var langRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// check validates the values that decoding cannot.
func (s *Site) check() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: s.File, Line: s.lines[key], Msg: fmt.Sprintf(format, args...)})
	}
	s.Title = strings.TrimSpace(s.Title)
	if s.Title == "" {
		bad("title", "title is required (the site's name)")
	}
	if s.Language == "" {
		s.Language = "en"
	} else if !langRE.MatchString(s.Language) {
		bad("language", "language %q is not a language tag like en or pt-BR", s.Language)
	}
	checkURL := func(key, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key, "%s %q is not an absolute http(s) URL", key, v)
		}
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	checkURL("base_url", s.BaseURL)
	s.PlaygroundURL = strings.TrimRight(s.PlaygroundURL, "/")
	checkURL("playground_url", s.PlaygroundURL)
	s.Repository.URL = strings.TrimRight(s.Repository.URL, "/")
	checkURL("repository.url", s.Repository.URL)
	if e := s.Repository.Edit; e != "" {
		if !strings.Contains(e, "{path}") {
			bad("repository.edit", "repository.edit %q lacks {path} (the page's file)", e)
		}
		if strings.Contains(e, "{url}") && s.Repository.URL == "" {
			bad("repository.edit", "repository.edit uses {url} but repository.url is not set")
		}
		checkURL("repository.edit", s.EditURL("x.md"))
	}
	if s.Repository.ContentDir == "" {
		s.Repository.ContentDir = "content"
	}
	seen := map[string]bool{}
	for _, o := range s.Nav.Order {
		if seen[o] {
			bad("nav.order", "nav.order lists %q twice", o)
		}
		seen[o] = true
	}
	for from, to := range s.Redirects {
		if !strings.HasPrefix(from, "/") || !strings.HasPrefix(to, "/") && !strings.HasPrefix(to, "http") {
			bad("redirects."+from, "redirect %q = %q: both must be URL paths starting with /", from, to)
		}
	}
	return errors.Join(errs...)
}

// EditURL is the "Edit this page" link of a content file (relative to the
// content folder), or "" when the site has none.
func (s *Site) EditURL(file string) string {
	if s.Repository.Edit == "" {
		return ""
	}
	return strings.NewReplacer("{url}", s.Repository.URL, "{content}", s.Repository.ContentDir,
		"{path}", file).Replace(s.Repository.Edit)
}
