package devserver

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"playdoc/config"
	"playdoc/site"
)

// TestConfigEditRebuilds edits playdoc.toml under a running server: a good
// edit rebuilds every page with it; a broken one shows its file:line in the
// overlay and keeps the last good site; fixing it rebuilds again.
func TestConfigEditRebuilds(t *testing.T) {
	var file string
	ts := newTestSite(t, nil, func(c *Config) {
		file = filepath.Join(filepath.Dir(c.ContentDir), config.FileName)
		writeFile(t, file, "title = \"First Title\"\n")
		c.Site.SiteTitle = "First Title"
		c.ConfigFile = file
		c.Reload = func() (site.Config, error) {
			sc, err := config.Load(file)
			if err != nil {
				return site.Config{}, err
			}
			return site.Config{ContentName: "content", BaseURL: "http://127.0.0.1", SiteTitle: sc.Title, Footer: sc.Footer}, nil
		}
	})
	if _, body := ts.get("/one/"); !strings.Contains(body, "First Title") {
		t.Fatalf("first build lacks the configured title")
	}
	s := connect(t, ts.http.URL)
	s.hello()

	ts.write(config.FileName, "title = \"Second Title\"\nfooter = \"Footer from the file\"\n")
	s.reloadOf("/one/index.html", "/two/index.html")
	_, body := ts.get("/two/")
	if !strings.Contains(body, "Second Title") || strings.Contains(body, "First Title") || !strings.Contains(body, "Footer from the file") {
		t.Fatalf("after the config edit, /two/ does not show the new title and footer:\n%s", body)
	}

	// An unknown key on line 3: the overlay names the file and line.
	ts.write(config.FileName, "title = \"Third Title\"\n\ncolour = \"red\"\n")
	d := s.buildError()
	if len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0], file+":3: ") || !strings.Contains(d.Errors[0], "colour") {
		t.Fatalf("errors %q, want one at %s:3 about colour", d.Errors, file)
	}
	if code, body := ts.get("/two/"); code != http.StatusOK || !strings.Contains(body, "Second Title") {
		t.Errorf("while the config is broken, /two/ is not the last good site: %d", code)
	}
	// A content edit while the config is broken does not hide it.
	ts.write("content/02-two.md", strings.Replace(ts.read("content/02-two.md"), "Original text", "Edited text", 1))
	if d := s.buildError(); !strings.Contains(d.Errors[0], "colour") {
		t.Errorf("content edit over a broken config: errors %q, want the config's still", d.Errors)
	}

	ts.write(config.FileName, "title = \"Fourth Title\"\n")
	s.reloadOf("/two/index.html")
	if _, body := ts.get("/two/"); !strings.Contains(body, "Fourth Title") || !strings.Contains(body, "Edited text") {
		t.Errorf("after the fix, /two/ lacks the fixed title or the content edit")
	}
}

// TestOtherFilesBesideConfigIgnored: the configuration's folder is watched
// for the file alone; other files there never rebuild.
func TestOtherFilesBesideConfigIgnored(t *testing.T) {
	ts := newTestSite(t, nil, func(c *Config) {
		c.ConfigFile = filepath.Join(filepath.Dir(c.ContentDir), config.FileName)
		c.Reload = func() (site.Config, error) { return c.Site, nil }
	})
	s := connect(t, ts.http.URL)
	s.hello()
	before := ts.dev.Builds()
	ts.write("notes.txt", "scratch")
	s.quiet(300 * time.Millisecond)
	if n := ts.dev.Builds(); n != before {
		t.Errorf("a file beside the config caused %d builds", n-before)
	}
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
