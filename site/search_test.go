package site

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"playdoc/site/corpus"
)

// TestSearchIndex: dotted Go and Python names are indexed whole and by
// part, and a synonym finds the other word's pages.
func TestSearchIndex(t *testing.T) {
	cfg := fixtureConfig()
	cfg.Content = memContent(map[string]string{
		"01-py.md": page("Python side", 1, "Run them with asyncio.gather.\n"),
		"02-go.md": page("Go side", 2, "An errgroup.Group waits for them.\n"),
		"03-no.md": page("Other", 3, "Nothing related.\n"),
	})
	lookup := func(synonyms map[string][]string, term string) []string {
		cfg.Synonyms = synonyms
		s, err := New(cfg).Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var meta struct{ Pages [][]any }
		if err := json.Unmarshal(s.Files["/_search/pages.json"].Body, &meta); err != nil {
			t.Fatal(err)
		}
		var shard map[string][]int
		if err := json.Unmarshal(s.Files["/_search/"+shardFile(shardKey(term))].Body, &shard); err != nil {
			t.Fatal(err)
		}
		var urls []string
		for pg := range postings(t, shard[term]) {
			urls = append(urls, meta.Pages[pg][0].(string))
		}
		slices.Sort(urls)
		return urls
	}
	if got := lookup(nil, "gather"); !slices.Equal(got, []string{"/py/"}) {
		t.Errorf("gather: %v", got)
	}
	if got := lookup(nil, "asyncio.gather"); !slices.Equal(got, []string{"/py/"}) {
		t.Errorf("asyncio.gather: %v", got)
	}
	syn := map[string][]string{"gather": {"errgroup", "WaitGroup"}}
	if got := lookup(syn, "gather"); !slices.Equal(got, []string{"/go/", "/py/"}) {
		t.Errorf("gather with synonyms: %v", got)
	}
	if got := lookup(syn, "errgroup"); !slices.Equal(got, []string{"/go/", "/py/"}) {
		t.Errorf("errgroup with synonyms (the reverse): %v", got)
	}
	if shardFile("gat") != "gat.json" || shardFile("éa") != "uc3a961.json" {
		t.Errorf("shard names %q %q", shardFile("ga"), shardFile("éa"))
	}
}

// TestSearchIndexIncremental: a rebuild after an edit of one page indexes
// the edit (the per-page terms cache is keyed by what it read) and the
// same index as a fresh build, and forgets the old text's terms.
func TestSearchIndexIncremental(t *testing.T) {
	cfg := fixtureConfig()
	fsys := memContent(map[string]string{
		"01-a.md": page("First", 1, "Goroutines and channels.\n"),
		"02-b.md": page("Second", 2, "A semaphore bounds them.\n"),
	})
	cfg.Content = fsys
	b := New(cfg)
	build := func(b *Builder) *Site {
		t.Helper()
		s, err := b.Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	build(b)
	fsys["02-b.md"].Data = []byte(page("Second", 2, "A mutex guards them.\n"))
	again, fresh := build(b), build(New(cfg))
	for path, f := range fresh.Files {
		if strings.HasPrefix(path, "/_search/") && !bytes.Equal(f.Body, again.Files[path].Body) {
			t.Errorf("%s differs between the rebuild and a fresh build:\n%s\n%s", path, again.Files[path].Body, f.Body)
		}
	}
	for path := range again.Files {
		if strings.HasPrefix(path, "/_search/") && fresh.Files[path] == nil {
			t.Errorf("the rebuild has %s, a fresh build not", path)
		}
	}
	if again.Files["/_search/mut.json"] == nil || again.Files["/_search/sem.json"] != nil {
		t.Errorf("after the edit: mutex indexed %v, semaphore still indexed %v",
			again.Files["/_search/mut.json"] != nil, again.Files["/_search/sem.json"] != nil)
	}
	if len(b.terms) != 2 {
		t.Errorf("the terms cache holds %d pages' terms, want the 2 of the last build", len(b.terms))
	}
}

// postings reads a term's postings from its shard's list (score, count,
// page gaps, …) into each page's score; a malformed list fails the test.
func postings(t *testing.T, list []int) map[int]int {
	t.Helper()
	out := map[int]int{}
	for i := 0; i < len(list); {
		if i+2 > len(list) || list[i+1] < 1 || i+2+list[i+1] > len(list) {
			t.Fatalf("postings %v: bad group at %d", list, i)
		}
		score, n, pg := list[i], list[i+1], 0
		for _, gap := range list[i+2 : i+2+n] {
			pg += gap
			if _, ok := out[pg]; ok {
				t.Fatalf("postings %v: page %d twice", list, pg)
			}
			out[pg] = score
		}
		i += 2 + n
	}
	return out
}

// TestShardPostings: a term's postings are grouped by score, best first,
// pages in order as gaps: pages 0, 4 and 9 at score 6 (a heading, 5, whose
// text counts 1) and pages 2 and 3 at score 1 are [6, 3, 0, 4, 5, 1, 2, 2, 1].
func TestShardPostings(t *testing.T) {
	cfg := fixtureConfig()
	pages := map[string]string{}
	for i := range 10 {
		body := "Nothing here.\n"
		switch i {
		case 0, 4, 9:
			body = "## Semaphore\n\nText.\n" // heading 5, text 1
		case 2, 3:
			body = "A semaphore.\n" // text: 1
		}
		pages[fmt.Sprintf("%02d-p%d.md", i, i)] = page(fmt.Sprintf("P%d", i), i+1, body)
	}
	cfg.Content = memContent(pages)
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var shard map[string][]int
	if err := json.Unmarshal(s.Files["/_search/sem.json"].Body, &shard); err != nil {
		t.Fatal(err)
	}
	want := []int{6, 3, 0, 4, 5, 1, 2, 2, 1}
	if got := shard["semaphore"]; !slices.Equal(got, want) {
		t.Errorf("postings of semaphore: %v, want %v", got, want)
	}
	if got := postings(t, want); len(got) != 5 || got[9] != 6 || got[3] != 1 {
		t.Errorf("postings read back as %v", got)
	}
}

// TestEachTermMatchesRegexp: eachTerm finds what the regexp it stands for
// finds, on the tutorial's pages, the corpus and edge cases (Unicode
// letters and numbers, dots, invalid UTF-8).
func TestEachTermMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`[\p{L}_][\p{L}\p{N}_]*(?:\.[\p{L}_][\p{L}\p{N}_]*)*`)
	texts := []string{"", "a", "asyncio.gather(x)", "a.b.c. d..e .f g.1 h_2.i3", "_x.__y", "x1²³.ß Ωmega.π٣ 日本語.テキスト",
		"bad \xff\xfe utf8 a\xffb", "trailing.", "a.\xff", "sync.WaitGroup{}.Add(1) errgroup.Group", "ⅻ.a ℃x"}
	for i := range 3 {
		texts = append(texts, corpus.Program(i, i%3), string(corpusShape.Files()[corpusShape.File(i, corpus.Playdoc)]))
	}
	files, _ := filepath.Glob("../content/*/*.md")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		var got []string
		eachTerm(text, func(m string) { got = append(got, m) })
		if want := re.FindAllString(text, -1); !slices.Equal(got, want) {
			t.Errorf("eachTerm(%.60q):\n got %q\nwant %q", text, got, want)
		}
	}
	if len(files) == 0 {
		t.Error("no content pages to compare on")
	}
}

// TestShardJSON: the shards' hand-written JSON is encoding/json's, byte for
// byte, for plain terms and for synonyms that need escaping.
func TestShardJSON(t *testing.T) {
	shard := map[string][]int{"gather": {3, 20, 0, 1}, "gatherer": {}, "gat.sub_x9": {1, 2},
		"ga\"te<&>": {5, 6}, "géant": {7, 8}, "ga\u2028": {9, 10}, "ga\x01": {11, 12}}
	got, err := shardJSON(shard)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(shard)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("shardJSON:\n%s\nwant encoding/json's\n%s", got, want)
	}
}

// TestPageText: a page's excerpt file holds its headings, paragraphs, list items,
// code and expected output as plain text, grouped under the id of the heading
// above them, long blocks cut.
func TestPageText(t *testing.T) {
	cfg := fixtureConfig()
	long := strings.Repeat("word ", 100)
	cfg.Content = memContent(map[string]string{
		"01-a.md": page("First", 1, "Intro with `code` and [a link](https://example.com).\n\n"+
			"## Second part\n\n- an item\n- another\n\n```python\nprint('hi')\n```\n\n"+long+"\n"),
	})
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := s.Files["/_search/"+textFile(0)]
	if f == nil {
		t.Fatal("no excerpt file for page 0")
	}
	var blocks [][]string
	if err := json.Unmarshal(f.Body, &blocks); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"", "Intro with code and a link."},
		{"second-part", "Second part", "an item", "another", "print('hi')", strings.TrimSpace(long)[:excerptRunes]},
	}
	if !slices.EqualFunc(blocks, want, slices.Equal) {
		t.Errorf("excerpt blocks:\n%q\nwant\n%q", blocks, want)
	}
}

// TestCollapseSpace: collapseSpace is strings.Join(strings.Fields(s), " "),
// whatever the white space (Unicode's too) and on bad UTF-8.
func TestCollapseSpace(t *testing.T) {
	for _, s := range []string{"", " ", "a", "a b", " a", "a ", "a  b", "a\nb", "a\tb c", "  a  b  ", "a\u00a0b", "a\u3000", "a\u0085b",
		"x \xff y", "\xff", "é è", "a b\n", "a\r\nb", "one two three four"} {
		if got, want := collapseSpace(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestExcerptText: excerptText is collapseSpace cut to n runes as a rune
// slice cuts it, at and around the cut, on Unicode white space and bad
// UTF-8 (a byte that is not UTF-8 counts as one rune, and is U+FFFD once
// cut).
func TestExcerptText(t *testing.T) {
	long := strings.Repeat("word \t", 30) + "é\xffè  end"
	for _, s := range []string{"", " ", "a", "a b", "  a  b  ", "abcdef", "abc def", "ab  cd ef", "a\u3000b\u0085c d",
		"x \xff y z", "\xff\xfe\xfd\xfc", "éèàù ô", "a b c d e f g", "abcdefghij", "   abcdef   ", long, strings.Repeat("é", 300), strings.Repeat("\xff ", 200)} {
		for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 240} {
			want := collapseSpace(s)
			if utf8.RuneCountInString(want) > n {
				want = string([]rune(want)[:n])
			}
			if got := excerptText(s, n); got != want {
				t.Errorf("excerptText(%q, %d) = %q, want %q", s, n, got, want)
			}
		}
	}
}
