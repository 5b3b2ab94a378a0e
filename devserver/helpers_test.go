package devserver

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"playdoc/internal/testenv"
	"playdoc/site"
)

// eventWait bounds how long a test waits for an event: generous, since
// the machine is shared; the benchmarks measure the speed.
const eventWait = 10 * time.Second

// testSite is a dev server running on a temporary copy of a site.
type testSite struct {
	t       testing.TB
	content string // the content folder
	static  string // the static folder
	dev     *Server
	http    *httptest.Server
	errOut  *testenv.SyncBuffer // what the terminal would print
}

// copyDir copies the files of the folder src (an fs.FS) into dst.
func copyDir(t testing.TB, src fs.FS, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, src); err != nil {
		t.Fatalf("copy site: %v", err)
	}
}

// newTestSite copies the fixture content (or contentSrc) and the real
// static assets to a temporary folder, starts a dev server watching them
// and waits for its first build.
func newTestSite(t testing.TB, contentSrc fs.FS, mutate func(*Config)) *testSite {
	t.Helper()
	dir := t.TempDir()
	ts := &testSite{
		t:       t,
		content: filepath.Join(dir, "content"),
		static:  filepath.Join(dir, "static"),
		errOut:  &testenv.SyncBuffer{},
	}
	if contentSrc == nil {
		contentSrc = os.DirFS("testdata/content")
	}
	copyDir(t, contentSrc, ts.content)
	copyDir(t, os.DirFS("../templates/static"), ts.static)
	cfg := Config{
		Site: site.Config{
			ContentName: "content",
			BaseURL:     "http://127.0.0.1",
		},
		ContentDir: ts.content,
		StaticDir:  ts.static,
		Errors:     ts.errOut,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	ts.dev = New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.dev.Run(ctx) }()
	ts.http = httptest.NewServer(ts.dev.Handler())
	t.Cleanup(func() {
		ts.dev.Close()
		ts.http.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	// The first build highlights every code block: long for a big site.
	deadline := time.Now().Add(5 * time.Minute)
	for ts.dev.Builds() == 0 || (ts.dev.Site() == nil && ts.errOut.String() == "") {
		if time.Now().After(deadline) {
			t.Fatal("no first build")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ts
}

// write replaces a file of the site (path relative to the temp folder,
// e.g. "content/01-one.md").
func (ts *testSite) write(rel, data string) {
	ts.t.Helper()
	if err := os.WriteFile(ts.path(rel), []byte(data), 0o644); err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testSite) read(rel string) string {
	ts.t.Helper()
	b, err := os.ReadFile(ts.path(rel))
	if err != nil {
		ts.t.Fatal(err)
	}
	return string(b)
}

func (ts *testSite) path(rel string) string {
	return filepath.Join(filepath.Dir(ts.content), filepath.FromSlash(rel))
}

// get fetches a URL path and returns the status and body.
func (ts *testSite) get(urlPath string) (int, string) {
	ts.t.Helper()
	res, err := http.Get(ts.http.URL + urlPath)
	if err != nil {
		ts.t.Fatalf("GET %s: %v", urlPath, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatalf("GET %s: %v", urlPath, err)
	}
	return res.StatusCode, string(b)
}

// sseEvent is one event read from the stream.
type sseEvent struct {
	name string
	data string
	at   time.Time // when its last line was read
}

// stream is a live connection to /_playdoc/events.
type stream struct {
	t      testing.TB
	events chan sseEvent
	pings  chan struct{}
	cancel context.CancelFunc
	header http.Header
	lastAt time.Time // when the event next returned last was read
}

// connect opens the event stream and reads it in the background.
func connect(t testing.TB, base string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+EventsPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("connect to events: %v", err)
	}
	s := &stream{t: t, events: make(chan sseEvent, 1024), pings: make(chan struct{}, 16), cancel: cancel, header: res.Header}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ev.at = time.Now()
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				select {
				case s.pings <- struct{}{}:
				default:
				}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(cancel)
	return s
}

// next returns the next event, failing the test after eventWait.
func (s *stream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("event stream ended")
		}
		s.lastAt = ev.at
		return ev
	case <-time.After(eventWait):
		s.t.Fatal("no event within the wait")
	}
	return sseEvent{}
}

// hello reads the greeting every stream starts with.
func (s *stream) hello() HelloData {
	s.t.Helper()
	ev := s.next()
	if ev.name != "hello" {
		s.t.Fatalf("first event %q %s, want hello", ev.name, ev.data)
	}
	var h HelloData
	if err := json.Unmarshal([]byte(ev.data), &h); err != nil {
		s.t.Fatalf("hello data %q: %v", ev.data, err)
	}
	return h
}

// reload waits for a reload event whose paths satisfy ok (skipping the
// reloads of intermediate builds) and returns it; an error event fails.
func (s *stream) reload(ok func(ReloadData) bool) ReloadData {
	s.t.Helper()
	for {
		ev := s.next()
		switch ev.name {
		case "reload":
			var d ReloadData
			if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
				s.t.Fatalf("reload data %q: %v", ev.data, err)
			}
			if ok(d) {
				return d
			}
		case "error":
			s.t.Fatalf("unexpected error event: %s", ev.data)
		default:
			s.t.Fatalf("unexpected event %q: %s", ev.name, ev.data)
		}
	}
}

// reloadOf waits for a reload event listing every one of paths.
func (s *stream) reloadOf(paths ...string) ReloadData {
	s.t.Helper()
	return s.reload(func(d ReloadData) bool {
		for _, p := range paths {
			if !slices.Contains(d.Paths, p) {
				return false
			}
		}
		return true
	})
}

// buildError waits for the next error event.
func (s *stream) buildError() ErrorData {
	s.t.Helper()
	for {
		ev := s.next()
		switch ev.name {
		case "error":
			var d ErrorData
			if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
				s.t.Fatalf("error data %q: %v", ev.data, err)
			}
			return d
		case "reload":
			// An intermediate build (e.g. of an editor's temp
			// file) may come first.
			continue
		default:
			s.t.Fatalf("unexpected event %q: %s", ev.name, ev.data)
		}
	}
}

// quiet asserts that no event arrives within d.
func (s *stream) quiet(d time.Duration) {
	s.t.Helper()
	select {
	case ev := <-s.events:
		s.t.Fatalf("unexpected event %q: %s", ev.name, ev.data)
	case <-time.After(d):
	}
}

// watching reports whether the running watcher watches dir.
func (s *Server) watching(dir string) bool {
	w := s.watch.Load()
	return w != nil && slices.Contains(w.fs.WatchList(), dir)
}
