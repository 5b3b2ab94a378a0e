package devserver

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"playdoc/internal/txtarfs"
)

// pngOf is a PNG image of w×h pixels.
func pngOf(t *testing.T, w, h int) string {
	t.Helper()
	b, err := txtarfs.PNG(w, h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAuthorErrorsInOverlay checks that the mistakes of issue 11 reach the
// pages' error overlay (and the terminal) as file:line lines: broken links
// in their URL spellings, a missing image, CSP-breaking raw HTML.
func TestAuthorErrorsInOverlay(t *testing.T) {
	ts := newTestSite(t, nil, nil)
	s := connect(t, ts.http.URL)
	s.hello()
	good := ts.read("content/02-two.md")
	lines := strings.Count(good, "\n")
	ts.write("content/02-two.md", good+"\n[a](/no-such-page/) [b](../no-such/)\n[c](/one/#no-such-heading)\n\n![d](img/nothere.png)\n\n<span style=\"color: red\">e</span>\n")
	d := s.buildError()
	want := []string{
		ts.lineOf(lines+2, `broken link "../no-such/": no page at /no-such/ (the link is relative to the page's URL /two/)`),
		ts.lineOf(lines+2, `broken link "/no-such-page/": no page at /no-such-page/`),
		ts.lineOf(lines+3, `broken link "/one/#no-such-heading": 01-one.md has no heading or snippet with id "no-such-heading"`),
		ts.lineOf(lines+5, `broken image "img/nothere.png": no file content/img/nothere.png`),
		ts.lineOf(lines+7, `raw HTML style= attribute on <span> is not allowed: the site's Content-Security-Policy blocks inline styles; use a class and site.css`),
	}
	if !slices.Equal(d.Errors, want) {
		t.Errorf("overlay errors:\n%s\nwant:\n%s", strings.Join(d.Errors, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range want {
		if !strings.Contains(ts.errOut.String(), w) {
			t.Errorf("terminal lacks %q", w)
		}
	}
}

// lineOf is an error line of page two.
func (ts *testSite) lineOf(line int, msg string) string {
	return "content/02-two.md:" + strconv.Itoa(line) + ": " + msg
}

// TestImageEditReloadsPagesShowingIt checks that saving an image beside
// the pages reloads the pages that show it, and only those: the image is
// published under a new fingerprinted name, which changes their HTML.
func TestImageEditReloadsPagesShowingIt(t *testing.T) {
	content := fstest.MapFS{}
	for _, name := range []string{"01-one.md", "02-two.md"} {
		data, err := os.ReadFile("testdata/content/" + name)
		if err != nil {
			t.Fatal(err)
		}
		content[name] = &fstest.MapFile{Data: data}
	}
	content["01-one.md"].Data = append(content["01-one.md"].Data, "\n![A diagram](img/diagram.png)\n"...)
	content["img/diagram.png"] = &fstest.MapFile{Data: []byte(pngOf(t, 40, 30))}
	ts := newTestSite(t, content, nil)
	if _, body := ts.get("/one/"); !strings.Contains(body, `width="40" height="30"`) {
		t.Fatalf("page one does not show the 40×30 image:\n%s", body)
	}
	s := connect(t, ts.http.URL)
	s.hello()
	ts.write("content/img/diagram.png", pngOf(t, 80, 60))
	d := s.reloadOf("/one/index.html")
	if slices.Contains(d.Paths, "/two/index.html") {
		t.Errorf("editing page one's image reloads page two: %v", d.Paths)
	}
	_, body := ts.get("/one/")
	if !strings.Contains(body, `width="80" height="60"`) {
		t.Errorf("page one does not show the edited image's size")
	}
	var img string
	for _, p := range d.Paths {
		if strings.HasPrefix(p, "/assets/diagram.") && strings.Contains(body, p) {
			img = p
		}
	}
	if img == "" {
		t.Fatalf("no new image among the changed paths %v", d.Paths)
	}
	if code, got := ts.get(img); code != 200 || got != pngOf(t, 80, 60) {
		t.Errorf("GET %s: %d, not the edited image", img, code)
	}
}
