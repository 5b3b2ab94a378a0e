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
	dir := t.TempDir()
	content, static := filepath.Join(dir, "content"), filepath.Join(dir, "static")
	if err := os.CopyFS(content, os.DirFS("../../content")); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(static, os.DirFS("../../templates/static")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--content", content, "--static", static,
			"--no-playground", "--cache", filepath.Join(dir, "cache")}, w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL printed: %v", err)
	}
	go io.Copy(io.Discard, out)
	base := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(line, "playdoc serve: ")), "/")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("printed %q, want the URL", line)
	}

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
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d after Ctrl-C, want 0", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not end within 10 s of Ctrl-C")
	}
	// The site stays in memory: nothing is written where serve runs.
	for _, d := range []string{"public", filepath.Join(dir, "public")} {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("serve wrote %s", d)
		}
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
