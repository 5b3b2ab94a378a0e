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

// Page returns the Markdown of page i.
func (s Shape) Page(i int, form Form) []byte {
	var b strings.Builder
	link := func(j int) string { return s.link(i, j, form) }
	// Titles of varied length, as real documentation has.
	title := fmt.Sprintf("Page %d: concurrency topic %d", i, i*13%97)
	if i%4 == 1 {
		title += ", with goroutines, channels and a worked example of cancellation"
	}
	fmt.Fprintf(&b, "---\ntitle: \"%s\"\n", title)
	if form == Hugo {
		fmt.Fprintf(&b, "weight: %d\nslug: page-%04d\n", i+1, i)
	} else {
		fmt.Fprintf(&b, "order: %d\n", i+1)
	}
	fmt.Fprintf(&b, "summary: \"Synthetic page %d: goroutines, channels and the event loop, compared.\"\n---\n\n", i)
	fmt.Fprintf(&b, "# Page %d\n\n", i)
	for sec := range 3 {
		fmt.Fprintf(&b, "## Section %d.%d: why *blocking* matters\n\n", i, sec)
		fmt.Fprintf(&b, "In asyncio, a coroutine gives up control only at an `await`; in Go the **scheduler** "+
			"preempts goroutines, so a loop on page %d section %d cannot starve the others. "+
			"See [the previous page](%s) and [the next one](%s) for _more_ on `GOMAXPROCS` "+
			"and ~~threads~~ goroutines. Visit https://go.dev/doc for the reference.\n\n", i, sec, link(i-1), link(i+1))
		fmt.Fprintf(&b, "- a goroutine costs about %d KiB of stack at first\n- channels carry values *and* synchronisation\n- `context.Context` cancels work number %d\n\n", 2+sec, i*3+sec)
		fmt.Fprintf(&b, "### Step %d\n\n1. Start the tasks.\n2. Wait for **all** of them.\n3. Print the elapsed time (about %d ms).\n\n", sec+1, 10+i%90)
		if form == Hugo {
			fmt.Fprintf(&b, "```go\n%s```\n\n```text\nsee the playdoc version\n```\n\n", Program(i, sec))
		} else {
			fmt.Fprintf(&b, "```go run name=p%d\n%s```\n\n%s\n", sec, Program(i, sec), output(i, sec))
		}
		fmt.Fprintf(&b, "| Model | Unit | Page |\n|---|---|---|\n| asyncio | coroutine | %d |\n| Go | goroutine | %d |\n\n", i, i)
		if sec == 1 {
			fmt.Fprintf(&b, "> A block quote: measure before you optimise page %d.\n\n", i)
			fmt.Fprintf(&b, "```python\nasync def main():\n    await asyncio.gather(*(work(%d, n) for n in range(3)))\n```\n\n", i)
			fmt.Fprintf(&b, "```sh\ngo test -run TestPage%d -count=1 ./...\n```\n\n", i)
		}
	}
	return []byte(b.String())
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
