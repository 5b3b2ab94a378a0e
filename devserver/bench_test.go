package devserver

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"playdoc/site/corpus"
)

// BenchmarkEditToReload measures the time from a content file's write to
// the reload event that lists its page on the SSE stream, as a page sees
// it: the debounce window, the incremental build and the broadcast. One
// iteration is one edit; run with -benchtime=100x for the 100 edits of the
// target (p50 < 20 ms on the tutorial, < 50 ms on 1000 pages).
func BenchmarkEditToReload(b *testing.B) {
	b.Run("tutorial", func(b *testing.B) {
		benchEdits(b, os.DirFS("../content"), "asyncio/05-gather.md", "/asyncio/gather/index.html")
	})
	b.Run("corpus-1000", func(b *testing.B) {
		dir := b.TempDir()
		if err := corpus.Write(dir, 1000, corpus.Playdoc); err != nil {
			b.Fatal(err)
		}
		name := corpus.FileName(500, corpus.Playdoc)
		slug := strings.TrimSuffix(name[strings.IndexByte(name, '-')+1:], ".md")
		benchEdits(b, os.DirFS(dir), name, "/"+slug+"/index.html")
	})
}

// benchEdits edits one page b.N times, each time waiting for the reload
// event that lists it, and reports the median and p99 latencies.
func benchEdits(b *testing.B, content fs.FS, file, page string) {
	ts := newTestSite(b, content, nil)
	if ts.dev.Site() == nil {
		b.Fatalf("the site does not build:\n%s", ts.errOut.String())
	}
	s := connect(b, ts.http.URL)
	s.hello()
	target := filepath.Join(ts.content, file)
	orig, err := os.ReadFile(target)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		src := fmt.Appendf(slices.Clip(orig), "\nEdit number %d.\n", i)
		start := time.Now()
		if err := os.WriteFile(target, src, 0o644); err != nil {
			b.Fatal(err)
		}
		s.reloadOf(page)
		lat = append(lat, s.lastAt.Sub(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)*99)/100]), "p99-ms")
	b.ReportMetric(float64(len(ts.dev.Site().Pages)), "pages")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
