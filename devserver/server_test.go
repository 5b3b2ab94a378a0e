package devserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"playdoc/site"
	"playdoc/snippet"
)

func TestServesSiteWithReloadScript(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	code, body := ts.get("/one/")
	if code != http.StatusOK || !strings.Contains(body, "Original text of page one.") {
		t.Fatalf("GET /one/: %d\n%s", code, body)
	}
	if !strings.Contains(body, `<script src="`+ScriptPath+`"`) {
		t.Errorf("page lacks the reload script %s", ScriptPath)
	}
	res, err := http.Get(ts.http.URL + "/one/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Content-Security-Policy"); got != CSP {
		t.Errorf("CSP header %q, want %q", got, CSP)
	}
	wantJS, err := os.ReadFile("../templates/static/reload.js")
	if err != nil {
		t.Fatal(err)
	}
	if code, js := ts.get(ScriptPath); code != http.StatusOK || js != string(wantJS) {
		t.Errorf("GET %s: %d, %d bytes, want the %d of reload.js", ScriptPath, code, len(js), len(wantJS))
	}
	if code, css := ts.get(StylePath); code != http.StatusOK || !strings.Contains(css, ".playdoc-overlay") {
		t.Errorf("GET %s: %d %q", StylePath, code, css)
	}
	if code, _ := ts.get("/_playdoc/nothing"); code != http.StatusNotFound {
		t.Errorf("GET /_playdoc/nothing: %d, want 404", code)
	}
}

func TestEventStream(t *testing.T) {
	ts := newTestSite(t, nil, func(c *Config) { c.Heartbeat = 30 * time.Millisecond })
	s := connect(t, ts.http.URL)
	if ct := s.header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if h := s.hello(); h.Build != 1 || h.Server == "" {
		t.Errorf("hello %+v, want build 1 and a server id", h)
	}
	select {
	case <-s.pings:
	case <-time.After(eventWait):
		t.Fatal("no heartbeat")
	}
	if n := ts.dev.Clients(); n != 1 {
		t.Errorf("%d clients, want 1", n)
	}
	ts.dev.Close()
	for range s.events {
	}
	deadline := time.Now().Add(eventWait)
	for ts.dev.Clients() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients after Close", ts.dev.Clients())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestEdit(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	ts.write("content/01-one.md", strings.Replace(ts.read("content/01-one.md"), "Original text", "Edited text", 1))
	d := s.reloadOf("/one/index.html")
	if slices.Contains(d.Paths, "/two/index.html") {
		t.Errorf("body edit of page one reloads page two: %v", d.Paths)
	}
	if d.Build != 2 {
		t.Errorf("build %d, want 2", d.Build)
	}
	if _, body := ts.get("/one/"); !strings.Contains(body, "Edited text of page one.") {
		t.Errorf("served page one is not the edited one:\n%s", body)
	}
	// A page connecting now learns what the last build changed and
	// when, to tell whether it loaded before it.
	h := connect(t, ts.http.URL).hello()
	if h.Build != 2 || !slices.Equal(h.Paths, d.Paths) || time.Since(time.UnixMilli(h.Time)) > time.Minute {
		t.Errorf("hello %+v, want build 2 with the paths %v and its time", h, d.Paths)
	}
}

func TestTitleChangeReloadsEveryPage(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	ts.write("content/02-two.md", strings.Replace(ts.read("content/02-two.md"), "title: Page two", "title: Page deux", 1))
	// The sidebar of every page and the index show the title.
	s.reloadOf("/one/index.html", "/two/index.html", "/index.html", "/404.html")
	if _, body := ts.get("/one/"); !strings.Contains(body, "Page deux") {
		t.Errorf("page one's navigation lacks the new title")
	}
}

func TestCreate(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	ts.write("content/03-three.md", "---\ntitle: Page three\norder: 3\nsummary: New.\n---\n\nA brand new page.\n")
	s.reloadOf("/three/index.html", "/one/index.html", "/sitemap.xml")
	if code, body := ts.get("/three/"); code != http.StatusOK || !strings.Contains(body, "A brand new page.") {
		t.Errorf("GET /three/: %d\n%s", code, body)
	}
}

func TestDelete(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	if err := os.Remove(ts.path("content/02-two.md")); err != nil {
		t.Fatal(err)
	}
	s.reloadOf("/two/index.html", "/one/index.html")
	if code, _ := ts.get("/two/"); code != http.StatusNotFound {
		t.Errorf("GET /two/ after delete: %d, want 404", code)
	}
}

func TestRename(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	if err := os.Rename(ts.path("content/02-two.md"), ts.path("content/02-deux.md")); err != nil {
		t.Fatal(err)
	}
	s.reloadOf("/two/index.html", "/deux/index.html")
	if code, _ := ts.get("/two/"); code != http.StatusNotFound {
		t.Errorf("GET /two/ after rename: %d, want 404", code)
	}
	if code, body := ts.get("/deux/"); code != http.StatusOK || !strings.Contains(body, "Original text of page two.") {
		t.Errorf("GET /deux/ after rename: %d", code)
	}
}

func TestAtomicSave(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	// An editor's atomic save: write a temp file, rename it over.
	src := strings.Replace(ts.read("content/01-one.md"), "Original text", "Atomically saved text", 1)
	tmp := ts.path("content/.01-one.md.tmp123")
	if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, ts.path("content/01-one.md")); err != nil {
		t.Fatal(err)
	}
	s.reloadOf("/one/index.html")
	if _, body := ts.get("/one/"); !strings.Contains(body, "Atomically saved text") {
		t.Errorf("served page one is not the saved one")
	}

	// vim with backupcopy=no: probe with "4913", move the original to a
	// backup, write the new file, delete the backup; a swap file is
	// written all along.
	swap := ts.path("content/.01-one.md.swp")
	ts.write("content/.01-one.md.swp", "swap")
	ts.write("content/4913", "")
	os.Remove(ts.path("content/4913"))
	if err := os.Rename(ts.path("content/01-one.md"), ts.path("content/01-one.md~")); err != nil {
		t.Fatal(err)
	}
	ts.write("content/01-one.md", strings.Replace(src, "Atomically saved", "Saved by vim", 1))
	os.Remove(ts.path("content/01-one.md~"))
	os.Remove(swap)
	s.reloadOf("/one/index.html")
	if _, body := ts.get("/one/"); !strings.Contains(body, "Saved by vim text") {
		t.Errorf("served page one is not the one saved by vim")
	}
}

func TestIgnoredFiles(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	before := ts.dev.Builds()
	for _, name := range []string{".01-one.md.swp", "01-one.md~", ".#01-one.md", "4913", "#01-one.md#", "x.swx"} {
		ts.write("content/"+name, "scratch")
	}
	s.quiet(150 * time.Millisecond)
	if got := ts.dev.Builds(); got != before {
		t.Errorf("editor scratch files caused %d builds", got-before)
	}
}

func TestBurst(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	before := ts.dev.Builds()
	orig := ts.read("content/01-one.md")
	// A pause between two writes longer than the quiet time ends a
	// burst, as it should: under load the writer is descheduled now and
	// then. Such pauses are counted, not assumed away.
	start := time.Now()
	last, pauses := start, 0
	for i := range 100 {
		ts.write("content/01-one.md", strings.Replace(orig, "Original text", fmt.Sprintf("Version %d of the text", i), 1))
		now := time.Now()
		if now.Sub(last) > DefaultQuiet {
			pauses++
		}
		last = now
	}
	writing := time.Since(start)
	// Wait for the build that has the last version. A build may read
	// the file between its truncation and its write (os.WriteFile is
	// not atomic) and fail: the error is held back, then superseded.
	seen, served := 0, 0
	for {
		ev := s.next()
		if ev.name != "reload" {
			continue
		}
		var d ReloadData
		if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
			t.Fatalf("reload data %q: %v", ev.data, err)
		}
		seen = d.Build
		if _, body := ts.get("/one/"); strings.Contains(body, "Version 99 of the text") {
			served = ts.dev.current.Load().n
			break
		}
	}
	// The page may come from a later build than the event just read (the
	// request overtook that build's event): its event is not a new build.
	// An error event before it is a torn read's, shown because under load
	// the next build began after the error delay; that build superseded it.
	for seen < served {
		ev := s.next()
		if ev.name == "error" {
			continue
		}
		var d ReloadData
		if err := json.Unmarshal([]byte(ev.data), &d); ev.name != "reload" || err != nil {
			t.Fatalf("event %q %s", ev.name, ev.data)
		}
		seen = d.Build
	}
	// Late file events of the last writes may start builds that change
	// nothing (paths [], which the page ignores); any other event fails.
	for settled := false; !settled; {
		select {
		case ev := <-s.events:
			var d ReloadData
			if err := json.Unmarshal([]byte(ev.data), &d); ev.name != "reload" || err != nil || len(d.Paths) > 0 {
				t.Fatalf("after the last version was served: event %q %s", ev.name, ev.data)
			}
		case <-time.After(100 * time.Millisecond):
			settled = true
		}
	}
	builds := ts.dev.Builds() - before
	// A burst is one build, plus one for each pause and each max wait
	// the writes took (on a quiet machine: 100 writes in ~30 ms, no pause,
	// 1-3 builds), plus the build that was running when the last began.
	most := 2 + pauses + int(writing/DefaultMaxWait)
	if builds < 1 || builds > most {
		t.Errorf("100 writes in %v with %d pauses over %v made %d builds, want at most %d", writing, pauses, DefaultQuiet, builds, most)
	}
	t.Logf("100 writes in %v, %d pauses → %d builds", writing, pauses, builds)
}

func TestBrokenThenFixed(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	good := ts.read("content/02-two.md")
	broken := good + "\nSee [nowhere](99-missing.md).\n"
	ts.write("content/02-two.md", broken)
	d := s.buildError()
	if len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0], "content/02-two.md:11: ") {
		t.Fatalf("errors %q, want one at content/02-two.md:11", d.Errors)
	}
	if d.Build != 1 {
		t.Errorf("error event names build %d, want the last good one, 1", d.Build)
	}
	// The last good site is still served.
	if code, body := ts.get("/two/"); code != http.StatusOK || !strings.Contains(body, "Original text of page two.") {
		t.Errorf("GET /two/ while broken: %d", code)
	}
	// A page opened now gets the error at once.
	late := connect(t, ts.http.URL)
	late.hello()
	if ev := late.next(); ev.name != "error" || !strings.Contains(ev.data, "content/02-two.md:11: ") {
		t.Errorf("late client got %q %s, want the error", ev.name, ev.data)
	}
	// Saving the same mistake again does not print it again.
	ts.write("content/02-two.md", broken+"\n")
	s.buildError()
	if n := strings.Count(ts.errOut.String(), "content/02-two.md:11: "); n != 1 {
		t.Errorf("terminal printed the error %d times, want once:\n%s", n, ts.errOut.String())
	}

	ts.write("content/02-two.md", strings.Replace(good, "Original text", "Fixed text", 1))
	s.reloadOf("/two/index.html")
	if _, body := ts.get("/two/"); !strings.Contains(body, "Fixed text of page two.") {
		t.Errorf("fixed page not served")
	}
	if !strings.Contains(ts.errOut.String(), "build fixed") {
		t.Errorf("terminal does not say the build is fixed:\n%s", ts.errOut.String())
	}
	fresh := connect(t, ts.http.URL)
	fresh.hello()
	fresh.quiet(50 * time.Millisecond)
}

func TestBrokenAtStart(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, os.DirFS("testdata/content"), dir)
	if err := os.WriteFile(filepath.Join(dir, "02-two.md"), []byte("---\ntitle: [oops\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := newTestSite(t, os.DirFS(dir), nil)
	code, body := ts.get("/one/")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "content/02-two.md:") || !strings.Contains(body, ScriptPath) {
		t.Fatalf("GET /one/ before any good build: %d\n%s", code, body)
	}
	if code, _ := ts.get(ScriptPath); code != http.StatusOK {
		t.Errorf("reload script not served before the first good build: %d", code)
	}
	s := connect(t, ts.http.URL)
	if h := s.hello(); h.Build != 0 {
		t.Errorf("hello build %d, want 0", h.Build)
	}
	if ev := s.next(); ev.name != "error" {
		t.Fatalf("got %q, want the error", ev.name)
	}
	ts.write("content/02-two.md", "---\ntitle: Two\norder: 2\nsummary: s\n---\n\nNow fine.\n")
	s.reloadOf("/two/index.html", "/one/index.html")
	if code, _ := ts.get("/one/"); code != http.StatusOK {
		t.Errorf("GET /one/ after the fix: %d", code)
	}
}

func TestStaticAssetChangeReloadsEveryPage(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	_, body := ts.get("/one/")
	ts.write("static/site.css", ts.read("static/site.css")+"\n.new-rule { color: red }\n")
	d := s.reloadOf("/one/index.html", "/two/index.html", "/index.html")
	var css string
	for _, p := range d.Paths {
		if strings.HasSuffix(p, ".css") && strings.HasPrefix(p, "/assets/") && !strings.Contains(body, p) {
			css = p
		}
	}
	if css == "" {
		t.Fatalf("no new stylesheet among %v", d.Paths)
	}
	if _, got := ts.get(css); !strings.Contains(got, ".new-rule") {
		t.Errorf("new stylesheet lacks the new rule")
	}
}

func TestNewSubfolderIsWatched(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	sub := ts.path("content/img/deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	s.reload(func(ReloadData) bool { return true })
	deadline := time.Now().Add(eventWait)
	for !ts.dev.watching(sub) {
		if time.Now().After(deadline) {
			t.Fatalf("%s is not watched", sub)
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := ts.dev.Builds()
	if err := os.WriteFile(filepath.Join(sub, "pic.svg"), []byte("<svg/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.reload(func(ReloadData) bool { return true })
	if ts.dev.Builds() == before {
		t.Errorf("a write in a new subfolder did not rebuild")
	}
	if err := os.RemoveAll(ts.path("content/img")); err != nil {
		t.Fatal(err)
	}
	s.reload(func(ReloadData) bool { return true })
	deadline = time.Now().Add(eventWait)
	for ts.dev.watching(sub) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still watched after removal", sub)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNewSnippets(t *testing.T) {
	old := &site.Site{Snippets: []snippet.Snippet{{Code: "a"}, {Code: "b"}}}
	cur := &site.Site{Snippets: []snippet.Snippet{{Code: "a"}, {Code: "c"}, {Code: "c"}}}
	if got := snippetCodes(newSnippets(old, cur)); !slices.Equal(got, []string{"c"}) {
		t.Errorf("newSnippets = %q, want [c]", got)
	}
	if got := snippetCodes(newSnippets(nil, cur)); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("newSnippets(nil) = %q, want [a c]", got)
	}
}

// snippetCodes is the code of each snippet.
func snippetCodes(sns []snippet.Snippet) []string {
	var codes []string
	for _, sn := range sns {
		codes = append(codes, sn.Code)
	}
	return codes
}

func TestOnBuildGetsEditedSnippet(t *testing.T) {
	warmed := make(chan []string, 16)
	ts := newTestSite(t, nil, func(c *Config) {
		c.OnBuild = func(old, cur *site.Site) {
			if old != nil {
				warmed <- snippetCodes(newSnippets(old, cur))
			}
		}
	})
	ts.write("content/01-one.md", strings.Replace(ts.read("content/01-one.md"), `fmt.Println("hello")`, `fmt.Println("hello, edited")`, 1))
	select {
	case codes := <-warmed:
		if len(codes) != 1 || !strings.Contains(codes[0], "hello, edited") {
			t.Errorf("snippets to warm %q, want the edited one", codes)
		}
	case <-time.After(eventWait):
		t.Fatal("no build")
	}
}

// TestBuildHasNoReloadMachinery: a site built for publishing, as
// `playdoc build` configures it, carries nothing of live reload.
func TestBuildHasNoReloadMachinery(t *testing.T) {
	s, err := site.New(site.Config{
		Content:     os.DirFS("testdata/content"),
		ContentName: "content",
		Static:      os.DirFS("../templates/static"),
	}).Build(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for p, f := range s.Files {
		if strings.Contains(p, "_playdoc") || strings.Contains(string(f.Body), "_playdoc") || strings.Contains(string(f.Body), "data-livereload") {
			t.Errorf("%s of a publishing build refers to live reload", p)
		}
	}
}

func TestContinuousWritesDoNotStarve(t *testing.T) {
	ts := newTestSite(t, nil, func(c *Config) { c.Quiet, c.MaxWait = 50*time.Millisecond, 150*time.Millisecond })
	s := connect(t, ts.http.URL)
	s.hello()
	orig := ts.read("content/01-one.md")
	// Writes every 10 ms, never quiet for the 50 ms window, for 1 s:
	// the max wait must still let builds through while they go on.
	stop := time.Now().Add(time.Second)
	for i := 0; time.Now().Before(stop); i++ {
		ts.write("content/01-one.md", strings.Replace(orig, "Original text", fmt.Sprintf("Version %d of the text", i), 1))
		time.Sleep(10 * time.Millisecond)
	}
	during := 0
	for len(s.events) > 0 {
		if ev := s.next(); ev.name == "reload" {
			during++
		}
	}
	if during < 2 {
		t.Errorf("%d reloads during 1 s of writes every 10 ms, want several (max wait 150 ms)", during)
	}
}
