package site

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// Helpers the site's tests share: the fixture's configuration, content
// in memory, and reading what a build wrote.

func fixtureConfig() Config {
	return Config{
		Content:     os.DirFS("testdata/fixture/content"),
		ContentName: "content",
		Static:      os.DirFS("testdata/fixture/static"),
		BaseURL:     "https://example.org/",
		SiteTitle:   "Fixture",
		Intro:       "A small site for golden tests.",
		Footer:      "Built with playdoc. Code runs in a sandboxed Go playground.",
	}
}

func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return "got:  ..." + got[max(0, i-60):min(len(got), i+80)] + "\nwant: ..." + want[max(0, i-60):min(len(want), i+80)]
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	j := strings.Index(s, to)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// memContent is a content folder in memory.
func memContent(pages map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range pages {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func page(title string, order int, body string) string {
	return "---\ntitle: " + title + "\norder: " + strconv.Itoa(order) + "\nsummary: s\n---\n" + body
}

// readTree returns the files under dir: slash path → content.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
