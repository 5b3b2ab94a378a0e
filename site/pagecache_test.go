package site

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"playdoc/site/corpus"
)

// cachedBuild is one `playdoc build` run with a cache folder: a new
// Builder (nothing kept in memory), BuildTo, SaveCache.
func cachedBuild(t *testing.T, cfg Config, out string) *Site {
	t.Helper()
	b := New(cfg)
	s, err := b.BuildTo(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SaveCache(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// coldTree builds cfg without any cache into a folder of its own and
// returns what it wrote: what a build with caches must write too.
func coldTree(t *testing.T, cfg Config) map[string]string {
	t.Helper()
	cfg.CacheDir = ""
	dir := filepath.Join(t.TempDir(), "public")
	if _, err := New(cfg).BuildTo(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	return readTree(t, dir)
}

// sameTree reports every difference between the output got and want.
func sameTree(t *testing.T, step string, got, want map[string]string) {
	t.Helper()
	if maps.Equal(got, want) {
		return
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: %s is missing", step, p)
		case g != want[p]:
			t.Errorf("%s: %s differs from a cold build's:\n%s", step, p, firstDiff(g, want[p]))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: %s should not be there", step, p)
		}
	}
}

// inodes returns the inode of every file under dir (slash path → inode):
// a file rewritten is a new file, one reused keeps its inode.
func inodes(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		ino, ok := fileIdentity(fi)
		if !ok {
			t.Skip("no inodes here")
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = ino
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pageFiles lists the output files of s's pages (slash paths under the
// output folder).
func pageFiles(s *Site) []string {
	var out []string
	for _, p := range s.Pages {
		out = append(out, strings.TrimPrefix(p.URL, "/")+"index.html")
	}
	return out
}

// TestPageCache builds a small site again and again with a cache folder,
// as `playdoc build` runs, changing one thing at a time: after every build
// the output must be byte for byte a cold build's, and only what changed
// may be parsed and rendered again.
func TestPageCache(t *testing.T) {
	content := archive(t, "pagecache", "site")
	cfg := fixtureConfig()
	cfg.Content = content
	cfg.CacheDir = t.TempDir()
	out := filepath.Join(t.TempDir(), "public")

	// build runs a cached build and checks its output and its counts of
	// pages parsed and rendered (-1: all of them).
	build := func(step string, parsed, rendered int) *Site {
		t.Helper()
		s := cachedBuild(t, cfg, out)
		sameTree(t, step, readTree(t, out), coldTree(t, cfg))
		sources := 0
		for _, p := range s.Pages {
			if p.hash != ([32]byte{}) {
				sources++
			}
		}
		if parsed < 0 {
			parsed = sources
		}
		if rendered < 0 {
			rendered = len(s.Pages)
		}
		if s.parsed != parsed || s.rendered != rendered {
			t.Errorf("%s: parsed %d and rendered %d of %d pages, want %d and %d", step, s.parsed, s.rendered, len(s.Pages), parsed, rendered)
		}
		return s
	}
	edit := func(file string, f func(string) string) {
		t.Helper()
		old := string(content[file].Data)
		now := f(old)
		if now == old {
			t.Fatalf("edit of %s changed nothing", file)
		}
		content[file] = &fstest.MapFile{Data: []byte(now)}
	}

	s := build("cold", -1, -1)
	for _, f := range []string{pageCacheFile, outputsFile, termsFile} {
		if _, err := os.Stat(filepath.Join(cfg.CacheDir, f)); err != nil {
			t.Fatalf("after a build: %v", err)
		}
	}
	before := inodes(t, out)
	build("unchanged", 0, 0)
	build("unchanged, staging folder reused", 0, 0)
	after := inodes(t, out)
	for _, f := range pageFiles(s) {
		if before[f] != after[f] {
			t.Errorf("unchanged: %s was written again", f)
		}
	}

	// One page's text: that page alone is parsed, rendered and written.
	edit("02-guide/02-second.md", func(s string) string { return s + "\nA new sentence about select.\n" })
	before = inodes(t, out)
	build("one page edited", 1, 1)
	after = inodes(t, out)
	for _, f := range pageFiles(s) {
		if changed := before[f] != after[f]; changed != (f == "guide/second/index.html") {
			t.Errorf("one page edited: %s written again: %v", f, changed)
		}
	}
	if !strings.Contains(readTree(t, out)["guide/second/index.html"], "A new sentence about select.") {
		t.Error("one page edited: the edit is not in its page")
	}

	// A title is in every page's sidebar: every page is rendered again,
	// their code highlighted again too when the highlight cache is lost.
	if err := os.Remove(filepath.Join(cfg.CacheDir, cacheFile)); err != nil {
		t.Fatal(err)
	}
	edit("02-guide/01-first.md", func(s string) string { return strings.Replace(s, "title: First steps", "title: Getting going", 1) })
	build("title renamed", 1, -1)
	for f, body := range readTree(t, out) {
		if strings.HasSuffix(f, "index.html") && strings.Contains(body, "First steps") {
			t.Errorf("title renamed: %s still shows the old title", f)
		}
	}

	// The configuration shapes every page.
	cfg.Footer = "Another footer."
	build("config changed", 0, -1)

	// A page removed: its output goes.
	delete(content, "02-guide/03-extra.md")
	build("page deleted", 0, -1)
	if _, err := os.Stat(filepath.Join(out, "guide", "extra")); err == nil {
		t.Error("page deleted: its output is still there")
	}

	// Output edited or removed by hand is written again.
	page := filepath.Join(out, "guide", "first", "index.html")
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, []byte(strings.Replace(string(data), "Getting going", "Getting gone!", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "more", "last", "index.html")); err != nil {
		t.Fatal(err)
	}
	build("output edited by hand", 0, 2)
	build("output edited by hand, next build", 0, 0)

	// A damaged cache file is ignored: the build is a cold one, never a
	// wrong one. Each case also edits a page, so that the search terms are
	// needed.
	damages := map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"a byte flipped": func(b []byte) []byte {
			b = slices.Clone(b)
			b[len(b)-10] ^= 0xff
			return b
		},
		"another program's": func(b []byte) []byte {
			return []byte(strings.Replace(string(b), "\n", "\nx", 1))
		},
		"empty":       func([]byte) []byte { return nil },
		"not a cache": func([]byte) []byte { return []byte("hello") },
	}
	n := 0
	for _, file := range []string{pageCacheFile, outputsFile, termsFile, cacheFile} {
		for _, name := range slices.Sorted(maps.Keys(damages)) {
			n++
			path := filepath.Join(cfg.CacheDir, file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, damages[name](data), 0o644); err != nil {
				t.Fatal(err)
			}
			edit("03-more/01-last.md", func(s string) string { return s + fmt.Sprintf("\nEdit %d.\n", n) })
			parsed, rendered := 1, 1
			switch file {
			case pageCacheFile:
				parsed, rendered = -1, -1
			case outputsFile: // nothing on disk is known: every page is written
				rendered = -1
			}
			build(file+" "+name, parsed, rendered)
		}
	}
}

// TestPageCacheCorpus checks on the synthetic corpus (pages in sections,
// code in several languages, links between pages) that builds keeping a
// page cache write what a cold build writes, byte for byte.
func TestPageCacheCorpus(t *testing.T) {
	content := fstest.MapFS{}
	shape := corpus.Shape{Pages: 120, Sections: 6}
	for name, data := range shape.Files() {
		content[name] = &fstest.MapFile{Data: data}
	}
	cfg := Config{Content: content, Static: os.DirFS(staticDir), CacheDir: t.TempDir(), BaseURL: benchURL}
	out := filepath.Join(t.TempDir(), "public")
	want := coldTree(t, cfg)
	cachedBuild(t, cfg, out)
	sameTree(t, "cold", readTree(t, out), want)
	for round := range 2 {
		s := cachedBuild(t, cfg, out)
		sameTree(t, fmt.Sprintf("warm %d", round), readTree(t, out), want)
		if s.parsed != 0 || s.rendered != 0 {
			t.Errorf("warm %d: parsed %d and rendered %d pages, want none", round, s.parsed, s.rendered)
		}
	}
	name := shape.File(60, corpus.Playdoc)
	content[name] = &fstest.MapFile{Data: append(slices.Clone(content[name].Data), "\nOne more line.\n"...)}
	s := cachedBuild(t, cfg, out)
	sameTree(t, "one page edited", readTree(t, out), coldTree(t, cfg))
	if s.parsed != 1 || s.rendered != 1 {
		t.Errorf("one page edited: parsed %d and rendered %d pages, want 1 and 1", s.parsed, s.rendered)
	}
}

// TestTermsStoreCodec: termsFile's encoding gives back what it was given,
// and refuses (without panicking) every shorter or longer copy of it.
func TestTermsStoreCodec(t *testing.T) {
	in := termsStore{
		{1}: {Terms: []string{"goroutine", "chan", "é"}, Scores: []int{10, 1, 1000}, Text: []byte(`[["","text"]]`)},
		{2}: {Terms: []string{}, Scores: []int{}, Text: []byte(`[]`)},
		{3}: {Terms: []string{strings.Repeat("long", 40)}, Scores: []int{300}, Text: []byte(strings.Repeat("x", 200))},
	}
	data, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if cap(data) != len(data) {
		t.Errorf("encoded into %d bytes of a buffer of %d: sized wrong", len(data), cap(data))
	}
	out := termsStore{}
	if err := out.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("got %d pages, want %d", len(out), len(in))
	}
	for k, want := range in {
		got := out[k]
		if got == nil || !slices.Equal(got.Terms, want.Terms) || !slices.Equal(got.Scores, want.Scores) || string(got.Text) != string(want.Text) {
			t.Errorf("%x: got %+v, want %+v", k[:1], got, want)
		}
	}
	for n := range len(data) {
		if err := (termsStore{}).UnmarshalBinary(data[:n]); err == nil {
			t.Errorf("the first %d of %d bytes decoded", n, len(data))
		}
	}
	if err := (termsStore{}).UnmarshalBinary(append(slices.Clone(data), 0)); err == nil {
		t.Error("a byte too many decoded")
	}
}
