package site

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLastUpdated: front matter's lastmod wins over the date source, a page
// the source does not know has no date, and both the page footer and the
// sitemap show it.
func TestLastUpdated(t *testing.T) {
	cfg := fixtureConfig()
	cfg.BaseURL = "https://docs.example.org"
	cfg.Content = archive(t, "lastmod", "dates")
	cfg.Dates = func(_ context.Context, files []string) (map[string]time.Time, error) {
		if len(files) != 3 {
			t.Errorf("dates asked for %v, want the 3 pages", files)
		}
		return map[string]time.Time{
			"01-a.md": time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC),
			"02-b.md": time.Date(2025, 12, 24, 18, 0, 0, 0, time.UTC),
		}, nil
	}
	s, err := New(cfg).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/a/index.html": `Last updated <time datetime="2024-02-03T00:00:00Z">3 February 2024</time>`,
		"/b/index.html": `Last updated <time datetime="2025-12-24T18:00:00Z">24 December 2025</time>`,
	} {
		if got := string(s.Files[path].Body); !strings.Contains(got, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	if got := string(s.Files["/c/index.html"].Body); strings.Contains(got, "Last updated") {
		t.Errorf("/c/ has a date the source did not give")
	}
	sm := string(s.Files["/sitemap.xml"].Body)
	for _, want := range []string{
		"<url><loc>https://docs.example.org/</loc><lastmod>2025-12-24T18:00:00Z</lastmod></url>",
		"<url><loc>https://docs.example.org/a/</loc><lastmod>2024-02-03T00:00:00Z</lastmod></url>",
		"<url><loc>https://docs.example.org/c/</loc></url>",
	} {
		if !strings.Contains(sm, want) {
			t.Errorf("sitemap lacks %q:\n%s", want, sm)
		}
	}
	checkSiteHTML(t, s)
}

func TestLastmodFrontMatterErrors(t *testing.T) {
	cfg := fixtureConfig()
	bad := archive(t, "lastmod", "bad")
	cfg.Content = bad
	_, err := New(cfg).Build(context.Background())
	at := fmt.Sprintf("content/01-a.md:%d", lineOf(t, bad, "01-a.md", "lastmod: yesterday"))
	if err == nil || !strings.Contains(err.Error(), at+`: front matter "lastmod": invalid lastmod "yesterday"`) {
		t.Fatalf("err = %v, want one at %s", err, at)
	}
}

// TestGitDates: in a repository, a committed file gets its last commit's
// date (one git log for all), an untracked one its modification time.
func TestGitDates(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed (apt-get install git)")
	}
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(content, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(date string) {
		t.Helper()
		run(nil, "add", "-A")
		env := []string{"GIT_COMMITTER_DATE=" + date, "GIT_AUTHOR_DATE=" + date,
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org"}
		run(env, "commit", "-q", "-m", "c")
	}
	run(nil, "init", "-q")
	write("01-a.md", "a")
	write("guide/02-b.md", "b")
	commit("2024-01-02T03:04:05Z")
	write("guide/02-b.md", "b2")
	commit("2025-06-07T08:09:10Z")
	write("03-new.md", "new")
	mtime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(content, "03-new.md"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	check := func(step string, src DateSource, want map[string]string) {
		t.Helper()
		dates, err := src(context.Background(), []string{"01-a.md", "guide/02-b.md", "03-new.md"})
		if err != nil {
			t.Fatal(err)
		}
		for f, w := range want {
			if got := dates[f].Format(time.RFC3339); got != w {
				t.Errorf("%s: %s: %s, want %s", step, f, got, w)
			}
		}
	}
	want := map[string]string{
		"01-a.md":       "2024-01-02T03:04:05Z",
		"guide/02-b.md": "2025-06-07T08:09:10Z",
		"03-new.md":     "2026-03-04T05:06:07Z",
	}
	check("no cache", GitDates(content), want)

	// With a cache file, the log's dates are read from it while HEAD stays
	// the same commit (altered here, to tell), and from git again after a
	// commit or when the file is damaged.
	cacheFile := filepath.Join(dir, "cache", "git-dates.json")
	check("cache written", GitDatesCached(content, cacheFile), want)
	data, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	altered := strings.Replace(string(data), "2024-01-02T03:04:05Z", "2000-01-01T00:00:00Z", 1)
	if altered == string(data) {
		t.Fatalf("the cache file does not hold 01-a.md's date: %s", data)
	}
	if err := os.WriteFile(cacheFile, []byte(altered), 0o644); err != nil {
		t.Fatal(err)
	}
	check("cache read", GitDatesCached(content, cacheFile), map[string]string{"01-a.md": "2000-01-01T00:00:00Z"})
	write("01-a.md", "a2")
	commit("2026-01-01T00:00:00Z")
	now := map[string]string{"01-a.md": "2026-01-01T00:00:00Z", "guide/02-b.md": "2025-06-07T08:09:10Z", "03-new.md": "2026-01-01T00:00:00Z"}
	check("after a commit", GitDatesCached(content, cacheFile), now)
	if err := os.WriteFile(cacheFile, []byte(`{"Dir":`), 0o644); err != nil {
		t.Fatal(err)
	}
	check("damaged cache", GitDatesCached(content, cacheFile), now)

	// A shallow clone's log stops at its boundary; `git fetch --unshallow`
	// brings the rest without moving HEAD, and the cache must see it. The
	// boundary is written by hand here: HEAD's parents are hidden, so the
	// older files' dates are the last commit's.
	shallow := filepath.Join(dir, ".git", "shallow")
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shallow, out, 0o644); err != nil {
		t.Fatal(err)
	}
	check("shallow", GitDatesCached(content, cacheFile), map[string]string{"guide/02-b.md": "2026-01-01T00:00:00Z"})
	if err := os.Remove(shallow); err != nil {
		t.Fatal(err)
	}
	check("unshallowed", GitDatesCached(content, cacheFile), now)
}
