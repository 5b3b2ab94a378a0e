package site

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
)

// The search index: built by the build, in Go, and read by site.js. Terms
// are lower-cased words and Go-style dotted names ("asyncio.gather" is
// indexed as itself and as "asyncio" and "gather"), from each page's title
// (weight 10), headings (5) and text, code and expected output (1). The
// index is split into shards by the first three letters of a term, so that a
// query loads the page list and the shard of each word typed:
//
//	/_search/pages.json   {"pages": [[url, title, section index], …], "sections": [titles], "shards": "keys …"}
//	/_search/gat.json     {"gather": [score, n, page gap × n, score, …], "gated": …}
//	/_search/x/7.json     [[heading id, text, text, …], …]: page 7's text, for excerpts
//
// Synonyms from playdoc.toml ([search.synonyms] gather = ["errgroup",
// "WaitGroup"]) add each word's pages to the others', both ways, at half
// the score: a search for "gather" finds the pages about errgroup.

// eachTerm calls f with each word and dotted name of text, in order: the
// matches of [\p{L}_][\p{L}\p{N}_]*(?:\.[\p{L}_][\p{L}\p{N}_]*)*
// (TestEachTermMatchesRegexp), found without a regexp: the regexp was a
// tenth of a cold build's CPU.
func eachTerm(text string, f func(string)) {
	// next is the rune at i and its width, ASCII without decoding.
	next := func(i int) (rune, int) {
		if c := text[i]; c < utf8.RuneSelf {
			return rune(c), 1
		}
		return utf8.DecodeRuneInString(text[i:])
	}
	for i := 0; i < len(text); {
		r, n := next(i)
		if !termStart(r) {
			i += n
			continue
		}
		start := i
		i += n
		for {
			for i < len(text) {
				if r, n = next(i); !termPart(r) {
					break
				}
				i += n
			}
			if i+1 < len(text) && text[i] == '.' {
				if r, n = next(i + 1); termStart(r) {
					i += 1 + n
					continue
				}
			}
			break
		}
		f(text[start:i])
	}
}

// termStart reports whether a term may begin with r: a letter or '_'.
func termStart(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_'
	}
	return unicode.IsLetter(r)
}

// termPart reports whether r may follow in a term: a letter, a number or '_'.
func termPart(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// stopWords are too common to be worth a posting.
var stopWords = map[string]bool{"the": true, "and": true, "of": true, "to": true, "in": true, "is": true, "it": true,
	"a": true, "an": true, "for": true, "on": true, "as": true, "by": true, "be": true, "or": true, "that": true,
	"this": true, "with": true, "are": true, "at": true, "from": true, "its": true, "if": true}

// searchIndex is the built index: its files by name.
type searchIndex struct {
	files map[string][]byte // "pages.json", "ga.json", …
}

// addTerms adds the terms of text to a page's scores.
func addTerms(scores map[string]int, text string, weight int) {
	add := func(t string) {
		if utf8.RuneCountInString(t) >= 2 && !stopWords[t] {
			scores[t] = min(scores[t]+weight, 1000)
		}
	}
	eachTerm(text, func(m string) {
		t := strings.ToLower(m)
		add(t)
		if strings.Contains(t, ".") {
			for part := range strings.SplitSeq(t, ".") {
				add(part)
			}
		}
	})
}

// shardKey is the shard of a term: its first three letters (runes; a
// two-letter term is its own shard's key).
func shardKey(term string) string {
	r := []rune(term)
	return string(r[:min(3, len(r))])
}

// pageTerms scores the terms of a page: its title, headings and text.
func pageTerms(p *Page) map[string]int {
	// Sized once: growing it was 3% of a cold build's allocations. The
	// corpus's pages have a distinct term every 24 bytes of Markdown.
	scores := make(map[string]int, len(p.body)/24)
	addTerms(scores, p.Title, 10)
	for _, h := range p.Headings {
		addTerms(scores, h.Text, 5)
	}
	addTerms(scores, string(p.body), 1)
	return scores
}

// termsKey is what pageTerms reads of a page, hashed.
func termsKey(p *Page) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(p.Title))
	for _, hd := range p.Headings {
		h.Write([]byte{0})
		h.Write([]byte(hd.Text))
	}
	h.Write([]byte{1})
	h.Write(p.body)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// pageSearch is what the search index holds of one page.
type pageSearch struct {
	terms []termScore
	text  []byte // the excerpt file, JSON (see pageText)
}

// cachedTerms returns the terms and text of each page, computing only
// those of pages that changed since the last call; the cache keeps this
// call's.
func cachedTerms(cache map[[sha256.Size]byte]*pageSearch, pages []*Page) ([]*pageSearch, error) {
	out := make([]*pageSearch, len(pages))
	used := make(map[[sha256.Size]byte]bool, len(pages))
	for i, p := range pages {
		k := p.termsKey
		if k == ([sha256.Size]byte{}) {
			k = termsKey(p)
			p.termsKey = k
		}
		ps, ok := cache[k]
		if !ok {
			scores := pageTerms(p)
			ps = &pageSearch{terms: make([]termScore, 0, len(scores))}
			for t, s := range scores {
				ps.terms = append(ps.terms, termScore{t, s})
			}
			ps.text = p.searchText
			if ps.text == nil {
				var err error
				if ps.text, err = pageTextJSON(p); err != nil {
					return nil, err
				}
			}
			cache[k] = ps
		}
		used[k] = true
		out[i] = ps
	}
	for k := range cache {
		if !used[k] {
			delete(cache, k)
		}
	}
	return out, nil
}

// pageTextJSON is pageText as the JSON of the page's excerpt file.
func pageTextJSON(p *Page) ([]byte, error) {
	// Code is full of < and >: unescaped, the file is smaller.
	// Kept until the index is written: appended to a nil slice, whose
	// first append (Encode writes once) is of its size; a buffer, then a
	// copy of its bytes, allocated it twice.
	var text appendWriter
	enc := json.NewEncoder(&text)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(pageText(p)); err != nil {
		return nil, fmt.Errorf("search text of %s: %w", p.URL, err)
	}
	return bytes.TrimSuffix(text.b, []byte("\n")), nil
}

// appendWriter is an io.Writer that appends what it is given to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// excerptRunes is the most of one block of text a page's excerpt file
// keeps: enough for an excerpt around a match near its start, while the
// files of the few results a query shows stay small (issue 14: a query
// loads at most 150 KB on the 1000-page corpus).
const excerptRunes = 240

// pageText is a page's text for the excerpts under search results: each
// heading, paragraph, list item and code block (a snippet's expected
// output too) as one line of plain text, its white space collapsed, cut at
// excerptRunes, grouped under the id of the heading they are under ("" above
// the first): [[id, text, text, …], …], each id once (it was a fifth of the
// file when repeated on every block). site.js fetches it for the results it
// shows.
func pageText(p *Page) [][]string {
	out := [][]string{}
	if p.doc == nil {
		return out
	}
	anchor := ""
	add := func(text string) {
		text = excerptText(text, excerptRunes)
		if text == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1][0] == anchor {
			out[n-1] = append(out[n-1], text)
			return
		}
		out = append(out, []string{anchor, text})
	}
	_ = ast.Walk(p.doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if id, ok := n.AttributeString("id"); ok {
				anchor = string(asBytes(id))
			}
			add(plainText(n, p.body))
			return ast.WalkSkipChildren, nil
		case *ast.Paragraph, *ast.TextBlock:
			add(plainText(n, p.body))
			return ast.WalkSkipChildren, nil
		case *codeNode:
			add(n.Code)
			if n.Snippet != nil {
				add(n.Snippet.Expected.DisplayText())
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return out
}

// excerptText is s as a line of a page's excerpts: collapseSpace(s), cut
// to its first n runes when it has more, as string([]rune(t)[:n]) cuts it
// (a byte that is not UTF-8 becomes U+FFFD). Of a long s (a code block)
// it reads only what the excerpt needs: collapsing it all, then converting
// it all to runes to cut it, was 3% of a cold build's CPU.
func excerptText(s string, n int) string {
	if len(s) <= n { // no more runes than bytes: never cut
		return collapseSpace(s)
	}
	runes := 0
	for f := range strings.FieldsSeq(s) {
		if runes > 0 {
			runes++ // the space before f
		}
		if runes += utf8.RuneCountInString(f); runes > n {
			return cutFields(s, n)
		}
	}
	return collapseSpace(s)
}

// cutFields is the first n runes of collapseSpace(s), which has more, as
// string([]rune(collapseSpace(s))[:n]).
func cutFields(s string, n int) string {
	var b strings.Builder
	b.Grow(n)
	count := 0
	for f := range strings.FieldsSeq(s) {
		if count > 0 {
			b.WriteByte(' ')
			if count++; count == n {
				return b.String()
			}
		}
		for _, r := range f { // a byte that is not UTF-8 comes as U+FFFD
			b.WriteRune(r)
			if count++; count == n {
				return b.String()
			}
		}
	}
	return b.String()
}

// collapseSpace is strings.Join(strings.Fields(s), " "): s without
// leading or trailing white space, each run of it inside one space. It
// copies s only when that changes it, and then once.
func collapseSpace(s string) string {
	prevSpace := true // at the start, a space is to be dropped
	for i, r := range s {
		space := unicode.IsSpace(r)
		if space && (prevSpace || r != ' ' || i == len(s)-1) {
			return joinFields(s)
		}
		prevSpace = space
	}
	return s
}

// joinFields is strings.Join(strings.Fields(s), " ") with one allocation.
func joinFields(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for f := range strings.FieldsSeq(s) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
	}
	return b.String()
}

// termScore is one term of a page and its score there.
type termScore struct {
	term  string
	score int
}

// buildSearch indexes the pages (in reading order); terms are each page's
// (cachedTerms).
func buildSearch(pages []*Page, terms []*pageSearch, synonyms map[string][]string) (*searchIndex, error) {
	type posting struct{ page, score int }
	index := map[string][]posting{}
	var sections []string
	secIdx := map[*Section]int{}
	meta := make([][]any, 0, len(pages))
	for i, p := range pages {
		for _, ts := range terms[i].terms {
			index[ts.term] = append(index[ts.term], posting{i, ts.score})
		}
		si := -1
		if p.Section != nil {
			n, ok := secIdx[p.Section]
			if !ok {
				n = len(sections)
				secIdx[p.Section] = n
				sections = append(sections, p.Section.Title)
			}
			si = n
		}
		meta = append(meta, []any{p.URL, p.Title, si})
	}
	// Synonyms, both ways, at half the score, merged into existing postings.
	merged := map[string][]posting{}
	for word, others := range synonyms {
		group := append([]string{word}, others...)
		for _, a := range group {
			a = strings.ToLower(a)
			for _, b := range group {
				b = strings.ToLower(b)
				if a == b {
					continue
				}
				for _, ps := range index[b] {
					merged[a] = append(merged[a], posting{ps.page, max(1, ps.score/2)})
				}
			}
		}
	}
	for t, extra := range merged {
		best := map[int]int{}
		for _, ps := range index[t] {
			best[ps.page] = ps.score
		}
		for _, ps := range extra {
			best[ps.page] = max(best[ps.page], ps.score)
		}
		list := make([]posting, 0, len(best))
		for pg, s := range best {
			list = append(list, posting{pg, s})
		}
		index[t] = list
	}
	// Each term's postings are one flat list, by score, best first: score,
	// the number of pages with it, and those pages in order, each as the
	// gap from the one before (the first from 0). Most pages of a term
	// share a few scores, so most numbers are small gaps: the shards are
	// two fifths of the page, score, page, score, … they were.
	shards := map[string]map[string][]int{}
	for t, list := range index {
		slices.SortFunc(list, func(a, b posting) int {
			return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.page, b.page))
		})
		k := shardKey(t)
		if shards[k] == nil {
			shards[k] = map[string][]int{}
		}
		flat := make([]int, 0, len(list)+4)
		for i := 0; i < len(list); {
			j := i
			for j < len(list) && list[j].score == list[i].score {
				j++
			}
			flat = append(flat, list[i].score, j-i)
			prev := 0
			for _, ps := range list[i:j] {
				flat = append(flat, ps.page-prev)
				prev = ps.page
			}
			i = j
		}
		shards[k][t] = flat
	}
	ix := &searchIndex{files: map[string][]byte{}}
	keys := make([]string, 0, len(shards))
	for k := range shards {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// The shards' keys, so that a query asks only for shards that exist.
	pagesJSON, err := json.Marshal(map[string]any{"pages": meta, "sections": sections, "shards": strings.Join(keys, " ")})
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	ix.files["pages.json"] = pagesJSON
	for i, ps := range terms {
		ix.files[textFile(i)] = ps.text
	}
	for _, k := range keys {
		b, err := shardJSON(shards[k])
		if err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		ix.files[shardFile(k)] = b
	}
	return ix, nil
}

// shardJSON is json.Marshal(shard), written directly: encoding/json's
// reflection was an eighth of a rebuild in playdoc serve.
func shardJSON(shard map[string][]int) ([]byte, error) {
	terms := slices.Sorted(maps.Keys(shard))
	n := 2
	for _, t := range terms {
		n += len(t) + 4 + 8*len(shard[t])
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, t := range terms {
		if i > 0 {
			b = append(b, ',')
		}
		if plainTerm(t) {
			b = append(b, '"')
			b = append(b, t...)
			b = append(b, '"')
		} else {
			q, err := json.Marshal(t)
			if err != nil {
				return nil, err
			}
			b = append(b, q...)
		}
		b = append(b, ':', '[')
		for j, v := range shard[t] {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(v), 10)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// plainTerm reports whether JSON writes t as it is between quotes: letters,
// digits, '_' and '.', as eachTerm finds them (a synonym may be anything).
func plainTerm(t string) bool {
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '.' {
			return false
		}
	}
	return utf8.ValidString(t)
}

// textFile names the excerpt file of the page numbered i in pages.json.
func textFile(i int) string { return "x/" + strconv.Itoa(i) + ".json" }

// shardFile names a shard's file: its key when it is made of [a-z0-9_],
// else "u" and the hex of its UTF-8 bytes (site.js computes the same).
func shardFile(key string) string {
	plain := key != ""
	for _, r := range key {
		if !(('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || r == '_') {
			plain = false
		}
	}
	if plain {
		return key + ".json"
	}
	return "u" + hex.EncodeToString([]byte(key)) + ".json"
}
