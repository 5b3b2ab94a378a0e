package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe runs `playdoc serve` on a copy of the tutorial, without the
// playground: it prints its URL, serves the pages with the reload script
// and the event stream, and ends cleanly when its context ends (Ctrl-C).
func TestServe(t *testing.T) {
	srv := startServe(t, "--no-playground")
	base := srv.base
	body := getOK(t, base+"/asyncio/gather/", 60*time.Second)
	if !strings.Contains(body, `<script src="/_playdoc/reload.js" defer>`) {
		t.Errorf("served page lacks the reload script")
	}
	if js := getOK(t, base+"/_playdoc/reload.js", time.Second); !strings.Contains(js, "EventSource") {
		t.Errorf("reload.js is not the live-reload client")
	}
	res, err := http.Get(base + "/api/run")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/run with --no-playground: %s, want 404", res.Status)
	}

	// An open event stream must not hold the shutdown up.
	req, _ := http.NewRequest(http.MethodGet, base+"/_playdoc/events", nil)
	ev, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Body.Close()
	if ct := ev.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("events Content-Type %q", ct)
	}
	srv.stop(t)
	// The site stays in memory: nothing is written where serve runs.
	for _, d := range []string{"public", filepath.Join(srv.dir, "public")} {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("serve wrote %s", d)
		}
	}
}

// servedTutorial is a `playdoc serve` of a copy of the tutorial, run in
// the test's process.
type servedTutorial struct {
	base    string // http://127.0.0.1:PORT, no trailing slash
	dir     string // holds content/, static/ and cache/
	cancel  context.CancelFunc
	code    chan int // serve's exit code, once it has ended
	stopped bool
}

// startServe runs `playdoc serve` on a copy of the tutorial with extra
// flags, and waits for it to print its URL. It is stopped when the test
// ends, if the test has not stopped it.
func startServe(t *testing.T, flags ...string) *servedTutorial {
	t.Helper()
	dir := t.TempDir()
	content, static := filepath.Join(dir, "content"), filepath.Join(dir, "static")
	if err := os.CopyFS(content, os.DirFS("../../content")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(static, os.DirFS("../../templates/static")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &servedTutorial{dir: dir, cancel: cancel, code: make(chan int, 1)}
	out, w := io.Pipe()
	go func() {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--content", content, "--static", static,
			"--cache", filepath.Join(dir, "cache")}, flags...)
		s.code <- run(ctx, args, w, io.Discard)
		w.Close()
	}()
	t.Cleanup(func() { s.stop(t) })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL printed: %v", err)
	}
	go io.Copy(io.Discard, out)
	s.base = strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "playdoc serve: ")), "/")
	if !strings.HasPrefix(s.base, "http://127.0.0.1:") {
		t.Fatalf("printed %q, want the URL", line)
	}
	return s
}

// stop ends serve as Ctrl-C does and fails the test unless it exits 0
// within 10 s.
func (s *servedTutorial) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	s.cancel()
	select {
	case c := <-s.code:
		if c != 0 {
			t.Errorf("exit code %d after Ctrl-C, want 0", c)
		}
	case <-time.After(10 * time.Second):
		t.Error("serve did not end within 10 s of Ctrl-C")
	}
}

// getOK fetches url until it answers 200 (the first build may be under
// way) and returns the body.
func getOK(t *testing.T, url string, wait time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		res, err := http.Get(url)
		if err == nil {
			b, rerr := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK && rerr == nil {
				return string(b)
			}
			err = rerr
			if err == nil {
				err = errors.New(res.Status)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
