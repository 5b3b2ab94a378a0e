// Package corpus generates a synthetic documentation site of any size for
// benchmarks: prose with inline markup, headings, lists and three distinct
// runnable Go programs per page, no two code blocks alike. It writes the
// same pages for playdoc and for Hugo so that both can be timed on them.
package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Form selects the Markdown dialect of the pages.
type Form int

const (
	Playdoc Form = iota // NNNN-slug.md, ```go run fences with output blocks
	Hugo                // content/slug.md, plain ```go fences, weight for order
)

// FileName is the name of page i in the given form.
func FileName(i int, form Form) string {
	if form == Hugo {
		return fmt.Sprintf("page-%04d.md", i)
	}
	return fmt.Sprintf("%04d-page-%04d.md", i, i)
}

// Program is the n-th (0..2) Go program of page i: about 30 lines, different
// for every page and program.
func Program(i, n int) string {
	switch n % 3 {
	case 0:
		return fmt.Sprintf(`package main

import (
	"fmt"
	"sync"
	"time"
)

// worker%[1]d simulates an I/O-bound call that takes d.
func worker%[1]d(id int, d time.Duration, results chan<- string) {
	time.Sleep(d)
	results <- fmt.Sprintf("worker %%d finished after %%v", id, d)
}

func main() {
	start := time.Now()
	results := make(chan string, %[2]d)
	var wg sync.WaitGroup
	for id := range %[2]d {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker%[1]d(id, %[3]d*time.Millisecond, results)
		}()
	}
	wg.Wait()
	close(results)
	for r := range results {
		fmt.Println(r)
	}
	fmt.Printf("page %[1]d: all done in %%v\n", time.Since(start).Round(time.Millisecond))
}
`, i, 3+i%5, 10+i%90)
	case 1:
		return fmt.Sprintf(`package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var errSlow%[1]d = errors.New("request %[1]d took too long")

// fetch%[1]d returns a value after delay unless ctx ends first.
func fetch%[1]d(ctx context.Context, delay time.Duration) (int, error) {
	select {
	case <-time.After(delay):
		return %[2]d, nil
	case <-ctx.Done():
		return 0, errors.Join(errSlow%[1]d, ctx.Err())
	}
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), %[3]d*time.Millisecond)
	defer cancel()
	for _, d := range []time.Duration{5 * time.Millisecond, %[4]d * time.Millisecond} {
		v, err := fetch%[1]d(ctx, d)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Printf("got %%d after %%v\n", v, d)
	}
}
`, i, i*7+1, 20+i%50, 100+i%200)
	default:
		return fmt.Sprintf(`package main

import (
	"fmt"
	"strings"
	"sync"
)

// counter%[1]d is safe for concurrent use.
type counter%[1]d struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *counter%[1]d) add(word string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[strings.ToLower(word)]++
}

func main() {
	c := &counter%[1]d{counts: map[string]int{}}
	text := "Go runs %[2]d goroutines while asyncio awaits page %[1]d"
	var wg sync.WaitGroup
	for _, w := range strings.Fields(text) {
		wg.Go(func() { c.add(w) })
	}
	wg.Wait()
	fmt.Println(len(c.counts), "distinct words, 0x%[3]X")
}
`, i, i%1000+2, i*31+7)
	}
}

// output is a plausible expected-output block for program n of page i.
func output(i, n int) string {
	switch n % 3 {
	case 0:
		return fmt.Sprintf("```output duration=%dms\n~ worker {...} finished after {...}\npage %d: all done in {...}\n```\n", 10+i%90, i)
	case 1:
		return "```output\ngot {...}\nerror: {...}\n```\n"
	default:
		return "```output\n{...} distinct words, {...}\n```\n"
	}
}

// Shape is how a corpus is laid out: Pages pages, in Sections folders of
// consecutive pages (0: one flat folder).
type Shape struct {
	Pages, Sections int
}

// section is the section of page i, or -1 for a flat corpus.
func (s Shape) section(i int) int {
	if s.Sections <= 0 {
		return -1
	}
	return i * s.Sections / s.Pages
}

// sectionDir is the folder of section k.
func sectionDir(k int, form Form) string {
	if form == Hugo {
		return fmt.Sprintf("chapter-%02d", k)
	}
	return fmt.Sprintf("%02d-chapter-%02d", k, k)
}

// File is the path of page i relative to the content folder.
func (s Shape) File(i int, form Form) string {
	if k := s.section(i); k >= 0 {
		return sectionDir(k, form) + "/" + FileName(i, form)
	}
	return FileName(i, form)
}

// link is how page i links to page j.
func (s Shape) link(i, j int, form Form) string {
	j = (j%s.Pages + s.Pages) % s.Pages
	if form == Hugo {
		if k := s.section(j); k >= 0 {
			return fmt.Sprintf("/%s/page-%04d/", sectionDir(k, form), j)
		}
		return fmt.Sprintf("/page-%04d/", j)
	}
	if s.section(i) == s.section(j) {
		return FileName(j, form)
	}
	return "../" + s.File(j, form)
}

// Page returns the Markdown of page i of n, in one flat folder.
func Page(i, n int, form Form) []byte { return Shape{Pages: n}.Page(i, form) }

// words vary the prose from page to page, so that no two paragraphs are
// alike (as in real documentation, and for the search index).
var words = []string{
	"scheduler", "channel", "mutex", "deadline", "backpressure", "buffer", "worker pool",
	"event loop", "semaphore", "timeout", "retry", "fan-out", "pipeline", "select",
	"cancellation", "goroutine leak", "race detector", "trace", "profile", "allocation",
}

// word is the k-th varied word of page i.
func word(i, k int) string { return words[(i*7+k*3)%len(words)] }

// snippets are short blocks in other languages than Go, one a section,
// varied by page.
var snippets = []struct{ lang, code string }{
	{"python", "async def main():\n    results = await asyncio.gather(*(work(%[1]d, n) for n in range(3)))\n    print(sum(results))\n"},
	{"sh", "go test -run TestPage%[1]d -count=1 ./...\ngo run ./cmd/worker -n %[1]d | tee out.txt\n"},
	{"javascript", "const results = await Promise.all([1, 2, 3].map((n) => work(%[1]d, n)));\nconsole.log(results.reduce((a, b) => a + b, 0));\n"},
	{"rust", "#[tokio::main]\nasync fn main() {\n    let handles: Vec<_> = (0..3).map(|n| tokio::spawn(work(%[1]d, n))).collect();\n    for h in handles { println!(\"{}\", h.await.unwrap()); }\n}\n"},
	{"yaml", "workers: %[1]d\ntimeout: 250ms\nretry:\n  attempts: 3\n  backoff: exponential\n"},
	{"json", "{\"page\": %[1]d, \"workers\": [1, 2, 3], \"timeout_ms\": 250, \"retry\": true}\n"},
	{"sql", "SELECT id, state, finished_at\nFROM jobs\nWHERE page = %[1]d AND state <> 'done'\nORDER BY finished_at DESC;\n"},
}

// Page returns the Markdown of page i: about 60 lines of prose (headings,
// paragraphs with inline markup and links to other pages, lists, a table,
// a block quote, an image), three ~30-line runnable Go programs and short
// blocks in other languages.
func (s Shape) Page(i int, form Form) []byte {
	var b strings.Builder
	link := func(j int) string { return s.link(i, j, form) }
	// Titles of varied length, as real documentation has.
	title := fmt.Sprintf("Page %d: %s", i, word(i, 0))
	switch i % 4 {
	case 1:
		title += fmt.Sprintf(", with goroutines, channels and a worked example of %s under load", word(i, 1))
	case 2:
		title = fmt.Sprintf("%s %d", strings.ToUpper(word(i, 2)[:1])+word(i, 2)[1:], i)
	}
	fmt.Fprintf(&b, "---\ntitle: \"%s\"\n", title)
	if form == Hugo {
		fmt.Fprintf(&b, "weight: %d\nslug: page-%04d\n", i+1, i)
	} else {
		fmt.Fprintf(&b, "order: %d\n", i+1)
	}
	fmt.Fprintf(&b, "summary: \"Synthetic page %d: %s and %s, in asyncio and in Go.\"\n---\n\n", i, word(i, 3), word(i, 4))
	fmt.Fprintf(&b, "# Page %d\n\n", i)
	fmt.Fprintf(&b, "This page compares how asyncio and Go handle a **%s** and a *%s*.\n"+
		"It builds on [page %d](%s) and leads to [page %d](%s); a related topic is\n"+
		"[page %d](%s), in another chapter.\n\n", word(i, 5), word(i, 6), (i-1+s.Pages)%s.Pages, link(i-1), (i+1)%s.Pages, link(i+1), (i+s.Pages/2)%s.Pages, link(i+s.Pages/2))
	fmt.Fprintf(&b, "![Diagram of the %s on page %d](%s)\n\n", word(i, 7), i, s.image(i, form))
	for sec := range 3 {
		fmt.Fprintf(&b, "## Section %d.%d: why *%s* matters\n\n", i, sec, word(i, sec+8))
		fmt.Fprintf(&b, "In asyncio, a coroutine gives up control only at an `await`; in Go the **scheduler**\n"+
			"preempts goroutines, so a loop on page %d section %d cannot starve the others.\n"+
			"See [the previous page](%s) and [the next one](%s) for _more_ on `GOMAXPROCS`\n"+
			"and ~~threads~~ goroutines. Visit https://go.dev/doc for the reference.\n\n", i, sec, link(i-1), link(i+1))
		fmt.Fprintf(&b, "A %s is cheap to start and cheap to stop, but a %s that nobody reads\n"+
			"keeps its goroutine alive: give every %s an owner, a deadline of about\n"+
			"%d ms and a way to report its error. The [example %d](%s) shows the pattern\n"+
			"with a `%s` instead.\n\n", word(i, sec), word(i, sec+1), word(i, sec+2), 10+i%90, (i+7*sec+3)%s.Pages, link(i+7*sec+3), word(i, sec+4))
		fmt.Fprintf(&b, "- a goroutine costs about %d KiB of stack at first\n- channels carry values *and* synchronisation\n"+
			"  - unbuffered: a hand-off\n  - buffered: a queue of %d\n- `context.Context` cancels work number %d\n\n", 2+sec, 1+i%16, i*3+sec)
		fmt.Fprintf(&b, "### Step %d\n\n1. Start the tasks.\n2. Wait for **all** of them.\n3. Print the elapsed time (about %d ms).\n\n", sec+1, 10+i%90)
		if form == Hugo {
			fmt.Fprintf(&b, "```go\n%s```\n\n```text\nsee the playdoc version\n```\n\n", Program(i, sec))
		} else {
			fmt.Fprintf(&b, "```go run name=p%d\n%s```\n\n%s\n", sec, Program(i, sec), output(i, sec))
		}
		fmt.Fprintf(&b, "| Model | Unit | Cost | Page |\n|---|---|---|---|\n| asyncio | coroutine | %d bytes | %d |\n| Go | goroutine | %d KiB | %d |\n| threads | OS thread | %d MiB | %d |\n\n",
			500+i%300, i, 2+sec, i, 1+sec, i)
		sn := snippets[(i+sec*3)%len(snippets)]
		fmt.Fprintf(&b, "The same idea in %s:\n\n```%s\n%s```\n\n", sn.lang, sn.lang, fmt.Sprintf(sn.code, i))
		if sec == 1 {
			fmt.Fprintf(&b, "> A block quote: measure before you optimise page %d.\n> The %s is rarely where you first look.\n\n", i, word(i, 11))
		}
	}
	return []byte(b.String())
}

// image is the URL page i uses for its section's diagram.
func (s Shape) image(i int, form Form) string {
	if form == Hugo {
		return fmt.Sprintf("/img/diagram-%02d.svg", max(s.section(i), 0))
	}
	return "diagram.svg"
}

// firstPage is the first page of section k (0 for a flat corpus).
func (s Shape) firstPage(k int) int {
	if s.Sections <= 0 {
		return 0
	}
	return (k*s.Pages + s.Sections - 1) / s.Sections
}

// imageFile is the content path of section k's diagram, in playdoc's form.
func (s Shape) imageFile(k int, form Form) string {
	if s.Sections <= 0 {
		return "diagram.svg"
	}
	return sectionDir(k, form) + "/diagram.svg"
}

// diagram is the SVG of section k's diagram.
func diagram(k int) []byte {
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120" viewBox="0 0 320 120">`+
		`<rect x="10" y="10" width="120" height="100" fill="#cde"/><rect x="190" y="10" width="120" height="100" fill="#edc"/>`+
		`<path d="M130 60h60" stroke="#333" stroke-width="3"/><text x="20" y="65">chapter %d</text></svg>`+"\n", k)
}

// indexPage is the _index.md of section k.
func indexPage(k int, form Form) []byte {
	key := "order"
	if form == Hugo {
		key = "weight"
	}
	return fmt.Appendf(nil, "---\ntitle: \"Chapter %d\"\n%s: %d\nsummary: \"Chapter %d of the synthetic corpus.\"\n---\n\nThe pages of chapter %d.\n", k, key, k+1, k, k)
}

// Write writes an n-page corpus into dir (created if needed), in one flat
// folder. For Hugo it writes a whole Hugo site: config, layouts and content/.
func Write(dir string, n int, form Form) error { return Shape{Pages: n}.Write(dir, form) }

// Write writes the corpus into dir (created if needed); sections get an
// _index.md each. For Hugo it writes a whole Hugo site: config, layouts
// and content/.
func (s Shape) Write(dir string, form Form) error {
	content := dir
	if form == Hugo {
		content = filepath.Join(dir, "content")
		if err := writeHugoSite(dir); err != nil {
			return err
		}
	}
	write := func(name string, data []byte) error {
		p := filepath.Join(content, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
		return nil
	}
	for k := range max(s.Sections, 0) {
		if err := write(sectionDir(k, form)+"/_index.md", indexPage(k, form)); err != nil {
			return err
		}
	}
	for k := range max(s.Sections, 1) {
		name := s.imageFile(k, Playdoc)
		if form == Hugo {
			name = "../static" + s.image(s.firstPage(k), Hugo)
		}
		if err := write(name, diagram(k)); err != nil {
			return err
		}
	}
	for i := range s.Pages {
		if err := write(s.File(i, form), s.Page(i, form)); err != nil {
			return err
		}
	}
	return nil
}

// Files returns the corpus as content paths and their bytes (playdoc's
// form), for builds in memory.
func (s Shape) Files() map[string][]byte {
	files := map[string][]byte{}
	for k := range max(s.Sections, 0) {
		files[sectionDir(k, Playdoc)+"/_index.md"] = indexPage(k, Playdoc)
	}
	for k := range max(s.Sections, 1) {
		files[s.imageFile(k, Playdoc)] = diagram(k)
	}
	for i := range s.Pages {
		files[s.File(i, Playdoc)] = s.Page(i, Playdoc)
	}
	return files
}

// writeHugoSite writes a minimal Hugo site whose pages carry what playdoc's
// carry: a sidebar of all pages, prev/next, a table of contents,
// highlighted code with CSS classes, a sitemap. The sidebar is rendered
// once (partialCached), the idiomatic Hugo way, which spares Hugo the
// per-page current-page marking that playdoc does.
func writeHugoSite(dir string) error {
	files := map[string]string{
		"hugo.toml": `baseURL = "https://example.org/"
title = "corpus"
disableKinds = ["taxonomy", "term", "RSS"]
[markup.highlight]
  noClasses = false
[markup.tableOfContents]
  startLevel = 2
  endLevel = 3
[markup.goldmark.parser]
  autoHeadingID = true
`,
		"layouts/_default/baseof.html": `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title>
<meta name="description" content="{{ .Summary | plainify }}"><link rel="canonical" href="{{ .Permalink }}"></head>
<body>{{ partialCached "nav.html" . }}
<main>{{ block "main" . }}{{ end }}</main></body></html>
`,
		"layouts/_default/single.html": `{{ define "main" }}<h1>{{ .Title }}</h1>{{ .TableOfContents }}{{ .Content }}
<nav>{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>{{ end }}
`,
		"layouts/partials/nav.html": `<nav><ul>{{ range .Site.RegularPages.ByWeight }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></nav>
`,
		"layouts/_default/list.html": `{{ define "main" }}<ul>{{ range .Pages }}<li>{{ .Title }}</li>{{ end }}</ul>{{ end }}
`,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	return nil
}
