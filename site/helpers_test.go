package site

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"playdoc/internal/txtarfs"
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

// archive reads testdata/cases/NAME.txtar (with txtarfs.Parse, so that
// a test's pages are plain text whose line numbers can be read off the
// archive) and returns its files under dir, with "dir/" cut from their
// names: one archive holds each case of a test as a content folder of its
// own. The archive's expectations (want/) are not used here.
func archive(t *testing.T, name, dir string) fstest.MapFS {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "cases", name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := txtarfs.Parse(data)
	if err != nil {
		t.Fatalf("%s.txtar: %v", name, err)
	}
	fsys := fstest.MapFS{}
	for p, f := range files {
		if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
			fsys[rest] = f
		}
	}
	if len(fsys) == 0 {
		t.Fatalf("%s.txtar has no files under %s/", name, dir)
	}
	return fsys
}

// lineOf returns the 1-based number of the one line of fsys's file that
// is text, so that an expected error's line comes from the fixture, not
// from counting; it fails the test unless exactly one line is.
func lineOf(t *testing.T, fsys fstest.MapFS, file, text string) int {
	t.Helper()
	f, ok := fsys[file]
	if !ok {
		t.Fatalf("no file %s", file)
	}
	n := 0
	for i, l := range strings.Split(string(f.Data), "\n") {
		if strings.TrimSuffix(l, "\r") == text {
			if n != 0 {
				t.Fatalf("%s: lines %d and %d are both %q", file, n, i+1, text)
			}
			n = i + 1
		}
	}
	if n == 0 {
		t.Fatalf("%s: no line is %q", file, text)
	}
	return n
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
