package site

import (
	"context"
	"os"
	"testing"
	"testing/fstest"

	"playdoc/site/corpus"
)

// shapeFS is a corpus shape in memory.
func shapeFS(s corpus.Shape) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range s.Files() {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// siteBytes is the size of every file of a built site.
func siteBytes(s *Site) int {
	n := 0
	for _, f := range s.Files {
		n += len(f.Body)
	}
	return n
}

// TestOutputGrowsLinearly builds the corpus at 250 pages in 5 sections and
// at 1000 pages in 20 (sections of 50 pages both times): the size per page
// must stay the same (it grew with the page count when every page carried
// every page in its sidebar), and the 1000-page site must stay within
// issue 14's 35 MB.
func TestOutputGrowsLinearly(t *testing.T) {
	sizes := map[int]int{}
	for _, shape := range []corpus.Shape{{Pages: 250, Sections: 5}, {Pages: 1000, Sections: 20}} {
		s, err := New(Config{Content: shapeFS(shape), Static: os.DirFS(staticDir)}).Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sizes[shape.Pages] = siteBytes(s)
		t.Logf("%d pages in %d sections: %.1f MB, %.1f KB per page", shape.Pages, shape.Sections,
			float64(sizes[shape.Pages])/1e6, float64(sizes[shape.Pages])/float64(shape.Pages)/1e3)
	}
	small, large := float64(sizes[250])/250, float64(sizes[1000])/1000
	if large > small*1.1 {
		t.Errorf("bytes per page grew from %.0f (250 pages) to %.0f (1000 pages): not linear", small, large)
	}
	if sizes[1000] > 35e6 {
		t.Errorf("1000 pages in 20 sections write %.1f MB, want at most 35 MB", float64(sizes[1000])/1e6)
	}
}
