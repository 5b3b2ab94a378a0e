package site

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"playdoc/site/corpus"
)

// corpusSize is the number of pages of the synthetic corpus.
const corpusSize = 1000

// corpusShape is the benchmarks' corpus: 1000 pages in 20 sections, as in
// bench/hugo.sh and issue 17.
var corpusShape = corpus.Shape{Pages: corpusSize, Sections: 20}

// benchURL is the benchmarks' base URL: with it, the output has a sitemap,
// which WriteDir looks for before it replaces a folder.
const benchURL = "https://example.org"

// reportPerPage adds the ms/page metric.
func reportPerPage(b *testing.B, pages int) {
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(pages), "ms/page")
}

// BenchmarkBuildContent is a full build of the tutorial in memory, cold:
// a new Builder and no highlight cache, as `playdoc build` the first time.
func BenchmarkBuildContent(b *testing.B) {
	cfg := Config{Content: os.DirFS(contentDir), ContentName: "content", Static: os.DirFS(staticDir)}
	var pages int
	for b.Loop() {
		s, err := New(cfg).Build(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		pages = len(s.Pages)
	}
	reportPerPage(b, pages)
}

// corpusFS returns the synthetic corpus in memory; edit changes the prose
// of every page (not the code).
func corpusFS(edit int) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range corpusShape.Files() {
		if edit > 0 && !strings.HasSuffix(name, "_index.md") && strings.HasSuffix(name, ".md") {
			data = append(data, fmt.Sprintf("\nEdited %d times: *still* the same code.\n", edit)...)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// BenchmarkBuildCorpus1000Cold builds the 1000-page corpus from scratch:
// new Builder, empty highlight cache, output written to disk.
func BenchmarkBuildCorpus1000Cold(b *testing.B) {
	fsys := corpusFS(0)
	out := filepath.Join(b.TempDir(), "public")
	syncDisks() // do not pay for the disk writes of an earlier benchmark
	for b.Loop() {
		cfg := Config{Content: fsys, Static: os.DirFS(staticDir), CacheDir: b.TempDir(), BaseURL: benchURL}
		bl := New(cfg)
		s, err := bl.Build(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		saved := make(chan error, 1)
		go func() { saved <- bl.SaveCache(s) }() // as playdoc build does
		if err := s.WriteDir(out); err != nil {
			b.Fatal(err)
		}
		if err := <-saved; err != nil {
			b.Fatal(err)
		}
	}
	reportPerPage(b, corpusSize)
}

// warmCorpus builds the corpus once to fill a highlight cache on disk, and
// returns the cache folder and four editions of the corpus whose prose
// differs from it but not the code.
func warmCorpus(b *testing.B) (cacheDir string, edits []fstest.MapFS) {
	b.Helper()
	cacheDir = b.TempDir()
	prime := New(Config{Content: corpusFS(0), Static: os.DirFS(staticDir), CacheDir: cacheDir, BaseURL: benchURL})
	s, err := prime.Build(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if err := prime.SaveCache(s); err != nil {
		b.Fatal(err)
	}
	edits = make([]fstest.MapFS, 4)
	for i := range edits {
		edits[i] = corpusFS(i + 1)
	}
	return cacheDir, edits
}

// BenchmarkBuildCorpus1000Warm rebuilds the corpus after its prose changed
// but not its code, as a new `playdoc build` run would: new Builder, the
// highlight cache loaded from disk, every page parsed and rendered again,
// output written to disk.
func BenchmarkBuildCorpus1000Warm(b *testing.B) {
	cacheDir, edits := warmCorpus(b)
	out := filepath.Join(b.TempDir(), "public")
	n := 0
	syncDisks() // do not pay for the disk writes of an earlier benchmark
	for b.Loop() {
		bl := New(Config{Content: edits[n%len(edits)], Static: os.DirFS(staticDir), CacheDir: cacheDir, BaseURL: benchURL})
		s, err := bl.Build(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if err := s.WriteDir(out); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportPerPage(b, corpusSize)
}

// BenchmarkRebuildOnePage is the serve case: one page of the 1000-page
// corpus edited, the same Builder rebuilding in memory.
func BenchmarkRebuildOnePage(b *testing.B) {
	fsys := corpusFS(0)
	bl := New(Config{Content: fsys, Static: os.DirFS(staticDir)})
	if _, err := bl.Build(context.Background()); err != nil {
		b.Fatal(err)
	}
	name := corpusShape.File(500, corpus.Playdoc)
	orig := fsys[name].Data
	n := 0
	for b.Loop() {
		n++
		fsys[name] = &fstest.MapFile{Data: append(append([]byte{}, orig...), fmt.Sprintf("\nEdit %d.\n", n)...)}
		if _, err := bl.Build(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHighlightGo(b *testing.B) {
	h := newHighlighter("")
	code := corpus.Program(7, 0)
	for b.Loop() {
		if _, err := h.highlight("go", code); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildCorpus1000WarmInMemory is the warm build without writing
// the output: what the generator itself costs (and what `playdoc serve`
// pays, since it serves from memory).
func BenchmarkBuildCorpus1000WarmInMemory(b *testing.B) {
	cacheDir, edits := warmCorpus(b)
	n := 0
	for b.Loop() {
		bl := New(Config{Content: edits[n%len(edits)], Static: os.DirFS(staticDir), CacheDir: cacheDir, BaseURL: benchURL})
		if _, err := bl.Build(context.Background()); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportPerPage(b, corpusSize)
}

// benchStream builds a corpus shape cold with BuildTo, as `playdoc build`
// does (new Builder, empty highlight cache, pages written as rendered),
// and reports ms/page and the output's MB.
func benchStream(b *testing.B, shape corpus.Shape) {
	fsys := fstest.MapFS{}
	for name, data := range shape.Files() {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	out := filepath.Join(b.TempDir(), "public")
	syncDisks()
	var s *Site
	for b.Loop() {
		bl := New(Config{Content: fsys, Static: os.DirFS(staticDir), CacheDir: b.TempDir(), BaseURL: benchURL})
		var err error
		if s, err = bl.BuildTo(context.Background(), out); err != nil {
			b.Fatal(err)
		}
		if err := bl.SaveCache(s); err != nil {
			b.Fatal(err)
		}
	}
	reportPerPage(b, shape.Pages)
	var bytes int64
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		bytes += info.Size()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(bytes)/1e6, "MB-out")
}

// BenchmarkBuildCorpus1000Stream is the cold build of the 1000-page corpus
// in 20 sections as `playdoc build` runs it (BuildTo).
func BenchmarkBuildCorpus1000Stream(b *testing.B) { benchStream(b, corpusShape) }

// BenchmarkBuildCorpus10000 is the same at 10,000 pages in 200 sections of
// 50. It takes minutes and a few hundred MB of disk, so it runs only by
// hand: PLAYDOC_BENCH_10K=1 go test -run X -bench Corpus10000 -benchtime 1x ./site
func BenchmarkBuildCorpus10000(b *testing.B) {
	if os.Getenv("PLAYDOC_BENCH_10K") == "" {
		b.Skip("set PLAYDOC_BENCH_10K=1 to run the 10,000-page benchmark")
	}
	benchStream(b, corpus.Shape{Pages: 10000, Sections: 200})
}

// BenchmarkBuildCorpus1000WarmTo is bench/hugo.sh's warm build of the
// 1000-page corpus in 20 sections: `playdoc build` run again with nothing
// changed (new Builder, BuildTo into the folder the last run wrote, its
// cache folder kept, SaveCache), as issue 17's warm figure.
func BenchmarkBuildCorpus1000WarmTo(b *testing.B) {
	fsys := corpusFS(0)
	out := filepath.Join(b.TempDir(), "public")
	cacheDir := b.TempDir()
	build := func() {
		bl := New(Config{Content: fsys, Static: os.DirFS(staticDir), CacheDir: cacheDir, BaseURL: benchURL})
		s, err := bl.BuildTo(context.Background(), out)
		if err != nil {
			b.Fatal(err)
		}
		if err := bl.SaveCache(s); err != nil {
			b.Fatal(err)
		}
	}
	build() // the cold build that fills the caches and the output
	build() // and the staging folder the next builds start from
	syncDisks()
	for b.Loop() {
		build()
	}
	reportPerPage(b, corpusSize)
}

// corpusSnippets are the code blocks of the 1000-page corpus in languages
// other than Go (the ones chroma's lexers highlight): language and code.
func corpusSnippets(b *testing.B) [][2]string {
	fence := regexp.MustCompile("(?ms)^```([a-z]+)\n(.*?)^```$")
	var out [][2]string
	for _, data := range corpusShape.Files() {
		for _, m := range fence.FindAllSubmatch(data, -1) {
			if lang := string(m[1]); lang != "go" {
				out = append(out, [2]string{lang, string(m[2])})
			}
		}
	}
	if len(out) == 0 {
		b.Fatal("no snippets in the corpus")
	}
	return out
}

// BenchmarkHighlightCorpusOthers highlights the corpus's ~3000 blocks in
// languages other than Go, as a cold build does (no cache, each block
// once): chroma's regexp lexers and writeTokens. The lexers' regexps are
// compiled in the first iteration only, as once per `playdoc build`.
func BenchmarkHighlightCorpusOthers(b *testing.B) {
	snippets := corpusSnippets(b)
	for b.Loop() {
		h := newHighlighter("")
		for _, s := range snippets {
			if _, err := h.highlight(s[0], s[1]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(snippets)), "blocks")
}
