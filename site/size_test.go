package site

import (
	"context"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"playdoc/site/corpus"
)

// excerptsShown is how many results site.js shows an excerpt for.
const excerptsShown = 5

// shapeFS is a corpus shape in memory.
func shapeFS(s corpus.Shape) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range s.Files() {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// siteBytes is the size of the files of a built site, without the
// search index (/_search/, read a shard at a time) and the /play/ page
// (every snippet as an example: it grows with the snippets, linearly),
// which it returns apart.
func siteBytes(s *Site) (pages, search, play int) {
	for p, f := range s.Files {
		switch {
		case strings.HasPrefix(p, "/_search/"):
			search += len(f.Body)
		case strings.HasPrefix(p, "/play/"):
			play += len(f.Body)
		default:
			pages += len(f.Body)
		}
	}
	return pages, search, play
}

// dirBlock is what `du -sb` counts for a folder on ext4 (bench/hugo.sh
// measures output that way): one block, for the few entries of a page's.
const dirBlock = 4096

// outputBytes is what `du -sb` reports for the site written to disk: its
// files and a block per folder (the output folder included). For the
// corpus it is ~1% under bench/hugo.sh's figure, whose pages also carry a
// last-updated date (from the files on disk).
func outputBytes(s *Site) int {
	n := dirBlock
	dirs := map[string]bool{}
	for p, f := range s.Files {
		n += len(f.Body)
		for d := path.Dir(p); d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			n += dirBlock
		}
	}
	return n
}

// TestOutputGrowsLinearly builds the corpus at 250 pages in 5 sections and
// at 1000 pages in 20 (sections of 50 pages both times): the size per page
// must stay the same (it grew with the page count when every page carried
// every page in its sidebar), and the 1000-page site's whole output (as
// bench/hugo.sh's du -sb counts it: search index, /play/ and folders too)
// must stay within issue 14's 35 MB; a one-word search query loads at most
// 150 KB.
func TestOutputGrowsLinearly(t *testing.T) {
	sizes := map[int]int{}
	for _, shape := range []corpus.Shape{{Pages: 250, Sections: 5}, {Pages: 1000, Sections: 20}} {
		s, err := New(Config{Content: shapeFS(shape), Static: os.DirFS(staticDir), BaseURL: "https://example.org/"}).Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var search, play int
		sizes[shape.Pages], search, play = siteBytes(s)
		total := outputBytes(s)
		t.Logf("search index %.1f MB, /play/ %.1f MB, whole output %.1f MB", float64(search)/1e6, float64(play)/1e6, float64(total)/1e6)
		if shape.Pages == 1000 && total > 35e6 {
			t.Errorf("1000 pages in 20 sections write %.1f MB (du -sb), want at most 35 MB", float64(total)/1e6)
		}
		// A query loads pages.json, the shard of each word and the
		// excerpt files of the first results it shows: the largest
		// shard and excerpt files bound a one-word query.
		largest, texts := 0, []int{}
		for p, f := range s.Files {
			switch {
			case strings.HasPrefix(p, "/_search/x/"):
				texts = append(texts, len(f.Body))
			case strings.HasPrefix(p, "/_search/") && p != "/_search/pages.json":
				largest = max(largest, len(f.Body))
			}
		}
		if len(texts) != shape.Pages+shape.Sections { // the pages and the sections' pages
			t.Errorf("%d excerpt files for %d pages", len(texts), shape.Pages)
		}
		slices.Sort(texts)
		excerpts := 0
		for _, n := range texts[len(texts)-excerptsShown:] {
			excerpts += n
		}
		query := len(s.Files["/_search/pages.json"].Body) + largest + excerpts
		t.Logf("search: pages.json %d bytes, largest shard %d bytes, the %d largest excerpt files %d bytes", len(s.Files["/_search/pages.json"].Body), largest, excerptsShown, excerpts)
		if shape.Pages == 1000 && query > 150_000 {
			t.Errorf("a one-word query loads up to %d bytes, want at most 150 KB", query)
		}
		t.Logf("%d pages in %d sections: %.1f MB, %.1f KB per page", shape.Pages, shape.Sections,
			float64(sizes[shape.Pages])/1e6, float64(sizes[shape.Pages])/float64(shape.Pages)/1e3)
	}
	small, large := float64(sizes[250])/250, float64(sizes[1000])/1000
	if large > small*1.1 {
		t.Errorf("bytes per page grew from %.0f (250 pages) to %.0f (1000 pages): not linear", small, large)
	}
}
